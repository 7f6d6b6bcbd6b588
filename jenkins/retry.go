package jenkins

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// retryUnsafe sends a POST that must not be blindly replayed (createItem,
// createCredentials, doDelete). When its outcome is unknown (a network
// error, a 5xx or a 429: the action may have run before the failure), it
// waits, asks landed whether the earlier attempt took effect, and only
// sends again when it did not. send gets the attempt number so it can
// read "already exists" after a retry as success.
func (c *Client) retryUnsafe(ctx context.Context, send func(ctx context.Context, attempt int) error, landed func(ctx context.Context) (bool, error)) error {
	maxAttempts := c.retry.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 5
	}
	for attempt := 1; ; attempt++ {
		err := send(ctx, attempt)
		if err == nil || !outcomeUnknown(ctx, err) || attempt >= maxAttempts {
			return err
		}
		if serr := c.sleep(ctx, c.backoff(attempt)); serr != nil {
			return err
		}
		ok, lerr := landed(ctx)
		if lerr != nil {
			return fmt.Errorf("%w (checking whether it took effect also failed: %v)", err, lerr)
		}
		if ok {
			return nil
		}
	}
}

// outcomeUnknown reports whether err leaves open whether Jenkins acted.
func outcomeUnknown(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if he, ok := asHTTPError(err); ok {
		return he.Status >= 500 || he.Status == http.StatusTooManyRequests
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// backoff is full-jitter exponential, with the same knobs as httpx.Retry.
func (c *Client) backoff(attempt int) time.Duration {
	base, capDelay := c.retry.Base, c.retry.Cap
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

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.retry.Sleep != nil {
		return c.retry.Sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
