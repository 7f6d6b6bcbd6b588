package sendrule

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for _, tt := range []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"[::1]", true},
		{"0.0.0.0", false},
		{"", false},
		{"example.com", false},
		{"localhost.example.com", false},
		{"10.0.0.1", false},
		{"::", false},
	} {
		if got := IsLoopback(tt.host); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:8080", true},
		{"[::1]:80", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"192.168.1.2:8080", false},
		{"127.0.0.1", false}, // no port: not an address
		{"garbage", false},
	} {
		if got := IsLoopbackAddr(tt.addr); got != tt.want {
			t.Errorf("IsLoopbackAddr(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		raw string
		ok  bool
	}{
		{"https://api.cloudsmith.io", true},
		{"HTTPS://api.cloudsmith.io", true},
		{"http://127.0.0.1:8080/", true},
		{"http://localhost/", true},
		{"http://[::1]:9/", true},
		{"http://api.cloudsmith.io", false},
		{"http://10.1.2.3:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://127.0.0.1.nip.io/", false},
		{"ftp://127.0.0.1/", false},
		{"http://user:s3cret@example.com/?token=abc", false},
	} {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		err = Check(u, "the API URL", "OIDC token")
		if (err == nil) != tt.ok {
			t.Errorf("Check(%s) = %v, want ok=%v", tt.raw, err, tt.ok)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrCleartext) {
			t.Errorf("Check(%s): errors.Is(ErrCleartext) is false", tt.raw)
		}
		msg := err.Error()
		for _, leak := range []string{"s3cret", "token=abc"} {
			if strings.Contains(msg, leak) {
				t.Errorf("Check(%s) error repeats %q: %s", tt.raw, leak, msg)
			}
		}
		if !strings.Contains(msg, "https") || !strings.Contains(msg, "the API URL") {
			t.Errorf("Check(%s) error names neither the URL's role nor the fix: %s", tt.raw, msg)
		}
	}
}
