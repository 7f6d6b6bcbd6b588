// Command jenkins-cloudsmith makes a Jenkins controller (and optionally
// Cloudsmith) match one YAML spec, so that builds get keyless access to
// Cloudsmith through OpenID Connect.
//
// It is also a multi-call binary: started under the name cloudsmith-oidc
// (a symlink or a copy, as `jenkins-cloudsmith demo` makes one) it is the
// step binary, so the demo needs nothing but this one program.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/cloudsmith-oidc/app"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/root"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/errfix"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if isStepBinary(os.Args[0]) {
		// cloudsmith-oidc handles signals itself (exec forwards them to the
		// child), exactly as the standalone binary does.
		os.Exit(app.MainVersion(context.Background(), os.Args, iostreams.System(), version))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &cmdutil.Factory{IO: iostreams.System(), Version: version}
	cmd := root.New(f)
	err := cmd.ExecuteContext(ctx)
	var ee *cmdutil.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		// Errors are written to be safe; masking anything token-shaped is
		// the last line of defence for one that is not.
		fmt.Fprintln(f.IO.ErrOut, "error:", redact.JWTs(err.Error()))
		if fix := errfix.Fix(err); fix != "" {
			fmt.Fprintln(f.IO.ErrOut, "fix:", fix)
		}
	}
	os.Exit(cmdutil.ExitCode(err))
}

// isStepBinary reports whether argv0 names the cloudsmith-oidc step binary.
func isStepBinary(argv0 string) bool {
	name := filepath.Base(argv0)
	if ext := filepath.Ext(name); strings.EqualFold(ext, ".exe") {
		name = strings.TrimSuffix(name, ext)
	}
	return name == "cloudsmith-oidc"
}
