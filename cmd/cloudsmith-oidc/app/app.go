// Package app implements the cloudsmith-oidc commands. It is a library so
// that jenkins-cloudsmith's demo can run it in-process as a multi-call
// binary, with injected streams.
//
//	cloudsmith-oidc exchange  [--output FILE|-] [--as raw|json|env]
//	cloudsmith-oidc configure FORMAT... [--dir DIR] [--output-env shell|json]
//	cloudsmith-oidc exec      [--format python,npm] [--dir DIR] -- CMD ARGS...
//	cloudsmith-oidc inspect
//
// The OIDC token is read from $OIDC_TOKEN (or $CLOUDSMITH_OIDC_TOKEN, the
// Cloudsmith CLI's name), from --token-file FILE ($OIDC_TOKEN_FILE; the
// oidc-provider plugin's file credential, read here so the token never
// passes through a shell variable) or from
// stdin with --token-file -, and never from a flag value: argv is visible
// to every user of the agent.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// Exit statuses of cloudsmith-oidc's own failures (exec otherwise exits
// with the command's status).
const (
	ExitError = 1 // the exchange or configuration failed
	ExitUsage = 2 // bad flags or arguments
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, a *app, args []string) error
}

var commands = []command{
	{"exchange", "exchange the OIDC token and write the Cloudsmith token where asked", runExchange},
	{"configure", "write package-manager configuration and print the environment that uses it", runConfigure},
	{"exec", "run a command with package managers configured, masking the token in its output", runExec},
	{"inspect", "print the OIDC token's header and claims (never its signature)", runInspect},
	{"seal", "print the OIDC token sealed to a one-time public key (for jenkins-cloudsmith token)", runSeal},
	{"version", "print the version", runVersion},
}

// app is one invocation's state.
type app struct {
	io      *iostreams.IOStreams
	version string
	prog    string
}

// Main runs cloudsmith-oidc with args (args[0] is the program name) and
// returns the process exit status. The version comes from the module's
// build information.
func Main(ctx context.Context, args []string, ios *iostreams.IOStreams) int {
	return MainVersion(ctx, args, ios, "")
}

// MainVersion is Main with a version string stamped at link time; empty
// means the module's build information.
func MainVersion(ctx context.Context, args []string, ios *iostreams.IOStreams, version string) int {
	if version == "" {
		version = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	a := &app{io: ios, version: version, prog: "cloudsmith-oidc"}
	if len(args) > 0 {
		args = args[1:]
	}
	err := a.dispatch(ctx, args)
	if err == nil {
		return 0
	}
	var ee *cmdutil.ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return ee.Code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	// Errors are printed to build logs: whatever path produced one, it
	// must not carry the OIDC token, nor any token a user pasted as an
	// argument (some errors quote what was typed).
	var bound []string
	for _, name := range tokenEnvs {
		bound = append(bound, strings.TrimSpace(ios.Getenv(name)))
	}
	msg := redact.JWTs(redact.String(err.Error(), bound...))
	fmt.Fprintf(ios.ErrOut, "%s: %s\n", a.prog, msg)
	return cmdutil.ExitCode(err)
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		a.usage()
		return &cmdutil.ExitError{Code: ExitUsage}
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		a.usage()
		return nil
	case "--version", "-version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, a, args[1:])
		}
	}
	a.usage()
	return usageError("unknown command %q", name)
}

func (a *app) usage() {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s COMMAND [flags]\n\nCommands:\n", a.prog)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "\nRun %s COMMAND -h for a command's flags.\n", a.prog)
	fmt.Fprint(a.io.ErrOut, b.String())
}

// usageError is a bad invocation (exit status 2).
func usageError(format string, args ...any) error {
	return &cmdutil.ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

func runVersion(_ context.Context, a *app, _ []string) error {
	fmt.Fprintf(a.io.Out, "%s %s\n", a.prog, a.version)
	return nil
}
