package spec

import (
	"strings"
	"testing"
)

// TestPastedSecrets: a literal secret pasted into a step or a description,
// as people coming from the manual guide's curl | jq script do, is refused
// at its line with the fix, and never echoed; references are accepted.
func TestPastedSecrets(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef01234567" // Cloudsmith API keys are 40 hex digits
	const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6Im9pZGMifQ.eyJpc3MiOiJodHRwczovL2plbmtpbnMvb2lkYyJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	block := func(lines ...string) string {
		return "steps:\n      - |\n        " + strings.Join(lines, "\n        ")
	}
	const step = `steps: ["pip install -r requirements.txt"]`
	cases := []struct {
		name   string
		yaml   string
		line   int
		what   string
		secret string
	}{
		{"curl X-Api-Key", edit(t, step, `steps: ["curl -sf -H 'X-Api-Key: `+key+`' https://api.cloudsmith.io/v1/user/self/"]`), 17, "X-Api-Key", key},
		{"Authorization Bearer", edit(t, step, `steps: ["curl -H \"Authorization: Bearer `+key+`\" https://x/"]`), 17, "HTTP header", key},
		{"token in URL", edit(t, step, `steps: ["pip install --index-url https://token:`+key[:20]+`@dl.cloudsmith.io/basic/acme/py/python/simple/ x"]`), 17, "in a URL", key[:20]},
		{"entitlement URL", edit(t, step, `steps: ["pip install -i https://dl.cloudsmith.io/AbCdEf123456gh/acme/py/python/simple/ x"]`), 17, "entitlement token", "AbCdEf123456gh"},
		{"exported key", edit(t, step, `steps: ["export CLOUDSMITH_API_KEY=`+key+`"]`), 17, "assigned literally", key},
		{"cli api key flag", edit(t, step, `steps: ["cloudsmith push python acme/py dist/x.whl --api-key `+key+`"]`), 17, "assigned literally", key},
		{"JWT in step", edit(t, step, `steps: ["OIDC_TOKEN=`+jwt+` cloudsmith-oidc exec -- pip install x"]`), 17, "JWT", jwt},
		{"JWT on line 3 of a block", edit(t, step, block("set -e", "echo start", "curl -H 'X-Api-Key: "+key+"' https://x/", "echo done")), 21, "X-Api-Key", key},
		{"job description", edit(t, step, step+"\n    description: \"token at https://ci:"+key[:16]+"@ci.example.com/\""), 18, "in a URL", key[:16]},
		{"credential description", edit(t, "  audience: jenkins", "  audience: jenkins\n  description: \"Bearer "+jwt+"\""), 12, "JWT", jwt},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("spec.yaml", []byte(tt.yaml), getenv)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			es := asErrors(t, err)
			e := es[0]
			if e.Pos.Line != tt.line || !strings.Contains(e.Msg, tt.what) || !strings.Contains(e.Hint, "remove") {
				t.Errorf("got %v, want line %d mentioning %q with a fix", e, tt.line, tt.what)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error echoes the secret: %v", err)
			}
		})
	}
	for _, ok := range []string{
		`curl -H "X-Api-Key: $CLOUDSMITH_API_KEY" https://api.cloudsmith.io/v1/user/self/`,
		`curl -H "Authorization: Bearer ${TOKEN}" https://x/`,
		`git clone https://${GIT_USER}:${GIT_TOKEN}@git.example.com/app.git`,
		`pip install -i https://dl.cloudsmith.io/basic/acme/py/python/simple/ x`,
		`export CLOUDSMITH_API_KEY="$(cloudsmith-oidc token)"`,
		`echo token=my-token-name-from-jenkins`,
		`git checkout 0123456789abcdef0123456789abcdef01234567`,
		`cloudsmith-oidc exec -- pip install -r requirements.txt`,
	} {
		y := edit(t, step, "steps: ['"+strings.ReplaceAll(ok, "'", "''")+"']")
		if _, err := Parse("spec.yaml", []byte(y), getenv); err != nil {
			t.Errorf("refused %q: %v", ok, err)
		}
	}
}
