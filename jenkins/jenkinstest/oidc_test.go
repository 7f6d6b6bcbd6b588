package jenkinstest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

const formCT = "Content-Type: application/x-www-form-urlencoded"

// createTokenCred creates an IdTokenStringCredentials through the form
// (constructor) path under storeURL (ending in domain/_/).
func createTokenCred(t *testing.T, c *client, storeURL, id, aud, issuer string) {
	t.Helper()
	js, _ := json.Marshal(map[string]any{"credentials": map[string]any{
		"$class": ClassIDTokenString, "scope": "GLOBAL", "id": id, "description": "d", "audience": aud, "issuer": issuer,
	}})
	r := c.mustStatus(302, "POST", storeURL+"createCredentials", "json="+url.QueryEscape(string(js)), formCT)
	if !strings.HasSuffix(r.header.Get("Location"), "/domain/_") {
		t.Errorf("create redirect %q", r.header.Get("Location"))
	}
}

func TestCredentialsREST(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	base := "credentials/store/system/domain/_/"
	createTokenCred(t, c, base, "oidc", "jenkins", "")

	// XML create without a key fails (readResolve NPE), as does the round trip of GET output.
	noKey := `<io.jenkins.plugins.oidc__provider.IdTokenStringCredentials><scope>GLOBAL</scope><id>x</id><description></description><audience>a</audience></io.jenkins.plugins.oidc__provider.IdTokenStringCredentials>`
	r := c.mustStatus(500, "POST", base+"createCredentials", noKey, xmlCT)
	if !strings.Contains(r.body, "privateKey") {
		t.Errorf("500 body should explain: %s", r.body)
	}
	got := c.mustStatus(200, "GET", base+"credential/oidc/config.xml", "")
	want := "<io.jenkins.plugins.oidc__provider.IdTokenStringCredentials plugin=\"oidc-provider@212.v7657c4d45c02\">\n  <scope>GLOBAL</scope>\n  <id>oidc</id>\n  <description>d</description>\n  <privateKey>\n    <secret-redacted/>\n  </privateKey>\n  <audience>jenkins</audience>\n</io.jenkins.plugins.oidc__provider.IdTokenStringCredentials>\n"
	if got.body != want {
		t.Errorf("config.xml:\n%s\nwant:\n%s", got.body, want)
	}
	c.mustStatus(500, "POST", base+"createCredentials", strings.Replace(got.body, "<id>oidc</id>", "<id>copy</id>", 1), xmlCT)

	// XML with a plaintext PKCS#8 key works; duplicates are 409.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	withKey := strings.Replace(noKey, "<audience>", "<privateKey>"+base64.StdEncoding.EncodeToString(der)+"</privateKey><audience>", 1)
	c.mustStatus(200, "POST", base+"createCredentials", withKey, xmlCT)
	c.mustStatus(409, "POST", base+"createCredentials", withKey, xmlCT)
	c.mustStatus(400, "POST", base+"createCredentials", withKey)

	// Secret text and listing.
	c.mustStatus(200, "POST", base+"createCredentials", `<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><scope>GLOBAL</scope><id>txt</id><description/><secret>s3cr3t</secret></org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>`, xmlCT)
	r = c.mustStatus(200, "GET", base+"api/json?tree=credentials[id,typeName]", "")
	if r.body != `{"_class":"com.cloudbees.plugins.credentials.CredentialsStoreAction$DomainWrapper","credentials":[{"id":"oidc","typeName":"OpenID Connect id token"},{"id":"x","typeName":"OpenID Connect id token"},{"id":"txt","typeName":"Secret text"}]}` {
		t.Errorf("list: %s", r.body)
	}
	if r := c.mustStatus(200, "GET", base+"credential/txt/config.xml", ""); strings.Contains(r.body, "s3cr3t") {
		t.Error("secret leaked in config.xml")
	}

	// Update by XML: ids must match.
	c.mustStatus(500, "POST", base+"credential/x/config.xml", strings.Replace(withKey, "<id>x</id>", "<id>y</id>", 1), xmlCT)
	c.mustStatus(200, "POST", base+"credential/x/config.xml", strings.Replace(withKey, "<audience>a</audience>", "<audience>b</audience>", 1), xmlCT)
	if r := c.mustStatus(200, "GET", base+"credential/x/config.xml", ""); !strings.Contains(r.body, "<audience>b</audience>") {
		t.Errorf("update lost: %s", r.body)
	}

	// Form create with JSON answers, duplicate included.
	js := `{"credentials":{"$class":"` + ClassIDTokenFile + `","id":"f","audience":"a"}}`
	r = c.mustStatus(200, "POST", base+"createCredentials", "json="+url.QueryEscape(js), formCT, "Accept: application/json")
	if r.body != `{"message":"Credentials created","notificationType":"SUCCESS"}` {
		t.Errorf("json create: %s", r.body)
	}
	r = c.mustStatus(200, "POST", base+"createCredentials", "json="+url.QueryEscape(js), formCT, "Accept: application/json")
	if !strings.Contains(r.body, `"notificationType":"ERROR"`) {
		t.Errorf("json duplicate: %s", r.body)
	}

	// Deletion three ways.
	c.mustStatus(200, "DELETE", base+"credential/f/config.xml", "")
	r = c.mustStatus(302, "POST", base+"credential/txt/doDelete", "")
	if !strings.HasSuffix(r.header.Get("Location"), "credentials/store/system/domain/_/") {
		t.Errorf("doDelete Location %q", r.header.Get("Location"))
	}
	c.mustStatus(404, "GET", base+"credential/txt/config.xml", "")
	c.mustStatus(400, "PUT", base+"credential/x/config.xml", "")
	c.mustStatus(404, "GET", "credentials/store/folder/domain/_/api/json", "")
	c.mustStatus(404, "GET", "credentials/store/system/domain/other/api/json", "")
	// Also under /manage/.
	c.mustStatus(200, "GET", "manage/"+base+"credential/oidc/config.xml", "")
}

