package jenkins

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// InstallPlugins asks the update center to install plugins, each given as
// "name@version" or "name@latest" (a bare name means latest), the way the
// UI and the CLI's install-plugin do: POST
// /pluginManager/installNecessaryPlugins with
// <jenkins><install plugin="name@version"/></jenkins>, which only queues
// the downloads (dependencies first) and redirects to
// pluginManager/updates/. It then waits for the update center's
// installation jobs to finish and fails naming any that failed. A plugin
// that was not installed before is usually loaded at once (dynamic load);
// others become active after a restart (SafeRestart, then WaitReady).
// Re-asking is harmless, so the POST is retried like a GET.
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
	seen, err := c.waitInstallations(ctx)
	if err != nil {
		return err
	}
	// prevalidateConfig only logs "No such plugin" for a name the update
	// center does not offer: no job, nothing installed.
	var unseen []string
	for _, s := range specs {
		if name, _, _ := strings.Cut(strings.TrimSpace(s), "@"); !seen[name] {
			unseen = append(unseen, name)
		}
	}
	if len(unseen) == 0 {
		return nil
	}
	have, err := c.Plugins(ctx)
	if err != nil {
		return err
	}
	var unknown []string
	for _, n := range unseen {
		if _, ok := have[n]; !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the update center of %s offers no plugin named %s (Jenkins only logs \"No such plugin\"): check the name, and the update site in Manage Jenkins » Plugins » Advanced settings",
			c.base, strings.Join(unknown, ", "))
	}
	return nil
}

// updateCenterJobs is the part of /updateCenter/api/json the client reads.
type updateCenterJobs struct {
	Jobs []struct {
		Type         string `json:"type"`
		Name         string `json:"name"`
		ErrorMessage string `json:"errorMessage"`
		Status       struct {
			Type    string `json:"type"`
			Success bool   `json:"success"`
		} `json:"status"`
	} `json:"jobs"`
}

// waitInstallations polls the update center
// (GET /updateCenter/api/json?tree=jobs[...], Overall/Manage) until no
// InstallationJob is Pending or Installing, bounded by ctx, and returns
// the plugins it has jobs for. A job that ends in Failure is an error
// naming the plugin and Jenkins' message.
func (c *Client) waitInstallations(ctx context.Context) (map[string]bool, error) {
	q := url.Values{"tree": {"jobs[type,name,errorMessage,status[type,success]]"}}
	for attempt := 1; ; attempt++ {
		r, err := c.do(ctx, request{method: http.MethodGet, path: "updateCenter/api/json", query: q, accept: "application/json"})
		if err != nil {
			return nil, fmt.Errorf("read the update center's installation jobs: %w", err)
		}
		var uc updateCenterJobs
		if err := json.Unmarshal(r.body, &uc); err != nil {
			return nil, fmt.Errorf("read the update center's installation jobs: the answer is not JSON: %w", err)
		}
		running := 0
		var failed []string
		seen := map[string]bool{}
		for _, j := range uc.Jobs {
			if j.Type != "InstallationJob" {
				continue
			}
			seen[j.Name] = true
			switch {
			case j.Status.Type == "Pending" || j.Status.Type == "Installing":
				running++
			case !j.Status.Success:
				msg := j.ErrorMessage
				if msg == "" {
					msg = j.Status.Type
				}
				failed = append(failed, fmt.Sprintf("%s (%s)", j.Name, msg))
			}
		}
		if len(failed) > 0 {
			return nil, fmt.Errorf("the update center could not install %s: see Manage Jenkins » Plugins » Download progress", strings.Join(failed, ", "))
		}
		if running == 0 {
			return seen, nil
		}
		if err := httpx.Sleep(ctx, pollDelay(attempt)); err != nil {
			return nil, fmt.Errorf("waiting for %d plugin download(s) in the update center: %w", running, err)
		}
	}
}

// SafeRestart asks Jenkins to restart once the update center's downloads
// and then the running builds have finished (POST
// /updateCenter/safeRestart, which queues a restart job behind the
// downloads; /safeRestart would wait for builds only and cut a download
// off). It notes the running instance's X-Jenkins-Session first, so
// WaitReady waits for the new instance rather than returning while the
// restart still waits for builds. Not retried: a lost answer is sorted
// out by WaitReady.
func (c *Client) SafeRestart(ctx context.Context) error {
	r, err := c.do(ctx, request{method: http.MethodGet, path: "api/json", query: url.Values{"tree": {"mode"}}})
	if err != nil {
		return fmt.Errorf("restart Jenkins: %w", err)
	}
	c.restart.Lock()
	c.restart.from = r.header.Get("X-Jenkins-Session")
	c.restart.Unlock()
	_, err = c.do(ctx, request{method: http.MethodPost, path: "updateCenter/safeRestart", noFollow: true,
		ok: []int{http.StatusOK, http.StatusFound, http.StatusSeeOther, http.StatusServiceUnavailable}})
	if err != nil {
		return fmt.Errorf("restart Jenkins: %w", err)
	}
	return nil
}

// restartWait bounds WaitReady's wait for a safe restart when the caller
// set no deadline.
const restartWait = 30 * time.Minute

// WaitReady polls the root API until Jenkins answers 200 with an
// X-Jenkins header (after a restart it answers 503 or refuses connections
// for a while) and, after SafeRestart, from a new instance (another
// X-Jenkins-Session; a controller that sends none must have been seen
// down), bounded by ctx. It then starts a new web session, since a
// restart invalidates the old session and its crumb.
func (c *Client) WaitReady(ctx context.Context) error {
	c.restart.Lock()
	from := c.restart.from
	c.restart.Unlock()
	if _, ok := ctx.Deadline(); !ok && from != "" {
		// A safe restart waits for every running build: bound the wait
		// so a build that never ends is reported, not waited for forever.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, restartWait)
		defer cancel()
	}
	var last error
	down := false
	for attempt := 1; ; attempt++ {
		r, err := c.do(ctx, request{method: http.MethodGet, path: "api/json", query: url.Values{"tree": {"mode"}}})
		switch {
		case err == nil && r.header.Get("X-Jenkins") != "":
			if sess := r.header.Get("X-Jenkins-Session"); from != "" && (sess == from || sess == "" && !down) {
				last = errors.New("not restarted yet (a safe restart waits for running builds)")
				break
			}
			c.restart.Lock()
			c.restart.from = ""
			c.restart.Unlock()
			c.session.reset()
			return nil
		case err == nil:
			last = errors.New("answer without X-Jenkins header")
		case errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden):
			return err
		default:
			down = true
			last = err
		}
		if serr := httpx.Sleep(ctx, pollDelay(attempt)); serr != nil {
			if from != "" && !down {
				return fmt.Errorf("jenkins %s did not restart: a safe restart waits for running builds to finish (finish or abort them, or restart Jenkins yourself, then run again): %w", c.base, serr)
			}
			return fmt.Errorf("jenkins %s not ready: %w (last answer: %v)", c.base, serr, last)
		}
	}
}
