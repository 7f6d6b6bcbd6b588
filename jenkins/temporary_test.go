package jenkins

import "testing"

// Retry is decided on the error: only answers that may change by
// themselves are temporary.
func TestHTTPErrorTemporary(t *testing.T) {
	for status, want := range map[int]bool{400: false, 401: false, 403: false, 404: false, 409: false,
		429: true, 500: true, 502: true, 503: true, 504: true} {
		if got := (&HTTPError{Status: status}).Temporary(); got != want {
			t.Errorf("status %d: Temporary() = %v, want %v", status, got, want)
		}
	}
}
