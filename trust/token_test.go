package trust_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

// TestMintTokenForDoctor: `token` mints an ID token through a temporary
// job (its console shows it only sealed), writes it 0600, deletes the
// job, and doctor --token-file exchanges it.
func TestMintTokenForDoctor(t *testing.T) {
	w := trustedWorld(t, trusttest.Options{})
	ctx := w.Ctx()

	out := filepath.Join(t.TempDir(), "id_token")
	var log bytes.Buffer
	res, err := trust.MintToken(ctx, w.Env, trust.TokenOptions{Out: out, Log: &log})
	if err != nil {
		t.Fatalf("MintToken: %v\n%s", err, log.String())
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(out)
	token := strings.TrimSpace(string(b))
	c, err := cloudsmith.ParseClaims(token)
	if err != nil || c.Issuer != w.S.IssuerURL() || res.Issuer != c.Issuer {
		t.Fatalf("minted %+v (%v), result %+v", c, err, res)
	}
	if strings.Contains(log.String(), token) {
		t.Error("the progress log shows the token")
	}
	// The temporary job is gone, and its console never held the token.
	items, err := w.Env.Jenkins.ListJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if strings.HasPrefix(it.FullName, "jenkins-cloudsmith-token-") {
			t.Errorf("temporary job %s left behind", it.FullName)
		}
	}
	for _, r := range w.J.Jenkins.Requests() {
		if strings.Contains(r.Query, token) || strings.Contains(r.Path, token) {
			t.Error("the token travelled in a request line")
		}
	}

	r := trust.Doctor(ctx, w.Env, trust.DoctorOptions{TokenFile: out})
	if l := r.Link(trust.LinkExchange); l == nil || l.Status != trust.OK {
		t.Errorf("doctor --token-file with the minted token:\n%s", reportText(r))
	}
}
