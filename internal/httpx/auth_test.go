package httpx

import (
	"net/http"
	"testing"
)

func TestHeaderAuthScheme(t *testing.T) {
	tests := []struct {
		name, scheme, url string
		want              bool
		refused           bool
	}{
		{"no scheme set: https", "", "https://api.example.com/x", true, false},
		{"no scheme set: plain http off loopback refused", "", "http://api.example.com/x", false, true},
		{"https to https", "https", "https://api.example.com/x", true, false},
		{"https credential, http link", "https", "http://api.example.com/x", false, false},
		{"other host", "https", "https://evil.example.com/x", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			auth := &HeaderAuth{Host: "api.example.com", Scheme: tt.scheme, Header: func() http.Header { return http.Header{"X-Api-Key": {"k"}} },
				Next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					got = r.Header.Get("X-Api-Key")
					return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
				})}
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			if _, err := auth.RoundTrip(req); (err != nil) != tt.refused {
				t.Fatalf("RoundTrip error %v, want refused %v", err, tt.refused)
			}
			if (got == "k") != tt.want {
				t.Errorf("credential sent: %v, want %v", got == "k", tt.want)
			}
		})
	}
}

func TestSameHostRedirects(t *testing.T) {
	tests := []struct {
		name, from, to string
		ok             bool
	}{
		{"same host", "https://j.example/a", "https://j.example/b", true},
		{"plain http loopback", "http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b", true},
		{"upgrade", "http://j.example/a", "https://j.example/b", true},
		{"other host", "https://j.example/a", "https://evil.example/b", false},
		{"other port", "https://j.example/a", "https://j.example:8443/b", false},
		{"downgrade", "https://j.example/a", "http://j.example/b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, _ := http.NewRequest(http.MethodGet, tt.from, nil)
			to, _ := http.NewRequest(http.MethodGet, tt.to, nil)
			if err := SameHostRedirects(to, []*http.Request{from}); (err == nil) != tt.ok {
				t.Errorf("SameHostRedirects = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
