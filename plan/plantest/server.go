package plantest

import (
	"net/http/httptest"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// StartJenkins serves a jenkinstest controller on loopback for the test's
// lifetime and returns its root URL (with a trailing slash). Unlike
// jenkinstest.Start, closing it never waits for idle keep-alive
// connections, so tests end at once.
func StartJenkins(t testing.TB, opts ...jenkinstest.Option) (string, *jenkinstest.Jenkins) {
	t.Helper()
	j := jenkinstest.New(opts...)
	ts := httptest.NewServer(j)
	j.SetRootURL(ts.URL + "/")
	t.Cleanup(func() {
		ts.Close()
		_ = j.Close()
	})
	return ts.URL + "/", j
}
