package jenkinstest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bndr/gojenkins"
)

// TestGojenkins drives the emulator with gojenkins v1.2.0 (which the
// project's client builds on), with a password so its crumb handling
// (the doubled /crumbIssuer/api/json/api/json path and the raw Cookie
// header) is exercised too.
func TestGojenkins(t *testing.T) {
	s := testServer(t, WithUser(User{Name: "pw", Password: "secret", Permissions: []Permission{Administer}}))
	ctx := context.Background()
	for _, auth := range []struct{ user, secret string }{{"admin", s.Jenkins.AdminToken()}, {"pw", "secret"}} {
		t.Run(auth.user, func(t *testing.T) {
			j, err := gojenkins.CreateJenkins(&http.Client{}, strings.TrimSuffix(s.URL, "/"), auth.user, auth.secret).Init(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if j.Version != DefaultVersion {
				t.Errorf("version %q", j.Version)
			}
			name := "gj-" + auth.user
			if _, err := j.CreateJob(ctx, freestyleXML, name); err != nil {
				t.Fatal(err)
			}
			job, err := j.GetJob(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := job.GetConfig(ctx)
			if err != nil || !strings.Contains(cfg, "<description>hello</description>") {
				t.Fatalf("config %q %v", cfg, err)
			}
			if _, err := j.CreateJob(ctx, freestyleXML, name); err == nil {
				t.Error("duplicate create succeeded")
			}
		})
	}
}
