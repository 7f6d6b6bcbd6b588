package jenkinstest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// faultPattern sends n requests and returns what each one saw.
func faultPattern(t *testing.T, s *Server, n int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", s.URL+"api/json", nil)
		req.SetBasicAuth("admin", s.Jenkins.AdminToken())
		// A fresh connection per request, so a reset cannot hit the next one.
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := hc.Do(req)
		if err != nil {
			out = append(out, "error")
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		out = append(out, res.Status)
	}
	return out
}

func TestFaultsAreSeeded(t *testing.T) {
	a := faultPattern(t, testServer(t, WithFaultRate(0.5, 42)), 40)
	b := faultPattern(t, testServer(t, WithFaultRate(0.5, 42)), 40)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	kinds := map[string]int{}
	for _, s := range a {
		kinds[s]++
	}
	for _, want := range []string{"200 OK", "error", "502 Bad Gateway", "503 Service Unavailable"} {
		if kinds[want] == 0 {
			t.Errorf("no %q in %v", want, kinds)
		}
	}
}

func TestFaultsBeforeAndAfterMutation(t *testing.T) {
	tests := []struct {
		name    string
		share   float64
		created bool
	}{
		{"before", 0, false},
		{"after", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, WithFaultRate(1, 7), WithFaultsAfterMutation(tt.share))
			req, _ := http.NewRequest("POST", s.URL+"createItem?name=x", strings.NewReader(freestyleXML))
			req.SetBasicAuth("admin", s.Jenkins.AdminToken())
			req.Header.Set("Content-Type", "application/xml")
			res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err == nil {
				res.Body.Close()
				if res.StatusCode < 500 {
					t.Fatalf("status %d, want a fault", res.StatusCode)
				}
			}
			if _, ok := s.Jenkins.ItemByFullName("x"); ok != tt.created {
				t.Errorf("created = %v, want %v", ok, tt.created)
			}
			if reqs := s.Jenkins.Requests(); len(reqs) != 1 || reqs[0].Fault == "" {
				t.Errorf("log: %+v", reqs)
			}
		})
	}
}
