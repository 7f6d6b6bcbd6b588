package jenkins

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// RequiredPlugins returns the plugins the generated jobs and the credential
// need, a fresh slice each call (a shared one could be changed by any
// caller). credentials and plain-credentials are not listed: they are
// mandatory dependencies of credentials-binding and oidc-provider, so
// Jenkins cannot enable those without them.
func RequiredPlugins() []string {
	return []string{"oidc-provider", "credentials-binding", "workflow-job", "workflow-cps", "cloudbees-folder"}
}

// Info is what Info reports about a controller.
type Info struct {
	// Version is the X-Jenkins header, e.g. 2.462.3.
	Version string
	// User is the authenticated user's id ("anonymous" without a token).
	User string
	// Plugins by short name.
	Plugins map[string]Plugin
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
	info.Plugins, err = c.Plugins(ctx)
	switch {
	case errors.Is(err, ErrForbidden):
		info.Plugins, info.PluginsHidden = nil, true
	case err != nil:
		return nil, err
	}
	return info, nil
}

// Plugins lists the installed plugins in one request
// (/pluginManager/api/json?tree=plugins[shortName,version,active,enabled]).
func (c *Client) Plugins(ctx context.Context) (map[string]Plugin, error) {
	var pl struct {
		Plugins []Plugin `json:"plugins"`
	}
	err := c.viaGojenkins(ctx, "list plugins", func(ctx context.Context) error {
		_, err := c.gj.Requester.GetJSON(ctx, "/pluginManager", &pl, map[string]string{"tree": "plugins[shortName,version,active,enabled]"})
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
