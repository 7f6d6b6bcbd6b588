package jenkins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// RequiredPlugins returns every plugin a rendered spec may need (the
// credential, folders, both job kinds, Pipelines from git, the shared
// library's steps), a fresh slice each call (a shared one could be changed
// by any caller). What one spec needs is render.Output.RequiredPlugins,
// derived from what it renders; this is the fallback when nothing was
// rendered. credentials and plain-credentials are not listed: they are
// mandatory dependencies of credentials-binding and oidc-provider, so
// Jenkins cannot enable those without them.
func RequiredPlugins() []string {
	return []string{"oidc-provider", "credentials-binding", "workflow-job", "workflow-cps", "cloudbees-folder",
		"workflow-durable-task-step", "workflow-basic-steps", "pipeline-stage-step", "workflow-scm-step",
		"pipeline-groovy-lib", "git"}
}

// Info is what Info reports about a controller.
type Info struct {
	// Version is the X-Jenkins header, e.g. 2.462.3.
	Version string
	// User is the authenticated user's id ("anonymous" without a token).
	User string
	// Plugins by short name.
	Plugins map[string]Plugin
	// RootURLUnset is set when Jenkins reports no configured root URL
	// (Manage Jenkins » System » Jenkins URL): /api/json exports it as
	// "url" (Jenkins.getConfiguredRootUrl), null when unset. Builds then
	// get no JENKINS_URL or JOB_URL, so the oidc-provider plugin's default
	// sub claim stays "${JOB_URL}" and every token fails ("Apparently
	// unsubstituted claims"), while /oidc still answers from each request's
	// URL.
	RootURLUnset bool
	// RootURL is the configured root URL, when Jenkins reports one.
	RootURL string
	// PluginsHidden is set when the user may not read the plugin list:
	// Jenkins asks for Overall/SystemRead there, which most controllers
	// grant only with Administer. Plugins is nil then, and callers skip
	// the plugin check with a warning instead of refusing to work.
	PluginsHidden bool
}

// PluginsHiddenHint says how to let the plugin check run.
const PluginsHiddenHint = "the plugin check was skipped: jenkins.user may not read the plugin list " +
	"(it needs Overall/SystemRead, which most controllers grant only with Overall/Administer)"

// Plugin is one installed plugin.
type Plugin struct {
	ShortName string `json:"shortName"`
	Version   string `json:"version"`
	Active    bool   `json:"active"`
	Enabled   bool   `json:"enabled"`
	// Dependencies are what the plugin's manifest asks for; a mandatory
	// one that is missing keeps it from loading (PluginManager leaves it
	// inactive until a restart after the dependency is installed).
	Dependencies []Dependency `json:"dependencies"`
}

// Dependency is one plugin dependency.
type Dependency struct {
	ShortName string `json:"shortName"`
	Version   string `json:"version"`
	Optional  bool   `json:"optional"`
}

// MissingDependencies returns, sorted, the mandatory dependencies (and
// theirs) of the named plugins that i lacks entirely: an installed plugin
// whose dependency is missing never becomes active, and installing it
// again does nothing, so the dependency is what must be installed.
func (i *Info) MissingDependencies(names []string) []string {
	set := map[string]bool{}
	seen := map[string]bool{}
	var walk func(n string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		p, ok := i.Plugins[n]
		if !ok {
			return
		}
		for _, d := range p.Dependencies {
			if d.Optional {
				continue
			}
			if _, ok := i.Plugins[d.ShortName]; !ok {
				set[d.ShortName] = true
			}
			walk(d.ShortName)
		}
	}
	for _, n := range names {
		walk(n)
	}
	return sortedKeys(set)
}

