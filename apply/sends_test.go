package apply_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// failWrites answers 503 to every POST whose path ends with one of
// suffixes, without passing it on, and counts them.
type failWrites struct {
	suffixes []string
	mu       sync.Mutex
	sent     map[string]int
}

func (f *failWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		for _, s := range f.suffixes {
			if strings.HasSuffix(r.URL.Path, s) {
				f.mu.Lock()
				f.sent[s]++
				f.mu.Unlock()
				return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
					Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("down")), Request: r}, nil
			}
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// One layer retries a write: however the transport and apply are tuned,
// one create or update is sent at most apply's Attempts times (before,
// the transport's retries ran inside each of apply's: 5 × 4 = 20 sends of
// one update, on two backoff schedules).
func TestOneWriteIsSentAtMostAttemptsTimes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"hello:freestyle"})
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := e.jc.UpdateJob(ctx, "hello", []byte(strings.Replace(string(e.out.Jobs[0].ConfigXML), "<description>", "<description>edited ", 1))); err != nil {
		t.Fatal(err)
	}
	e.setJobs([]string{"hello:freestyle", "fresh:freestyle"})
	p, err := plan.Compute(ctx, plan.Input{Spec: e.s, Output: e.out, Jenkins: e.jc}, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	faults := &failWrites{suffixes: []string{"/job/hello/config.xml", "/createItem"}, sent: map[string]int{}}
	jc, err := jenkins.New(jenkins.Config{URL: e.url, User: "admin", Token: e.j.AdminToken(), Transport: faults,
		Retry: httpx.Retry{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	const attempts = 4
	_, err = apply.Execute(ctx, jc, nil, p, apply.Options{Attempts: attempts, Sleep: noSleep})
	if err == nil {
		t.Fatal("apply succeeded against a controller that refuses every write")
	}
	for _, s := range faults.suffixes {
		if n := faults.sent[s]; n < 1 || n > attempts {
			t.Errorf("POST …%s sent %d times, want 1..%d", s, n, attempts)
		}
	}
}
