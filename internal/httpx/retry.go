package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Retry retries requests that failed in a way that may pass: network
// errors, 429 (honouring Retry-After) and 5xx. Other 4xx are never retried.
// Backoff is exponential with full jitter. Only idempotent methods are
// retried unless the request's context was marked with Retryable.
type Retry struct {
	// Next is the layer below; nil means http.DefaultTransport.
	Next http.RoundTripper
	// MaxAttempts bounds tries per request, the first included (default 5).
	MaxAttempts int
	// Base and Cap shape the backoff: sleep = rand[0, min(Cap, Base*2^n)).
	// Defaults 100ms and 5s.
	Base, Cap time.Duration
	// Budget bounds the whole time spent on one request including retries
	// (default 60s). A context deadline or WithDeadline shortens it.
	Budget time.Duration
	// Sleep waits between attempts; tests replace it. It must return early
	// with ctx.Err() when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retryable decides whether a response may be retried; nil means
	// RetryableStatus.
	Retryable func(*http.Response) bool
}

type retryKey struct{}
type deadlineKey struct{}
type sendOnceKey struct{}
type uploadKey struct{}

// SendOnce marks requests made with ctx to be sent once by the retry
// layer whatever their method, overriding WithRetryable: the caller is
// the one layer that retries them, after checking whether an attempt whose
// answer was lost had landed (apply's converge loop), so the transport's
// retries must not multiply its attempts.
func SendOnce(ctx context.Context) context.Context {
	return context.WithValue(ctx, sendOnceKey{}, true)
}

// LandCheck reports whether an upload whose answer was lost (a network
// error, a 5xx) reached the server anyway, for example by listing the
// repository's packages for the file's checksum. It is asked before every
// re-send.
type LandCheck func(ctx context.Context) (landed bool, err error)

// ErrLanded is returned (wrapped, with the lost answer's error) when an
// upload's attempt failed but its LandCheck found it on the server: the
// upload is done and must not be sent again.
var ErrLanded = errors.New("the upload landed although its answer was lost")

// Upload marks requests made with ctx as uploads (publishing a package):
// the retry layer never sends one blind twice, whatever its method (a PUT
// of a file is idempotent on paper, but a repository may keep both copies
// or refuse the second). With check nil every upload is sent once, as
// with SendOnce. With a check, a 429 (refused before any work) is retried
// as usual, and after any other failure the upload is re-sent only when
// check says it did not land; when it did, RoundTrip returns an error
// wrapping ErrLanded.
func Upload(ctx context.Context, check LandCheck) context.Context {
	return context.WithValue(ctx, uploadKey{}, &check)
}

// uploadCheck reports whether ctx marks an upload, and its land check.
func uploadCheck(ctx context.Context) (LandCheck, bool) {
	c, ok := ctx.Value(uploadKey{}).(*LandCheck)
	if !ok {
		return nil, false
	}
	return *c, true
}

// WithRetryable marks requests made with ctx as safe to retry even when
// their method is not idempotent (for example an exchange that only mints
// a token).
func WithRetryable(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryKey{}, true)
}

// WithDeadline makes the retry layer give up before t even when the
// budget would allow more: for example the expiry of the token being sent,
// after which retrying is pointless.
func WithDeadline(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, deadlineKey{}, t)
}

// RetryableStatus reports whether a response status may succeed on retry.
func RetryableStatus(resp *http.Response) bool {
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
}

// SentOnce reports whether ctx was marked with SendOnce, or as an upload
// without a land check: a client's own retry loop around an unsafe write
// must not retry either.
func SentOnce(ctx context.Context) bool {
	if check, up := uploadCheck(ctx); up && check == nil {
		return true
	}
	once, _ := ctx.Value(sendOnceKey{}).(bool)
	return once
}

func idempotent(req *http.Request) bool {
	if SentOnce(req.Context()) {
		return false
	}
	if _, up := uploadCheck(req.Context()); up {
		// An upload with a land check: RoundTrip asks it before re-sending.
		return true
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	v, _ := req.Context().Value(retryKey{}).(bool)
	return v
}

// RoundTrip implements http.RoundTripper.
func (r *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if !idempotent(req) || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return next.RoundTrip(req)
	}
	maxAttempts := r.Attempts()
	budget := r.Budget
	if budget <= 0 {
		budget = 60 * time.Second
	}
	retryable := r.Retryable
	if retryable == nil {
		retryable = RetryableStatus
	}
	ctx := req.Context()
	landCheck, _ := uploadCheck(ctx)
	giveUp := time.Now().Add(budget)
	if d, ok := ctx.Value(deadlineKey{}).(time.Time); ok && d.Before(giveUp) {
		giveUp = d
	}
	if d, ok := ctx.Deadline(); ok && d.Before(giveUp) {
		giveUp = d
	}

	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("replaying request body: %w", err)
			}
			try = req.Clone(ctx)
			try.Body = body
		}
		resp, err := next.RoundTrip(try)
		if err == nil && !retryable(resp) {
			return resp, nil
		}
		if err != nil && permanent(err) {
			return nil, err
		}
		if ctx.Err() != nil {
			if err == nil {
				return resp, nil
			}
			return nil, err
		}
		if attempt >= maxAttempts {
			return resp, err
		}
		wait := r.Backoff(attempt)
		if resp != nil {
			if ra, ok := retryAfter(resp); ok {
				wait = ra
			}
		}
		if time.Now().Add(wait).After(giveUp) {
			// Another try could not finish in time: report what we have.
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if serr := r.Wait(ctx, wait); serr != nil {
			if err == nil {
				err = serr
			}
			return nil, err
		}
		if landCheck != nil && (resp == nil || resp.StatusCode != http.StatusTooManyRequests) {
			lost := err
			if lost == nil {
				lost = fmt.Errorf("%s %s answered %s", req.Method, SafeURL(req.URL), resp.Status)
			}
			landed, cerr := landCheck(ctx)
			switch {
			case cerr != nil:
				return nil, fmt.Errorf("%w; and checking whether the upload landed failed, so it is not sent again: %w", lost, cerr)
			case landed:
				return nil, fmt.Errorf("%w: %w", ErrLanded, lost)
			}
		}
	}
}

// permanent reports network errors that no retry can fix: a certificate
// that doesn't verify fails the same way every time, and retrying only
// delays the message that names the CA bundle to fix.
func permanent(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// Attempts is MaxAttempts with its default applied.
func (r *Retry) Attempts() int {
	if r.MaxAttempts <= 0 {
		return 5
	}
	return r.MaxAttempts
}

// Backoff returns the full-jitter delay before retrying after the given
// attempt (1-based), from Base and Cap with their defaults applied. Callers
// that retry at a higher level (a POST that must be checked before it is
// sent again) use it to back off exactly as the transport does.
func (r *Retry) Backoff(attempt int) time.Duration {
	base, capDelay := r.Base, r.Cap
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if capDelay <= 0 {
		capDelay = 5 * time.Second
	}
	d := capDelay
	if attempt < 31 {
		if e := base << (attempt - 1); e > 0 && e < capDelay {
			d = e
		}
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Wait sleeps d with r.Sleep, or with Sleep when that is nil.
func (r *Retry) Wait(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits d or until ctx is done, returning ctx.Err() in that case:
// the default Retry.Sleep, and the cancellable wait of every poll loop.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
