package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
)

// options are the flags every token-using command shares. Each defaults to
// its environment variable (the Cloudsmith CLI's names where it has one).
type options struct {
	org, service, repo string
	apiURL, caBundle   string
	// hosts are the package hosts by pkgconfig.Endpoint key.
	hosts     map[string]*string
	goNoSumDB string
	// cargoIndex is pkgconfig.Settings.CargoIndex.
	cargoIndex string
	// getenv is the app's environment, where the user's own package
	// manager configuration is found (to merge, not hide).
	getenv    func(string) string
	tokenFile string
	cacheDir  string
	noCache   bool
	verbose   bool
}

// flagSet returns a FlagSet for command name whose errors and help go to
// stderr.
func (a *app) flagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(a.prog+" "+name, flag.ContinueOnError)
	fs.SetOutput(a.io.ErrOut)
	fs.Usage = func() {
		fmt.Fprintf(a.io.ErrOut, "Usage: %s %s\n\nFlags (each defaults to the environment variable in brackets):\n", a.prog, usage)
		fs.PrintDefaults()
	}
	return fs
}

// register adds the shared flags, with defaults from the environment.
func (a *app) register(fs *flag.FlagSet, withHosts bool) *options {
	env := a.io.Getenv
	def := func(name, fallback string) string {
		if v := env(name); v != "" {
			return v
		}
		return fallback
	}
	o := &options{hosts: map[string]*string{}, getenv: env}
	fs.StringVar(&o.org, "org", env("CLOUDSMITH_ORG"), "Cloudsmith organization slug [CLOUDSMITH_ORG]")
	fs.StringVar(&o.service, "service", env("CLOUDSMITH_SERVICE_SLUG"), "service account slug to exchange into [CLOUDSMITH_SERVICE_SLUG]")
	// The hosts come from pkgconfig's table: flag --<key>, variable
	// CLOUDSMITH_<KEY>. The API's is needed by every command.
	for _, e := range pkgconfig.Endpoints() {
		var v *string
		switch {
		case e.Key == pkgconfig.APIURL:
			v = &o.apiURL
		case withHosts:
			v = new(string)
			o.hosts[e.Key] = v
		default:
			continue
		}
		fs.StringVar(v, e.Flag(), def(e.Env(), e.Default), e.Serves+" ["+e.Env()+"]")
	}
	fs.StringVar(&o.caBundle, "ca-bundle", env("CLOUDSMITH_CA_BUNDLE"), "PEM file of extra trusted roots; TLS is always verified [CLOUDSMITH_CA_BUNDLE]")
	fs.StringVar(&o.tokenFile, "token-file", env("OIDC_TOKEN_FILE"), "read the OIDC token from this file (the plugin's file credential), or - for stdin; otherwise $OIDC_TOKEN or $CLOUDSMITH_OIDC_TOKEN [OIDC_TOKEN_FILE]")
	fs.StringVar(&o.cacheDir, "cache-dir", env("CLOUDSMITH_OIDC_CACHE_DIR"), "token cache directory (default $WORKSPACE_TMP/cloudsmith-oidc, else the user cache dir) [CLOUDSMITH_OIDC_CACHE_DIR]")
	fs.BoolVar(&o.noCache, "no-cache", envBool(env("CLOUDSMITH_OIDC_NO_CACHE")), "always exchange; neither read nor write the token cache [CLOUDSMITH_OIDC_NO_CACHE]")
	fs.BoolVar(&o.verbose, "verbose", false, "log each HTTP attempt to stderr (never headers, bodies or tokens)")
	if withHosts {
		fs.StringVar(&o.repo, "repo", env("CLOUDSMITH_REPO"), "Cloudsmith repository slug [CLOUDSMITH_REPO]")
		fs.StringVar(&o.cargoIndex, "cargo-index", env("CLOUDSMITH_CARGO_INDEX"), "Cargo index: sparse (Cargo 1.74+) or git (older Cargo, e.g. Debian bookworm's); default from `cargo -V` [CLOUDSMITH_CARGO_INDEX]")
		fs.StringVar(&o.goNoSumDB, "go-nosumdb", env("CLOUDSMITH_GO_NOSUMDB"), "GONOSUMDB patterns of private modules the public checksum database can't know (not GOPRIVATE: that would bypass the proxy) [CLOUDSMITH_GO_NOSUMDB]")
	}
	return o
}