func TestDiscoveryAndKeyRotation(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	anon := &client{t: t, base: s.URL, hc: noFollow()}

	// No credential: both documents 404 with an empty body.
	for _, p := range []string{"oidc/jwks", "oidc/.well-known/openid-configuration", "oidc/", "oidc/whatever"} {
		r := anon.mustStatus(404, "GET", p, "")
		if r.body != "" {
			t.Errorf("%s: body %q", p, r.body)
		}
	}
	base := "credentials/store/system/domain/_/"
	createTokenCred(t, c, base, "oidc", "jenkins", "")
	createTokenCred(t, c, base, "custom", "jenkins", "https://issuer.example.com")

	r := anon.mustStatus(200, "GET", "oidc/.well-known/openid-configuration", "")
	wantCfg := `{"issuer":"` + s.URL + `oidc","jwks_uri":"` + s.URL + `oidc/jwks","response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],"authorization_endpoint":"https://unimplemented","token_endpoint":"https://unimplemented"}`
	if r.body != wantCfg || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("openid-configuration %q (%s)", r.body, r.header.Get("Content-Type"))
	}
	jwks1 := anon.mustStatus(200, "GET", "oidc/jwks", "").body
	var set jwtutil.JWKS
	if err := json.Unmarshal([]byte(jwks1), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].Kid != "oidc" || set.Keys[0].E != "AQAB" || len(set.Keys[0].N) != 343 || set.Keys[0].N[0] != 'A' {
		t.Fatalf("jwks (custom-issuer keys must be skipped): %s", jwks1)
	}
	if again := anon.mustStatus(200, "GET", "oidc/jwks", "").body; again != jwks1 {
		t.Error("JWKS changed between reads")
	}

	// A token verifies with go-oidc through the served discovery documents.
	c.mustStatus(200, "POST", "createItem?name=my%20job", freestyleXML, xmlCT)
	tok, err := s.Jenkins.IDToken("my job", "oidc")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, s.URL+"oidc")
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "jenkins"}).Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	if claims["sub"] != s.URL+"job/my%20job/" || claims["build_number"] != float64(1) || idt.Expiry.Sub(idt.IssuedAt) != time.Hour {
		t.Errorf("claims %v", claims)
	}
	hdr, payload, _ := jwtutil.Decode(tok)
	if hdr.Kid != "oidc" || hdr.Typ != "JWT" || hdr.Alg != "RS256" {
		t.Errorf("header %+v", hdr)
	}
	if _, ok := payload["aud"].([]any); !ok {
		t.Errorf("aud should be an array: %v", payload["aud"])
	}

	// Custom issuer: descriptor endpoints; Manage needed for jwks.
	desc := "descriptorByName/" + ClassIDTokenString + "/"
	r = c.mustStatus(200, "GET", desc+"wellKnownOpenidConfiguration?issuer=https://issuer.example.com", "")
	if !strings.HasPrefix(r.body, `{"issuer":"https://issuer.example.com","jwks_uri":"https://issuer.example.com/jwks",`) {
		t.Errorf("custom config %s", r.body)
	}
	r = c.mustStatus(200, "GET", "manage/"+desc+"jwks?id=custom&issuer=https://issuer.example.com", "")
	if !strings.Contains(r.body, `"kid":"custom"`) {
		t.Errorf("custom jwks %s", r.body)
	}
	c.mustStatus(404, "GET", desc+"jwks?id=custom&issuer=https://other.example.com", "")
	c.mustStatus(404, "GET", desc+"jwks?id=oidc&issuer=https://issuer.example.com", "")
	anon.mustStatus(403, "GET", desc+"jwks?id=custom&issuer=https://issuer.example.com", "")
	ctok, err := s.Jenkins.IDToken("my job", "custom")
	if err != nil {
		t.Fatal(err)
	}
	if _, p, _ := jwtutil.Decode(ctok); p["iss"] != "https://issuer.example.com" {
		t.Errorf("custom iss %v", p["iss"])
	}

	// A no-op read keeps the key; updateSubmit (constructor) rotates it.
	js := `{"$class":"` + ClassIDTokenString + `","scope":"GLOBAL","id":"oidc","description":"d","audience":"jenkins"}`
	r = c.mustStatus(302, "POST", base+"credential/oidc/updateSubmit", "json="+url.QueryEscape(js), formCT)
	jwks2 := anon.mustStatus(200, "GET", "oidc/jwks", "").body
	if jwks2 == jwks1 {
		t.Error("updateSubmit did not rotate the key")
	}
	// The kid stays the credential id, so a relying party that cached the
	// JWKS keeps the old key; a fresh one refuses the old token.
	fresh, err := oidc.NewProvider(ctx, s.URL+"oidc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Verifier(&oidc.Config{ClientID: "jenkins"}).Verify(ctx, tok); err == nil {
		t.Error("old token still verifies after rotation")
	}
	bad := strings.Replace(js, `"id":"oidc"`, `"id":"other"`, 1)
	c.mustStatus(500, "POST", base+"credential/oidc/updateSubmit", "json="+url.QueryEscape(bad), formCT)
	c.mustStatus(500, "POST", base+"credential/oidc/updateSubmit", "json="+url.QueryEscape(`{"credentials":`+js+`}`), formCT)
}

