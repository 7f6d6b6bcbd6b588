// Package world wires the two emulators together the one way the demo,
// `emulate` and the end-to-end tests all use: a Jenkins emulator (with
// this repository's vars/ as the global trusted library unless Bare), a
// Cloudsmith emulator with the same latency and faults, the
// cloudsmith-oidc step binary for the builds, and the example spec that
// points at all of it.
package world

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sharedlib"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// Options shape a World.
type Options struct {
	// JenkinsAddr is where the Jenkins emulator listens (default loopback,
	// any port).
	JenkinsAddr string
	// Latency and FaultRate/FaultSeed go to both emulators.
	Latency   time.Duration
	FaultRate float64
	FaultSeed uint64
	// WithoutPlugins are plugins the controller lacks.
	WithoutPlugins []string
	// Bare leaves out the jenkins-cloudsmith global trusted library.
	Bare bool
	// AllowLocalCheckout sets hudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT,
	// so Pipelines may come from file:// URLs and local paths (refused by
	// default since SECURITY-2478).
	AllowLocalCheckout bool
	// TLS lists the Cloudsmith hosts served over https (the go command
	// never sends credentials over plain http); World.CAPEM signs them.
	TLS []cloudsmithtest.Host
	// BuildEnv is added to every build's environment (KEY=value).
	BuildEnv []string
	// Cloudsmith are further Cloudsmith emulator options (visibility
	// delay, plain slugs, claim matching).
	Cloudsmith []cloudsmithtest.Option
}

// World is both emulators running.
type World struct {
	Jenkins    *jenkinstest.Server
	Cloudsmith *cloudsmithtest.Server
	// Library is the global trusted library; nil when Bare.
	Library *sharedlib.Library
}

// Start starts a World; Close stops it. On error nothing is left running.
func Start(ctx context.Context, o Options) (w *World, err error) {
	if o.FaultRate < 0 || o.FaultRate > 1 {
		return nil, fmt.Errorf("the fault rate %v is outside 0..1", o.FaultRate)
	}
	w = &World{}
	defer func() {
		if err != nil {
			_ = w.Close()
			w = nil
		}
	}()
	var jopts []jenkinstest.Option
	copts := []cloudsmithtest.Option{}
	if len(o.TLS) > 0 {
		copts = append(copts, cloudsmithtest.WithTLS(o.TLS...))
	}
	if o.JenkinsAddr != "" {
		jopts = append(jopts, jenkinstest.WithAddr(o.JenkinsAddr))
	}
	if len(o.BuildEnv) > 0 {
		jopts = append(jopts, jenkinstest.WithBuildEnv(o.BuildEnv...))
	}
	if o.Latency > 0 {
		copts = append(copts, cloudsmithtest.WithLatency(o.Latency))
		jopts = append(jopts, jenkinstest.WithLatency(o.Latency))
	}
	if o.FaultRate > 0 {
		copts = append(copts, cloudsmithtest.WithFaultRate(o.FaultRate, o.FaultSeed))
		jopts = append(jopts, jenkinstest.WithFaultRate(o.FaultRate, o.FaultSeed))
	}
	if len(o.WithoutPlugins) > 0 {
		jopts = append(jopts, jenkinstest.WithoutPlugins(o.WithoutPlugins...))
	}
	if o.AllowLocalCheckout {
		jopts = append(jopts, jenkinstest.WithAllowLocalCheckout())
	}
	if !o.Bare {
		if w.Library, err = sharedlib.Start(ctx); err != nil {
			return nil, fmt.Errorf("serving the shared library (start without it with --bare): %w", err)
		}
		jopts = append(jopts, w.Library.Option())
	}
	copts = append(copts, o.Cloudsmith...)
	if w.Cloudsmith, err = cloudsmithtest.Start(copts...); err != nil {
		return nil, fmt.Errorf("starting the Cloudsmith emulator: %w", err)
	}
	if w.Jenkins, err = jenkinstest.Start(jopts...); err != nil {
		return nil, fmt.Errorf("starting the Jenkins emulator: %w", err)
	}
	return w, nil
}

// Close stops builds first (Jenkins' Close waits for them), then what
// they use.
func (w *World) Close() error {
	var errs []error
	if w.Jenkins != nil {
		errs = append(errs, w.Jenkins.Close())
	}
	if w.Library != nil {
		w.Library.Close()
	}
	if w.Cloudsmith != nil {
		errs = append(errs, w.Cloudsmith.Close())
	}
	return errors.Join(errs...)
}

// Getenv answers the example spec's ${VAR}s with the emulators' own
// throwaway secrets, and nothing else.
func (w *World) Getenv(name string) string {
	switch name {
	case JenkinsEnv:
		return w.Jenkins.Jenkins.AdminToken()
	case CloudsmithEnv:
		return w.Cloudsmith.APIKey
	}
	return ""
}

// Secrets are the emulators' secrets by what they are, for leak checks.
func (w *World) Secrets() map[string]string {
	return map[string]string{
		"the Jenkins API token":  w.Jenkins.Jenkins.AdminToken(),
		"the Cloudsmith API key": w.Cloudsmith.APIKey,
	}
}

// Spec renders the example spec for w: v's hosts are filled in from the
// running emulators.
func (w *World) Spec(v SpecValues) ([]byte, error) {
	cs := w.Cloudsmith
	v.JenkinsURL = trimSlash(w.Jenkins.URL)
	v.Org, v.Repo = cs.Org, cs.Repo
	v.Hosts = cs.Endpoints()
	return ExampleSpec(v)
}

// WriteCA writes the certificate of the https hosts to path (0644: a
// certificate is public) and returns path; "" when no host is https.
func (w *World) WriteCA(path string) (string, error) {
	if len(w.Cloudsmith.CACertPEM) == 0 {
		return "", nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, w.Cloudsmith.CACertPEM, 0o644); err != nil {
		return "", fmt.Errorf("writing the Cloudsmith emulator's certificate: %w", err)
	}
	return path, nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}

// PipEnv neutralises pip settings of this machine that would stop a
// build's pip from installing from the Cloudsmith index (they belong to
// the machine, not to the example, so they are not in the spec).
func PipEnv(getenv func(string) string) []string {
	env := []string{"PIP_ROOT_USER_ACTION=ignore"}
	for _, k := range []string{"PIP_NO_INDEX", "PIP_REQUIRE_VIRTUALENV", "PIP_USER"} {
		if getenv(k) != "" {
			env = append(env, k+"=false")
		}
	}
	return env
}
