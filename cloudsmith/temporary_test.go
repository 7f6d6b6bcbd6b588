package cloudsmith

import (
	"crypto/tls"
	"errors"
	"testing"
)

// Retry is decided on the error: answers and network failures that may
// change by themselves are temporary; a certificate that does not verify
// is not.
func TestAPIErrorTemporary(t *testing.T) {
	for _, c := range []struct {
		err  *APIError
		want bool
	}{
		{&APIError{Status: 400}, false},
		{&APIError{Status: 401}, false},
		{&APIError{Status: 404}, false},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 503}, true},
		{&APIError{Err: errors.New("connection reset by peer")}, true},
		{&APIError{Err: &tls.CertificateVerificationError{Err: errors.New("unknown authority")}}, false},
	} {
		if got := c.err.Temporary(); got != c.want {
			t.Errorf("%+v: Temporary() = %v, want %v", c.err, got, c.want)
		}
	}
}
