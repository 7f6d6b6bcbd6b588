package errfix

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// TestFix: the errors a command ends with get a fix naming what to change.
func TestFix(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := http.Get("http://" + addr + "/")
	_, unresolved := net.DefaultResolver.LookupHost(context.Background(), "no-such-host.invalid")
	if unresolved == nil {
		t.Skip("this machine resolves .invalid")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"unreachable Jenkins", fmt.Errorf("read controller: jenkins whoAmI: %w", refused), "jenkins.url"},
		{"unresolved host", fmt.Errorf("list jobs: %w", unresolved), "does not resolve"},
		{"timeout", fmt.Errorf("list jobs: %w", ctx.Err()), "did not answer in time"},
		{"unknown org", fmt.Errorf("list service accounts: %w", &cloudsmith.APIError{Method: "GET", URL: "https://api.cloudsmith.io/orgs/nosuch/services/", Status: 404}), "cloudsmith.org"},
		{"jenkins 401", &jenkins.HTTPError{Status: 401}, "jenkins.user"},
		{"spec error keeps its own fix", errors.New("spec.yaml:3:8: bad (fix: do this)"), ""},
		{"unknown error", errors.New("something"), ""},
	} {
		got := Fix(tt.err)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: Fix(%v) = %q, want one with %q", tt.name, tt.err, got, tt.want)
		}
	}
}