// Info reads the version and user (GET /whoAmI/api/json, whose answer
// carries X-Jenkins) and the plugins (one GET with a tree filter).
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var who struct {
		Name          string `json:"name"`
		Authenticated bool   `json:"authenticated"`
	}
	info := &Info{}
	err := c.viaGojenkins(ctx, "whoAmI", func(ctx context.Context) error {
		resp, err := c.gj.Requester.GetJSON(ctx, "/whoAmI", &who, nil)
		if resp != nil {
			info.Version = resp.Header.Get("X-Jenkins")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if info.Version == "" {
		return nil, fmt.Errorf("%s does not look like Jenkins: its answer has no X-Jenkins header (check jenkins.url)", c.base)
	}
	info.User = who.Name
	if info.RootURL, info.RootURLUnset, err = c.configuredRootURL(ctx); err != nil {
		return nil, err
	}
	info.Plugins, err = c.Plugins(ctx)
	switch {
	case errors.Is(err, ErrForbidden):
		info.Plugins, info.PluginsHidden = nil, true
	case err != nil:
		return nil, err
	}
	return info, nil
}

// RootURLHint says where the root URL is set.
const RootURLHint = "set it in Manage Jenkins » System » Jenkins URL"

// RootURLProblem says what is wrong with the controller's root URL for
// minting tokens that match a spec whose jenkins.url is specURL, or ""
// when nothing is: unset (every build's token fails to mint), or, when
// the spec relies on Jenkins' own issuer (customIssuer false), different
// from specURL (tokens then carry an iss the spec's provider does not
// trust).
func (i *Info) RootURLProblem(specURL string, customIssuer bool) string {
	want := strings.TrimRight(specURL, "/") + "/"
	switch {
	case i.RootURLUnset:
		return fmt.Sprintf("Jenkins has no root URL configured, so builds get no JOB_URL and every ID token fails to mint (\"Apparently unsubstituted claims: ${JOB_URL}\"): %s to %s", RootURLHint, want)
	case i.RootURL != "" && !customIssuer && !strings.EqualFold(strings.TrimRight(i.RootURL, "/")+"/", want):
		return fmt.Sprintf("Jenkins' root URL is %s but jenkins.url is %s: tokens carry iss %soidc, which the spec's issuer %soidc is not; %s to %s, or set jenkins.url to %s",
			i.RootURL, want, strings.TrimRight(i.RootURL, "/")+"/", want, RootURLHint, want, i.RootURL)
	}
	return ""
}

// configuredRootURL reads the root URL Jenkins is configured with
// (GET /api/json?tree=url). unset is true only when Jenkins says null;
// a controller that does not export the field reports neither.
func (c *Client) configuredRootURL(ctx context.Context) (root string, unset bool, err error) {
	r, err := c.do(ctx, request{method: http.MethodGet, path: "api/json", query: url.Values{"tree": {"url"}}, accept: "application/json"})
	if err != nil {
		return "", false, fmt.Errorf("read the root URL: %w", err)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &v); err != nil {
		return "", false, fmt.Errorf("read the root URL: the answer is not JSON (is a login page or proxy in front of Jenkins?): %w", err)
	}
	raw, ok := v["url"]
	if !ok {
		return "", false, nil
	}
	if string(raw) == "null" {
		return "", true, nil
	}
	_ = json.Unmarshal(raw, &root)
	return root, root == "", nil
}

// Plugins lists the installed plugins in one request
// (/pluginManager/api/json?tree=plugins[shortName,version,active,enabled,dependencies[shortName,version,optional]]).
func (c *Client) Plugins(ctx context.Context) (map[string]Plugin, error) {
	var pl struct {
		Plugins []Plugin `json:"plugins"`
	}
	err := c.viaGojenkins(ctx, "list plugins", func(ctx context.Context) error {
		_, err := c.gj.Requester.GetJSON(ctx, "/pluginManager", &pl, map[string]string{"tree": "plugins[shortName,version,active,enabled,dependencies[shortName,version,optional]]"})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]Plugin, len(pl.Plugins))
	for _, p := range pl.Plugins {
		out[p.ShortName] = p
	}
	return out, nil
}

// CheckPlugins returns a *PluginsError naming every plugin of names that is
// missing, disabled or not yet active. No names means RequiredPlugins.
func (c *Client) CheckPlugins(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		names = RequiredPlugins()
	}
	have, err := c.Plugins(ctx)
	if err != nil {
		return err
	}
	return checkPlugins(c.base.String(), have, names)
}

func checkPlugins(url string, have map[string]Plugin, names []string) error {
	e := &PluginsError{URL: url}
	for _, n := range names {
		p, ok := have[n]
		switch {
		case !ok:
			e.Missing = append(e.Missing, n)
		case !p.Enabled:
			e.Disabled = append(e.Disabled, n)
		case !p.Active:
			e.Inactive = append(e.Inactive, n)
		}
	}
	if len(e.Missing)+len(e.Disabled)+len(e.Inactive) == 0 {
		return nil
	}
	sort.Strings(e.Missing)
	sort.Strings(e.Disabled)
	sort.Strings(e.Inactive)
	return e
}

// asHTTPError is errors.As for *HTTPError.
func asHTTPError(err error) (*HTTPError, bool) {
	var he *HTTPError
	ok := errors.As(err, &he)
	return he, ok
}