func TestFolderIssuer(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=at%20the%20top", folderXML, xmlCT)
	c.mustStatus(200, "POST", "job/at%20the%20top/createItem?name=middle", folderXML, xmlCT)
	c.mustStatus(200, "POST", "job/at%20the%20top/job/middle/createItem?name=j", freestyleXML, xmlCT)
	createTokenCred(t, c, "job/at%20the%20top/job/middle/credentials/store/folder/domain/_/", "fc", "aud", "")
	anon := &client{t: t, base: s.URL, hc: noFollow()}
	issuer := s.URL + "oidc/job/at%20the%20top/job/middle"
	r := anon.mustStatus(200, "GET", "oidc/job/at%20the%20top/job/middle/.well-known/openid-configuration", "")
	if !strings.HasPrefix(r.body, `{"issuer":"`+issuer+`"`) {
		t.Errorf("folder config %s", r.body)
	}
	anon.mustStatus(404, "GET", "oidc/job/at%20the%20top/.well-known/openid-configuration", "") // no creds of its own
	anon.mustStatus(404, "GET", "oidc/job/at+the+top/job/middle/jwks", "")                      // not its URI
	anon.mustStatus(404, "GET", "oidc/jwks", "")                                                // root has none
	tok, err := s.Jenkins.IDToken("at the top/middle/j", "fc")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verifier(&oidc.Config{ClientID: "aud"}).Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if doc, err := s.Jenkins.JWKS("at the top/middle"); err != nil || !strings.Contains(string(doc), `"kid":"fc"`) {
		t.Errorf("JWKS(): %s %v", doc, err)
	}
	r = c.mustStatus(200, "GET", "job/at%20the%20top/job/middle/descriptorByName/"+ClassIDTokenString+"/jwks?id=fc&issuer=", "")
	_ = r
}

