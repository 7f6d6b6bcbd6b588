package jenkins

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// InstallPlugins asks the update center to install plugins, each given as
// "name@version" or "name@latest" (a bare name means latest), the way the
// UI and the CLI's install-plugin do: POST
// /pluginManager/installNecessaryPlugins with
// <jenkins><install plugin="name@version"/></jenkins>. Dependencies come
// along. Installed plugins become active after a restart (SafeRestart,
// then WaitReady). Re-asking is harmless, so it is retried like a GET.
func (c *Client) InstallPlugins(ctx context.Context, specs ...string) error {
	if len(specs) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("<jenkins>")
	for _, s := range specs {
		s = strings.TrimSpace(s)
		name, _, _ := strings.Cut(s, "@")
		if name == "" {
			return fmt.Errorf("plugin %q: want name@version or name@latest", s)
		}
		if !strings.Contains(s, "@") {
			s += "@latest"
		}
		b.WriteString(`<install plugin="`)
		if err := xml.EscapeText(&b, []byte(s)); err != nil {
			return err
		}
		b.WriteString(`"/>`)
	}
	b.WriteString("</jenkins>")
	_, err := c.do(httpx.WithRetryable(ctx), request{method: http.MethodPost, path: "pluginManager/installNecessaryPlugins",
		body: b.Bytes(), ctype: "text/xml; charset=utf-8", noFollow: true,
		ok: []int{http.StatusOK, http.StatusFound, http.StatusSeeOther}})
	if err != nil {
		return fmt.Errorf("install plugins %s: %w", strings.Join(specs, ", "), err)
	}
	return nil
}

// SafeRestart asks Jenkins to restart once running builds finish
// (POST /safeRestart). Not retried: a lost answer is sorted out by
// WaitReady.
func (c *Client) SafeRestart(ctx context.Context) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: "safeRestart", noFollow: true,
		ok: []int{http.StatusOK, http.StatusFound, http.StatusSeeOther, http.StatusServiceUnavailable}})
	if err != nil {
		return fmt.Errorf("restart Jenkins: %w", err)
	}
	return nil
}

// WaitReady polls the root API until Jenkins answers 200 with an
// X-Jenkins header (after a restart it answers 503 or refuses connections
// for a while), bounded by ctx. It then starts a new web session, since a
// restart invalidates the old session and its crumb.
func (c *Client) WaitReady(ctx context.Context) error {
	var last error
	for attempt := 1; ; attempt++ {
		r, err := c.do(ctx, request{method: http.MethodGet, path: "api/json", query: url.Values{"tree": {"mode"}}})
		switch {
		case err == nil && r.header.Get("X-Jenkins") != "":
			c.session.reset()
			return nil
		case err == nil:
			last = errors.New("answer without X-Jenkins header")
		case errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden):
			return err
		default:
			last = err
		}
		if serr := httpx.Sleep(ctx, pollDelay(attempt)); serr != nil {
			return fmt.Errorf("jenkins %s not ready: %w (last answer: %v)", c.base, serr, last)
		}
	}
}
