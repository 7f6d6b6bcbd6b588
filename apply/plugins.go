package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// InstallPlugins installs the named plugins through the controller's
// update center and waits for the downloads; when Jenkins could not load
// them all dynamically it waits for the safe restart that loads them.
// It then checks they are active.
func InstallPlugins(ctx context.Context, j Jenkins, names []string) error {
	specs := make([]string, len(names))
	for i, n := range names {
		specs[i] = n + "@latest"
	}
	if err := j.InstallPlugins(ctx, specs...); err != nil {
		return fmt.Errorf("install plugins %s: %w", strings.Join(names, ", "), err)
	}
	if info, err := j.Info(ctx); err == nil && !info.PluginsHidden {
		if missing, disabled := plan.MissingPlugins(info, names); len(missing)+len(disabled) == 0 {
			return nil // loaded dynamically: no restart needed
		}
	}
	if err := j.SafeRestart(ctx); err != nil {
		return fmt.Errorf("restart Jenkins to load plugins %s: %w", strings.Join(names, ", "), err)
	}
	if err := j.WaitReady(ctx); err != nil {
		return fmt.Errorf("wait for Jenkins to come back after restart: %w", err)
	}
	info, err := j.Info(ctx)
	if err != nil {
		return err
	}
	if missing, disabled := plan.MissingPlugins(info, names); len(missing)+len(disabled) > 0 {
		pe := &jenkins.PluginsError{Inactive: missing, Disabled: disabled}
		if u, ok := j.(interface{ URL() string }); ok {
			pe.URL = u.URL()
		}
		return fmt.Errorf("after installing and restarting: %w", pe)
	}
	return nil
}