func envBool(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// settings returns the package-manager settings.
func (o *options) settings() pkgconfig.Settings {
	s := pkgconfig.Settings{Org: o.org, Repo: o.repo, URLs: map[string]string{}, GoNoSumDB: o.goNoSumDB, CargoIndex: o.cargoIndex, Getenv: o.getenv}
	for k, v := range o.hosts {
		s.URLs[k] = *v
	}
	s.URLs[pkgconfig.APIURL] = o.apiURL
	return s
}

// secretFlags are flag names people reach for to pass a token. They are
// refused with an explanation, without echoing the value.
var secretFlags = []string{"token", "oidc-token", "api-key", "password", "jwt"}

// parse parses flags interleaved with positional arguments (so "configure
// python --dir d" works), stopping at "--" or, with stopAtArg, at the first
// positional argument (exec's command). It returns the positionals and
// whatever follows "--".
func parse(fs *flag.FlagSet, args []string, stopAtArg bool) (pos, rest []string, err error) {
	for _, arg := range args {
		if arg == "--" {
			break
		}
		name := strings.TrimLeft(arg, "-")
		if i := strings.IndexByte(name, '='); i >= 0 {
			name = name[:i]
		}
		if strings.HasPrefix(arg, "-") {
			for _, s := range secretFlags {
				if name == s {
					return nil, nil, usageError("there is no --%s flag: a token on the command line is visible to every process on the agent; bind the OIDC token to $OIDC_TOKEN (or a file credential to $OIDC_TOKEN_FILE) or pass --token-file FILE (or - for stdin)", s)
				}
			}
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil, err
			}
			// Package flag has already printed the error and the usage.
			return nil, nil, &cmdutil.ExitError{Code: ExitUsage}
		}
		left := fs.Args()
		// Package flag stops at a positional argument, or consumes "--"
		// and stops after it.
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" {
			return pos, left, nil
		}
		if len(left) == 0 {
			return pos, nil, nil
		}
		if stopAtArg {
			return pos, left, nil
		}
		pos = append(pos, left[0])
		args = left[1:]
	}
}

// maxTokenFile bounds how much is read from a token file or stdin.
const maxTokenFile = 64 << 10

// tokenEnvs are the variables a string-kind credential may be bound to, in
// order of precedence: ours, then the Cloudsmith CLI's name for the same
// token (cloudsmith-cli's --oidc-token option reads CLOUDSMITH_OIDC_TOKEN).
var tokenEnvs = []string{"OIDC_TOKEN", "CLOUDSMITH_OIDC_TOKEN"}

// oidcToken reads the OIDC token: --token-file (or $OIDC_TOKEN_FILE) wins
// over $OIDC_TOKEN and $CLOUDSMITH_OIDC_TOKEN, since naming a file is the
// more explicit act. A file-kind credential is read here, by the binary,
// so the token never passes through a shell variable, where set -x or an
// env dump of the build would print it (Jenkins masks only the file's
// path, not its content).
func (a *app) oidcToken(o *options) (string, error) {
	if o.tokenFile != "" {
		var r io.Reader
		name := o.tokenFile
		if name == "-" {
			r, name = a.io.In, "stdin"
		} else {
			f, err := os.Open(filepath.Clean(name))
			if err != nil {
				return "", fmt.Errorf("reading the OIDC token: %w", err)
			}
			defer f.Close()
			r = f
		}
		raw, err := io.ReadAll(io.LimitReader(r, maxTokenFile+1))
		if err != nil {
			return "", fmt.Errorf("reading the OIDC token from %s: %w", name, err)
		}
		if len(raw) > maxTokenFile {
			return "", fmt.Errorf("the OIDC token in %s is larger than %d bytes: is it the right file?", name, maxTokenFile)
		}
		tok := strings.TrimSpace(string(raw))
		if tok == "" {
			return "", fmt.Errorf("the OIDC token file %s is empty", name)
		}
		return tok, nil
	}
	for _, name := range tokenEnvs {
		if tok := strings.TrimSpace(a.io.Getenv(name)); tok != "" {
			return tok, nil
		}
	}
	return "", errors.New("no OIDC token: bind the oidc-provider credential to OIDC_TOKEN (or CLOUDSMITH_OIDC_TOKEN) " +
		"(withCredentials([string(credentialsId: 'ID', variable: 'OIDC_TOKEN')])), " +
		"or a file credential to OIDC_TOKEN_FILE (withCredentials([file(credentialsId: 'ID', variable: 'OIDC_TOKEN_FILE')])); " +
		"--token-file FILE names the file explicitly (--token-file - reads stdin)")
}
