package cloudsmithtest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/emumw"
)

func TestFaultInjection(t *testing.T) {
	s, err := Start(WithFaultRate(0.6, 42), WithRetryAfter(3))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	counts := map[string]int{}
	for range 60 {
		req, _ := http.NewRequest(http.MethodGet, s.APIURL+"/user/self/", nil)
		req.Header.Set("X-Api-Key", s.APIKey)
		resp, err := client.Do(req)
		if err != nil {
			counts["reset"]++
			continue
		}
		resp.Body.Close()
		counts[http.StatusText(resp.StatusCode)]++
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "3" {
			t.Errorf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
		}
	}
	for _, k := range []string{"reset", "Service Unavailable", "Too Many Requests", "OK"} {
		if counts[k] == 0 {
			t.Errorf("no %q among 60 requests at rate 0.6: %v", k, counts)
		}
	}
	faults := 0
	for _, r := range s.Cloudsmith.Requests() {
		if r.Fault != "" {
			faults++
		}
	}
	if want := 60 - counts["OK"]; faults != want {
		t.Errorf("log records %d faults, clients saw %d", faults, want)
	}

	// Package hosts are spared unless WithFaultHosts says otherwise.
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, s.RawURL(), nil)
		req.SetBasicAuth("token", s.APIKey)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("download host faulted: %v %v", err, resp)
		}
		resp.Body.Close()
	}

	// The same seed replays the same faults.
	a, b := emumw.NewFaults(0.5, 7), emumw.NewFaults(0.5, 7)
	for range 50 {
		if a.Draw(faultKinds) != b.Draw(faultKinds) {
			t.Fatal("same seed, different faults")
		}
	}
}

func TestLatencyAndRequestLog(t *testing.T) {
	s, err := Start(WithLatency(30 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	resp, err := http.Get(s.APIURL + "/orgs/acme/services/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered in %s despite 30ms latency", d)
	}
	reqs := s.Cloudsmith.Requests()
	if len(reqs) != 1 || reqs[0].Host != HostAPI || reqs[0].Status != 401 || reqs[0].Path != "/orgs/acme/services/" || reqs[0].Failure != "no credentials" {
		t.Errorf("log %+v", reqs)
	}
	s.Cloudsmith.ResetRequests()
	if n := len(s.Cloudsmith.Requests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
}

func TestStartTLS(t *testing.T) {
	s, err := Start(WithTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range []string{s.APIURL, s.DownloadURL, s.NPMURL, s.GoURL} {
		if !strings.HasPrefix(u, "https://127.0.0.1:") {
			t.Errorf("URL %s", u)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.RawURL(), nil)
	req.SetBasicAuth("token", s.APIKey)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("raw over TLS: %d", resp.StatusCode)
	}
	if _, err := http.Get(s.APIURL + "/"); err == nil {
		t.Error("an untrusting client accepted the self-signed certificate")
	}
}

// TestThrottledDetail follows DRF's rest_framework/exceptions.py Throttled
// (extra_detail_singular / extra_detail_plural chosen by ngettext).
func TestThrottledDetail(t *testing.T) {
	for wait, want := range map[int]string{
		1: "Request was throttled. Expected available in 1 second.",
		3: "Request was throttled. Expected available in 3 seconds.",
	} {
		if got := throttledDetail(wait); got != want {
			t.Errorf("throttledDetail(%d) = %q, want %q", wait, got, want)
		}
	}
}
