package jenkins

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// retryUnsafe sends a POST that must not be blindly replayed (createItem,
// createCredentials, doDelete). When its outcome is unknown (a network
// error, a 5xx or a 429: the action may have run before the failure), it
// waits, asks landed whether the earlier attempt took effect, and only
// sends again when it did not. send gets the attempt number so it can
// read "already exists" after a retry as success.
func (c *Client) retryUnsafe(ctx context.Context, send func(ctx context.Context, attempt int) error, landed func(ctx context.Context) (bool, error)) error {
	maxAttempts := c.retry.Attempts()
	if httpx.SentOnce(ctx) {
		// The caller retries, with its own read-back (apply): one send.
		maxAttempts = 1
	}
	for attempt := 1; ; attempt++ {
		err := send(ctx, attempt)
		if err == nil || !outcomeUnknown(ctx, err) || attempt >= maxAttempts {
			return err
		}
		if serr := c.retry.Wait(ctx, c.retry.Backoff(attempt)); serr != nil {
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
		return he.Temporary()
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
