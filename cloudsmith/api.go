package cloudsmith

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// pageSize is asked for on list calls; Cloudsmith caps it server-side.
const pageSize = 100

// maxPages stops a list that never ends (a server bug or a Link loop).
const maxPages = 1000

// call is one management API request.
type call struct {
	method string
	url    *url.URL
	in     any // JSON request body, nil for none
	out    any // decoded on success, nil to discard
	// retry marks a non-idempotent method as safe to repeat (a PATCH that
	// sets absolute values).
	retry bool
}

// do runs a management call and returns the response headers (for
// pagination). Errors are *APIError.
func (c *Client) do(ctx context.Context, k call) (http.Header, error) {
	// Errors name the endpoint without its query (page numbers add nothing
	// and a server-made Link could carry anything).
	bare := *k.url
	bare.RawQuery = ""
	safe := httpx.SafeURL(&bare)
	if !c.hasKey {
		return nil, fmt.Errorf("cloudsmith: %s %s: %w: no API key (set CLOUDSMITH_API_KEY to a key of an Owner of the organization, or of a Manager with Admin on its repositories)", k.method, safe, ErrInvalidInput)
	}
	var body io.Reader
	if k.in != nil {
		b, err := json.Marshal(k.in)
		if err != nil {
			return nil, fmt.Errorf("cloudsmith: encoding %s %s: %w", k.method, safe, err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, c.budget)
	defer cancel()
	if k.retry {
		ctx = httpx.WithRetryable(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, k.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("cloudsmith: %s %s: %w", k.method, safe, err)
	}
	if k.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.api.Do(req)
	if err != nil {
		return nil, &APIError{Method: k.method, URL: safe, Err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16*maxBody))
	if err != nil {
		return nil, &APIError{Method: k.method, URL: safe, Status: resp.StatusCode, Err: fmt.Errorf("reading the response: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Method: k.method, URL: safe, Status: resp.StatusCode}
		e.Detail, e.Fields = parseErrorBody(raw, c.apiKey)
		return nil, e
	}
	if k.out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(raw, k.out); err != nil {
			return nil, &APIError{Method: k.method, URL: safe, Status: resp.StatusCode,
				Err: fmt.Errorf("%w: the body is not the JSON expected (%v); it starts %q", ErrBadResponse, err, excerpt(raw, 200, c.apiKey))}
		}
	}
	return resp.Header, nil
}

// list fetches every page of a collection, following Cloudsmith's
// pagination: the Link header's rel="next" when present, else page+1 while
// X-Pagination-PageTotal says there are more.
func list[T any](ctx context.Context, c *Client, u *url.URL) ([]T, error) {
	q := u.Query()
	q.Set("page_size", strconv.Itoa(pageSize))
	q.Set("page", "1")
	next := *u
	next.RawQuery = q.Encode()
	var all []T
	seen := map[string]bool{}
	for page := 1; page <= maxPages; page++ {
		if seen[next.String()] {
			return nil, fmt.Errorf("cloudsmith: GET %s: pagination loops back to a page already read", httpx.SafeURL(&next))
		}
		seen[next.String()] = true
		var items []T
		hdr, err := c.do(ctx, call{method: http.MethodGet, url: &next, out: &items})
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if link := linkNext(hdr.Get("Link")); link != "" {
			nu, err := next.Parse(link)
			if err != nil {
				return nil, fmt.Errorf("cloudsmith: GET %s: unusable Link next %q: %w", httpx.SafeURL(&next), link, err)
			}
			if nu.Host != c.apiURL.Host || nu.Scheme != c.apiURL.Scheme {
				return nil, fmt.Errorf("cloudsmith: GET %s: the next page is on another host (%s); not following it with the API key", httpx.SafeURL(&next), nu.Host)
			}
			next = *nu
			continue
		}
		total, err := strconv.Atoi(hdr.Get("X-Pagination-PageTotal"))
		if err != nil || page >= total || len(items) == 0 {
			return all, nil
		}
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		next.RawQuery = q.Encode()
	}
	return nil, fmt.Errorf("cloudsmith: GET %s: more than %d pages", httpx.SafeURL(u), maxPages)
}

// send runs a call whose answer decodes into a T.
func send[T any](ctx context.Context, c *Client, k call) (*T, error) {
	var out T
	k.out = &out
	if _, err := c.do(ctx, k); err != nil {
		return nil, err
	}
	return &out, nil
}

var linkRE = regexp.MustCompile(`<([^>]*)>\s*((?:;\s*[^;,]+)*)`)

// linkNext returns the rel="next" target of an RFC 8288 Link header.
func linkNext(h string) string {
	for _, m := range linkRE.FindAllStringSubmatch(h, -1) {
		for _, p := range strings.Split(m[2], ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				if strings.EqualFold(rel, "next") {
					return m[1]
				}
			}
		}
	}
	return ""
}

func checkSlug(kind, v string) error {
	if !slugRE.MatchString(v) {
		return fmt.Errorf("cloudsmith: %w: %s %q is not a slug (letters, digits, '-' and '_')", ErrInvalidInput, kind, v)
	}
	return nil
}
