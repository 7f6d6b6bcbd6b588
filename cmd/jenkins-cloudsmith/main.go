// Command jenkins-cloudsmith makes a Jenkins controller (and optionally
// Cloudsmith) match one YAML spec, so that builds get keyless access to
// Cloudsmith through OpenID Connect.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/root"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &cmdutil.Factory{IO: iostreams.System(), Version: version}
	cmd := root.New(f)
	err := cmd.ExecuteContext(ctx)
	var ee *cmdutil.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		fmt.Fprintln(f.IO.ErrOut, "error:", err)
	}
	os.Exit(cmdutil.ExitCode(err))
}
