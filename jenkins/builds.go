package jenkins

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bndr/gojenkins"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// Build is the state of one build.
type Build struct {
	Number   int
	Result   string // SUCCESS, FAILURE, UNSTABLE, ABORTED; "" while building
	Building bool
	URL      string
}

// TriggerBuild queues a build (POST <job>/build) and returns the queue
// item URL from the Location header. A trigger whose outcome is unknown
// is not sent again until the job's state shows it did not land: a build
// that started since (nextBuildNumber moved) names its queue item in
// queueId, and while the job sits in the queue the client waits for it
// to start. (A build someone else triggered at the same moment would be
// taken for ours; that is the price of never starting two.)
func (c *Client) TriggerBuild(ctx context.Context, fullName string) (string, error) {
	p, err := itemPath(fullName)
	if err != nil {
		return "", err
	}
	before, err := c.jobState(ctx, p)
	if err != nil {
		return "", fmt.Errorf("start a build of %q: %w", fullName, err)
	}
	var loc string
	send := func(ctx context.Context, _ int) error {
		r, err := c.do(ctx, request{method: http.MethodPost, path: p + "build", noFollow: true,
			ok: []int{http.StatusCreated, http.StatusOK, http.StatusFound, http.StatusSeeOther}})
		if err != nil {
			return err
		}
		if loc = r.header.Get("Location"); loc == "" {
			return fmt.Errorf("jenkins answered %d without a queue item Location", r.status)
		}
		return nil
	}
	landed := func(ctx context.Context) (bool, error) {
		for attempt := 1; ; attempt++ {
			st, err := c.jobState(ctx, p)
			if err != nil {
				return false, err
			}
			if st.Next > before.Next {
				r, err := c.do(ctx, request{method: http.MethodGet, path: p + strconv.Itoa(before.Next) + "/api/json",
					query: url.Values{"tree": {"queueId"}}})
				if err != nil {
					return false, err
				}
				var b struct {
					QueueID int `json:"queueId"`
				}
				if err := json.Unmarshal(r.body, &b); err != nil || b.QueueID == 0 {
					return false, fmt.Errorf("build #%d has no queueId", before.Next)
				}
				loc = c.base.String() + "queue/item/" + strconv.Itoa(b.QueueID) + "/"
				return true, nil
			}
			if !st.InQueue {
				return false, nil
			}
			if err := httpx.Sleep(ctx, pollDelay(attempt)); err != nil {
				return false, err
			}
		}
	}
	if err := c.retryUnsafe(ctx, send, landed); err != nil {
		return "", fmt.Errorf("start a build of %q: %w", fullName, err)
	}
	return loc, nil
}

type jobState struct {
	Next    int  `json:"nextBuildNumber"`
	InQueue bool `json:"inQueue"`
}

func (c *Client) jobState(ctx context.Context, path string) (jobState, error) {
	var st jobState
	r, err := c.do(ctx, request{method: http.MethodGet, path: path + "api/json", query: url.Values{"tree": {"nextBuildNumber,inQueue"}}})
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(r.body, &st); err != nil {
		return st, fmt.Errorf("job state: the answer is not JSON: %w", err)
	}
	return st, nil
}

var queueItemRE = regexp.MustCompile(`/queue/item/(\d+)/?$`)

// WaitForQueueItem polls the queue item (with backoff) until it has left
// the queue for an executor, and returns the build number. A cancelled
// item is an error. (gojenkins' Task has no "cancelled" field, so this
// reads the item directly.)
func (c *Client) WaitForQueueItem(ctx context.Context, queueURL string) (int, error) {
	m := queueItemRE.FindStringSubmatch(strings.TrimSpace(queueURL))
	if m == nil {
		return 0, fmt.Errorf("%q is not a Jenkins queue item URL", queueURL)
	}
	for attempt := 1; ; attempt++ {
		r, err := c.do(ctx, request{method: http.MethodGet, path: "queue/item/" + m[1] + "/api/json",
			query: url.Values{"tree": {"cancelled,why,executable[number]"}}})
		if err != nil {
			return 0, fmt.Errorf("queue item %s: %w", m[1], err)
		}
		var item struct {
			Cancelled  bool   `json:"cancelled"`
			Why        string `json:"why"`
			Executable *struct {
				Number int `json:"number"`
			} `json:"executable"`
		}
		if err := json.Unmarshal(r.body, &item); err != nil {
			return 0, fmt.Errorf("queue item %s: Jenkins answered something other than JSON: %w", m[1], err)
		}
		switch {
		case item.Executable != nil && item.Executable.Number > 0:
			return item.Executable.Number, nil
		case item.Cancelled:
			return 0, fmt.Errorf("queue item %s was cancelled before it started", m[1])
		}
		if err := httpx.Sleep(ctx, pollDelay(attempt)); err != nil {
			return 0, fmt.Errorf("waiting for queue item %s (%s): %w", m[1], item.Why, err)
		}
	}
}

// WaitForBuild polls the build (with backoff up to 2s between polls) until
// it is no longer building, bounded by ctx.
func (c *Client) WaitForBuild(ctx context.Context, fullName string, number int) (*Build, error) {
	for attempt := 1; ; attempt++ {
		b, err := c.build(ctx, fullName, strconv.Itoa(number))
		if err != nil {
			return nil, err
		}
		if !b.Building {
			return b, nil
		}
		if err := httpx.Sleep(ctx, pollDelay(attempt)); err != nil {
			return nil, fmt.Errorf("waiting for build %s #%d: %w", fullName, number, err)
		}
	}
}

// LastBuild reads the job's last build; ErrNotFound when it has none.
func (c *Client) LastBuild(ctx context.Context, fullName string) (*Build, error) {
	return c.build(ctx, fullName, "lastBuild")
}

// build reads <job>/<which>/api/json with gojenkins' Build (its own
// GetBuild rebuilds the path from the job's absolute URL, which breaks
// behind a proxy or with a different root URL, and escapes nothing).
func (c *Client) build(ctx context.Context, fullName, which string) (*Build, error) {
	p, err := itemPath(fullName)
	if err != nil {
		return nil, err
	}
	gb := &gojenkins.Build{Jenkins: c.gj, Raw: new(gojenkins.BuildResponse), Base: "/" + p + which}
	err = c.viaGojenkins(ctx, "read build", func(ctx context.Context) error {
		_, err := gb.Poll(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("build %s of %q: %w", which, fullName, err)
	}
	return &Build{Number: int(gb.Raw.Number), Result: gb.Raw.Result, Building: gb.Raw.Building, URL: gb.Raw.URL}, nil
}

// ConsoleText returns a build's console log as plain text.
func (c *Client) ConsoleText(ctx context.Context, fullName string, number int) ([]byte, error) {
	p, err := itemPath(fullName)
	if err != nil {
		return nil, err
	}
	r, err := c.do(ctx, request{method: http.MethodGet, path: p + strconv.Itoa(number) + "/consoleText"})
	if err != nil {
		return nil, fmt.Errorf("console of %s #%d: %w", fullName, number, err)
	}
	return r.body, nil
}

// pollDelay grows from 50ms to 2s.
func pollDelay(attempt int) time.Duration {
	d := 50 * time.Millisecond << min(attempt-1, 6)
	return min(d, 2*time.Second)
}
