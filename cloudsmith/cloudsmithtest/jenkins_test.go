package cloudsmithtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// TestExchangeWithJenkinsEmulator trades a token minted by the Jenkins
// emulator (the oidc-provider plugin's keys, JWKS encoding and claims) for
// a Cloudsmith token, fetching discovery and JWKS from the emulated Jenkins.
func TestExchangeWithJenkinsEmulator(t *testing.T) {
	js, err := jenkinstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	form, _ := json.Marshal(map[string]any{"credentials": map[string]any{
		"$class": jenkinstest.ClassIDTokenString, "scope": "GLOBAL", "id": "cloudsmith-oidc",
		"description": "", "audience": "cloudsmith", "issuer": "",
	}})
	req, _ := http.NewRequest(http.MethodPost, js.URL+"credentials/store/system/domain/_/createCredentials",
		strings.NewReader("json="+url.QueryEscape(string(form))))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("admin", js.Jenkins.AdminToken())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("creating the credential: %d", resp.StatusCode)
	}

	// The emulated plugin is current, so its aud is an array.
	cs, err := Start(WithClaimArrayElementMatch())
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	trust(t, cs.Cloudsmith, js.Jenkins.IssuerURL(""), map[string]any{"aud": "cloudsmith", "sub": strings.TrimSuffix(js.URL, "/") + ".*"})
	tok, err := js.Jenkins.IDToken("", "cloudsmith-oidc")
	if err != nil {
		t.Fatal(err)
	}
	status, body := post(t, cs.APIURL+"/openid/acme/", "application/json", exchangeBody(tok, "jenkins"))
	if status != 201 {
		t.Fatalf("exchange: %d %v (%s)", status, body, cs.Cloudsmith.LastExchangeFailure())
	}
}
