package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

func runConfigure(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("configure", "configure FORMAT... [--dir DIR] [--output-env shell|json] [flags]\n\nFormats: "+pkgconfig.Usage()+"\n\n"+
		"Examples:\n  eval \"$(cloudsmith-oidc configure python npm --dir \"$WORKSPACE_TMP/cloudsmith\")\"\n"+
		"  twine upload --config-file \"$CLOUDSMITH_PYPIRC\" -r cloudsmith dist/*   # after configure python\n"+
		"  cloudsmith-oidc configure go --dir ./cs --output-env json")
	o := a.register(fs, true)
	dir := fs.String("dir", "", "directory for the configuration (created 0700); default a new one under $WORKSPACE_TMP or the temp dir")
	outEnv := fs.String("output-env", "shell", "how to print the environment: shell (export/unset lines) or json")
	pos, _, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	formats, err := pkgconfig.ParseFormats(pos...)
	if err != nil {
		return usageError("%v", err)
	}
	if *outEnv != "shell" && *outEnv != "json" {
		return usageError("--output-env %q: use shell or json", *outEnv)
	}
	if o.repo == "" {
		return usageError("no repository: set CLOUDSMITH_REPO or --repo")
	}
	s, err := a.exchange(ctx, o)
	if err != nil {
		return err
	}
	target := *dir
	if target == "" {
		if target, err = a.privateTempDir(""); err != nil {
			return err
		}
	}
	res, err := pkgconfig.Write(target, s.token, o.settings(), formats)
	if err != nil {
		return fmt.Errorf("configuring %s: %s", target, redact.String(err.Error(), s.secrets()...))
	}
	// The package managers trust --ca-bundle as exec's do.
	caEnv, err := caBundleEnv(target, o.caBundle)
	if err != nil {
		return err
	}
	res.Env = append(res.Env, caEnv...)
	// The environment never holds the token (pkgconfig's contract); mask
	// anyway, since this goes to a build log.
	w := redact.NewWriter(a.io.Out, append(res.Secrets, s.oidc)...)
	defer w.Close()
	if *outEnv == "json" {
		set := map[string]string{}
		unset := []string{}
		for _, e := range res.Env {
			if e.Unset {
				unset = append(unset, e.Name)
			} else {
				set[e.Name] = e.Value
			}
		}
		b, err := json.MarshalIndent(map[string]any{"env": set, "unset": unset, "files": res.Files}, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	for _, e := range res.Env {
		if e.Unset {
			fmt.Fprintf(w, "unset %s\n", e.Name)
		} else {
			fmt.Fprintf(w, "export %s=%s\n", e.Name, shellQuote(e.Value))
		}
	}
	return nil
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,+=@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// privateTempDir makes a new 0700 directory under parent, else
// $WORKSPACE_TMP (Jenkins' per-workspace temp dir), else the system temp
// directory.
func (a *app) privateTempDir(parent string) (string, error) {
	if parent == "" {
		parent = a.io.Getenv("WORKSPACE_TMP")
	}
	if parent != "" {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return "", fmt.Errorf("creating %s: %w", parent, err)
		}
	} else {
		parent = os.TempDir()
	}
	d, err := os.MkdirTemp(parent, "cloudsmith-oidc-*")
	if err != nil {
		return "", fmt.Errorf("creating a private directory: %w", err)
	}
	return d, nil
}