func TestClaimTemplates(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    ClaimTemplates
		wantErr string
		check   func(map[string]any) bool
	}{
		{"custom claims", ClaimTemplates{Build: []ClaimTemplate{{"sub", "job:${JOB_NAME}", ClaimString}, {"n", "${BUILD_NUMBER}", ClaimInteger}, {"ok", "TRUE", ClaimBoolean}}}, "",
			func(c map[string]any) bool {
				return c["sub"] == "job:j" && c["n"] == json.Number("1") && c["ok"] == true
			}},
		{"no sub", ClaimTemplates{Build: []ClaimTemplate{{"x", "y", ClaimString}}}, "must specify sub", nil},
		{"standard claim", ClaimTemplates{All: []ClaimTemplate{{"nbf", "1", ClaimInteger}}, Build: []ClaimTemplate{{"sub", "s", ClaimString}}}, "must not specify nbf", nil},
		{"unsubstituted", ClaimTemplates{Build: []ClaimTemplate{{"sub", "${NOPE}", ClaimString}}}, "Apparently unsubstituted", nil},
		// IntegerClaimType.parse = Integer.valueOf(text), which refuses
		// surrounding spaces (jenkinsci/oidc-provider-plugin
		// src/main/java/io/jenkins/plugins/oidc_provider/config/IntegerClaimType.java).
		{"integer with spaces", ClaimTemplates{Build: []ClaimTemplate{{"sub", "s", ClaimString}, {"n", " ${BUILD_NUMBER}", ClaimInteger}}}, `NumberFormatException: For input string: " 1"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, WithClaimTemplates(tt.tmpl), WithAudienceString())
			c := adminClient(t, s)
			createTokenCred(t, c, "credentials/store/system/domain/_/", "o", "a", "")
			c.mustStatus(200, "POST", "createItem?name=j", freestyleXML, xmlCT)
			tok, err := s.Jenkins.IDToken("j", "o")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, claims, _ := jwtutil.Decode(tok)
			if claims["aud"] != "a" || !tt.check(claims) {
				t.Errorf("claims %v", claims)
			}
		})
	}
}

func TestXMLKeyMustBeBareBase64(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	b64 := base64.StdEncoding.EncodeToString(der)
	tests := []struct {
		name, key string
		status    int
	}{
		{"bare", b64, 200},
		{"indented", "\n    " + b64 + "\n  ", 500},
		{"redacted", "<secret-redacted/>", 500},
		{"not a key", base64.StdEncoding.EncodeToString([]byte("nope")), 500},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `<io.jenkins.plugins.oidc__provider.IdTokenFileCredentials><id>k` + string(rune('a'+i)) + `</id><privateKey>` + tt.key + `</privateKey></io.jenkins.plugins.oidc__provider.IdTokenFileCredentials>`
			c.mustStatus(tt.status, "POST", "credentials/store/system/domain/_/createCredentials", body, xmlCT)
		})
	}
}

func TestTokenClockLifetimeAndIssuerURL(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := testServer(t, WithClock(func() time.Time { return now }), WithTokenLifetime(10*time.Minute), WithRootURL("https://jenkins.example.com/"))
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "o", "", "")
	if got := s.Jenkins.IssuerURL(""); got != "https://jenkins.example.com/oidc" {
		t.Errorf("IssuerURL %q", got)
	}
	tok, err := s.Jenkins.IDToken("", "o")
	if err != nil {
		t.Fatal(err)
	}
	_, claims, _ := jwtutil.Decode(tok)
	// Outside a build: sub is JENKINS_URL; no audience means no aud claim.
	want := map[string]any{"iss": "https://jenkins.example.com/oidc", "sub": "https://jenkins.example.com/", "iat": json.Number("1700000000"), "exp": json.Number("1700000600")}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("%s = %v, want %v", k, claims[k], v)
		}
	}
	if _, ok := claims["aud"]; ok || len(claims) != 4 {
		t.Errorf("claims %v", claims)
	}
	if _, err := s.Jenkins.IDToken("nope", "o"); err == nil {
		t.Error("IDToken for a missing job")
	}
	if _, err := s.Jenkins.JWKS("nope"); err == nil {
		t.Error("JWKS for a missing folder")
	}
}
