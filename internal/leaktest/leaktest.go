// Package leaktest lets any test assert that secrets did not escape into
// what a person or a log can read: command output, files, request logs.
//
// A secret rarely leaks verbatim only. It leaks Base64-encoded (inside an
// Authorization: Basic header someone printed, or a PEM body), URL-escaped
// (in a query string or an error that quotes a URL), or, for tokens, as a
// JWT whose signature alone is enough to recognise it. Find looks for all of
// those forms, and for anything JWT-shaped at all, since the tokens a build
// mints are never known to the test that runs it.
//
// Reports name the secret by its position and the form found, never the
// secret itself, so a failing test does not leak it into CI logs.
package leaktest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// MinLen is the shortest secret searched for in encoded forms: below it,
// an encoding matches ordinary text by chance.
const MinLen = 8

// Leak is one find. It describes where and what, without the secret.
type Leak struct {
	// Secret is the index of the secret in the list given to Find, or -1
	// for a JWT-shaped string no secret accounts for.
	Secret int
	// Form says how the secret appeared: "verbatim", "base64", "base64url",
	// "url-escaped", "jwt signature", "inside Base64", "jwt-shaped", "jwt
	// inside Base64".
	Form string
	// Offset is the byte offset of the find in the scanned text.
	Offset int
}

func (l Leak) String() string {
	if l.Secret < 0 {
		return fmt.Sprintf("a JWT-shaped string (an ID token or Cloudsmith token, %s) at byte %d", l.Form, l.Offset)
	}
	return fmt.Sprintf("secret #%d (%s) at byte %d", l.Secret, l.Form, l.Offset)
}

// Forms returns the strings that betray secret: the secret itself, its
// URL escapings, its Base64 encodings at each of the three byte alignments
// (so that "user:secret" encoded whole is caught too), and, for a JWT, its
// signature. Each comes with the name of its form. Empty secrets have none;
// secrets shorter than MinLen only their verbatim form.
func Forms(secret string) map[string]string {
	out := map[string]string{}
	if secret == "" {
		return out
	}
	out[secret] = "verbatim"
	if len(secret) < MinLen {
		return out
	}
	for _, e := range []string{url.QueryEscape(secret), url.PathEscape(secret)} {
		if _, ok := out[e]; !ok {
			out[e] = "url-escaped"
		}
	}
	encs := []struct {
		name string
		enc  *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}}
	for _, e := range encs {
		for shift := 0; shift < 3; shift++ {
			s := e.enc.EncodeToString([]byte(strings.Repeat("\x00", shift) + secret))
			// Drop the quantum the padding bytes touch and the last one,
			// which depends on what follows the secret.
			if shift > 0 {
				s = s[4:]
			}
			s = strings.TrimRight(s, "=")
			if len(s) > 4 {
				s = s[:len(s)-4]
			}
			if len(s) >= MinLen {
				if _, ok := out[s]; !ok {
					out[s] = e.name
				}
			}
		}
	}
	if parts := strings.Split(secret, "."); len(parts) == 3 && len(parts[2]) >= MinLen {
		out[parts[2]] = "jwt signature"
	}
	return out
}

// Find returns every leak of secrets in text, and every JWT-shaped string.
func Find(text string, secrets ...string) []Leak {
	var leaks []Leak
	claimed := map[int]bool{} // offsets of JWT-shaped strings a secret explains
	for i, s := range secrets {
		for form, name := range Forms(s) {
			for off := 0; ; {
				j := strings.Index(text[off:], form)
				if j < 0 {
					break
				}
				leaks = append(leaks, Leak{Secret: i, Form: name, Offset: off + j})
				claimed[off+j] = true
				off += j + 1
			}
		}
	}
	for _, m := range redact.JWTShape.FindAllStringIndex(text, -1) {
		if !claimed[m[0]] {
			leaks = append(leaks, Leak{Secret: -1, Form: "jwt-shaped", Offset: m[0]})
		}
	}
	return append(leaks, findEncoded(text, secrets)...)
}

// base64Run matches Base64 text, line-wrapped or not (base64(1) wraps at
// 76 columns, PEM at 64).
var base64Run = regexp.MustCompile(`(?:[A-Za-z0-9+/_-]{4,}={0,2}(?:\r?\n)?){2,}`)

// findEncoded decodes every long Base64 run, at each of the four
// alignments it may start at and in both alphabets, and reports a secret
// or a JWT inside: that catches "Authorization: Basic" headers and wrapped
// encodings the fixed forms of Forms miss.
func findEncoded(text string, secrets []string) []Leak {
	var leaks []Leak
	for _, m := range base64Run.FindAllStringIndex(text, -1) {
		run := strings.NewReplacer("\r", "", "\n", "", "=", "").Replace(text[m[0]:m[1]])
		if len(run) < 2*MinLen {
			continue
		}
		found := map[int]bool{}
		for off := 0; off < 4 && off < len(run); off++ {
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				chunk := run[off:]
				if len(chunk)%4 == 1 { // a lone trailing character encodes no byte
					chunk = chunk[:len(chunk)-1]
				}
				dec, err := enc.DecodeString(chunk)
				if err != nil {
					continue
				}
				for i, s := range secrets {
					if len(s) >= MinLen && !found[i] && strings.Contains(string(dec), s) {
						found[i] = true
						leaks = append(leaks, Leak{Secret: i, Form: "inside Base64", Offset: m[0]})
					}
				}
				if !found[-1] && redact.JWTShape.MatchString(string(dec)) {
					found[-1] = true
					leaks = append(leaks, Leak{Secret: -1, Form: "jwt inside Base64", Offset: m[0]})
				}
			}
		}
	}
	return leaks
}

// Scan fails t for every leak of secrets (in any form Forms lists) or JWT
// in output.
func Scan(t testing.TB, output string, secrets ...string) {
	t.Helper()
	ScanIn(t, "the output", output, secrets...)
}

// ScanIn is Scan with where naming the output in messages ("plan stdout").
func ScanIn(t testing.TB, where, output string, secrets ...string) {
	t.Helper()
	for _, l := range Find(output, secrets...) {
		t.Errorf("%s leaks %s", where, l)
	}
}

// ScanDir scans every regular file under dir, except those skip accepts
// (files meant to hold a secret, such as a 0600 token cache).
func ScanDir(t testing.TB, dir string, skip func(path string) bool, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || (skip != nil && skip(path)) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ScanIn(t, path, string(b), secrets...)
		return nil
	})
	if err != nil {
		t.Errorf("scanning %s: %v", dir, err)
	}
}

// PrivateKeyForms returns the ways an RSA private key is usually written
// down: Base64 of its PKCS#8 and PKCS#1 DER (the body of a PEM file, and
// Jenkins' <privateKey>), its PEM body's first line, and the JWK "d", "p"
// and "q" members. Pass them to Scan as secrets.
func PrivateKeyForms(key *rsa.PrivateKey) []string {
	var out []string
	if der, err := x509.MarshalPKCS8PrivateKey(key); err == nil {
		out = append(out, base64.StdEncoding.EncodeToString(der))
		if p := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}); p != nil {
			if lines := strings.Split(string(p), "\n"); len(lines) > 1 {
				out = append(out, lines[1])
			}
		}
	}
	out = append(out, base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(key)))
	out = append(out, base64.RawURLEncoding.EncodeToString(key.D.Bytes()))
	for _, p := range key.Primes {
		out = append(out, base64.RawURLEncoding.EncodeToString(p.Bytes()))
	}
	return out
}
