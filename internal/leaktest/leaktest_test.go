package leaktest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	token = "11a2b3c4d5e6f708192a3b4c5d6e7f80"
	// jwt is a JWT-shaped string (not a valid signature: the shape is
	// what matters).
	jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJqb2IiLCJhdWQiOiJjbG91ZHNtaXRoIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)

func basic(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func TestFind(t *testing.T) {
	wrapped := base64.StdEncoding.EncodeToString([]byte("token=" + jwt))
	wrapped = wrapped[:40] + "\n" + wrapped[40:]
	tests := []struct {
		name    string
		text    string
		secrets []string
		want    []string // forms found, in any order; nil for none
	}{
		{"clean", "plan: 1 to create\nhttp://127.0.0.1:8080/job/x/", []string{token}, nil},
		{"verbatim", "token " + token + " used", []string{token}, []string{"verbatim"}},
		{"basic auth header", "Authorization: " + basic("admin", token), []string{token}, []string{"base64", "inside Base64"}},
		{"url-escaped", "GET /x?k=" + url.QueryEscape("a/b+c="+token), []string{"a/b+c=" + token}, []string{"url-escaped"}},
		{"jwt signature alone", "sig " + strings.Split(jwt, ".")[2], []string{jwt}, []string{"jwt signature"}},
		{"unknown jwt", "Bearer " + jwt, nil, []string{"jwt-shaped"}},
		{"known jwt", "Bearer " + jwt, []string{jwt}, []string{"verbatim", "jwt signature"}},
		{"wrapped base64 jwt", wrapped, nil, []string{"jwt inside Base64"}},
		{"short secret verbatim only", "abc " + base64.StdEncoding.EncodeToString([]byte("abc")), []string{"abc"}, []string{"verbatim"}},
		{"empty secret", "anything", []string{""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, l := range Find(tt.text, tt.secrets...) {
				got[l.Form] = true
				if strings.Contains(l.String(), token) || strings.Contains(l.String(), jwt) {
					t.Errorf("the report repeats the secret: %s", l)
				}
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("form %q not found; found %v", w, got)
				}
				delete(got, w)
			}
			if tt.want == nil && len(got) > 0 {
				t.Errorf("found %v in clean text", got)
			}
		})
	}
}

func TestPrivateKeyForms(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	forms := PrivateKeyForms(key)
	if len(Find(pemText, forms...)) == 0 {
		t.Error("a PEM private key is not found")
	}
	if l := Find(pubPEM, forms...); len(l) != 0 {
		t.Errorf("the public key is reported as a leak: %v", l)
	}
}

// recorder is a testing.TB that keeps the failures reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestScanReportsWithoutRepeating(t *testing.T) {
	r := &recorder{TB: t}
	Scan(r, "curl -H 'Authorization: "+basic("admin", token)+"' https://j.example/", token)
	if len(r.errs) == 0 {
		t.Fatal("a Basic header holding the token passed the scan")
	}
	for _, e := range r.errs {
		if strings.Contains(e, token) {
			t.Errorf("the failure repeats the secret: %s", e)
		}
	}
	r.errs = nil
	Scan(r, "all clean", token)
	if len(r.errs) != 0 {
		t.Errorf("clean output failed: %v", r.errs)
	}
}
