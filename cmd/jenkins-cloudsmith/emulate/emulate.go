// Package emulate implements `jenkins-cloudsmith emulate`: it starts the
// emulators as real HTTP servers, prints where they are as one JSON line,
// and serves until interrupted. Scripts, benchmarks and people trying the
// tool read that line; keep its shape stable.
package emulate

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// Endpoints is the one line emulate prints on stdout.
type Endpoints struct {
	Jenkins *JenkinsEndpoint `json:"jenkins"`
	// Cloudsmith is added by the Cloudsmith emulator (issue 3); it is
	// omitted while that emulator is not started.
	Cloudsmith any `json:"cloudsmith,omitempty"`
}

// JenkinsEndpoint says how to reach the emulated controller.
type JenkinsEndpoint struct {
	URL  string `json:"url"`
	User string `json:"user"`
	// Token is the emulator's own throwaway admin API token. Printing it is
	// intentional: it only opens this short-lived in-memory controller, and
	// scripts need it to log in.
	Token string `json:"token"`
}

// Options are the command's flags.
type Options struct {
	JenkinsAddr    string
	Latency        time.Duration
	FaultRate      float64
	FaultSeed      uint64
	WithoutPlugins []string
}

// NewCmd returns the emulate command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Run the Jenkins emulator on loopback and print how to reach it",
		Long: `emulate starts an in-memory Jenkins controller (with the oidc-provider,
credentials and folder plugins) as a real HTTP server, prints exactly one JSON
line on stdout:

  {"jenkins":{"url":"http://127.0.0.1:PORT/","user":"admin","token":"..."}}

and serves until interrupted. Its builds run shell steps on this machine, so
it listens on loopback unless --jenkins-addr says otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Run(cmd.Context(), f, *opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.JenkinsAddr, "jenkins-addr", "127.0.0.1:0", "address the Jenkins emulator listens on")
	fl.DurationVar(&opts.Latency, "latency", 0, "delay added to every response, e.g. 5ms")
	fl.Float64Var(&opts.FaultRate, "fault-rate", 0, "share of requests (0..1) answered with a 5xx or a connection reset")
	fl.Uint64Var(&opts.FaultSeed, "fault-seed", 1, "seed for the fault sequence, so runs are reproducible")
	fl.StringSliceVar(&opts.WithoutPlugins, "without-plugins", nil, "plugins the controller lacks, e.g. oidc-provider,workflow-cps")
	return cmd
}

// Run starts the emulators, prints the endpoints line and blocks until ctx
// is cancelled.
func Run(ctx context.Context, f *cmdutil.Factory, opts Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.FaultRate < 0 || opts.FaultRate > 1 {
		return fmt.Errorf("--fault-rate %v is outside 0..1", opts.FaultRate)
	}
	if !isLoopback(opts.JenkinsAddr) {
		fmt.Fprintf(f.IO.ErrOut, "warning: the Jenkins emulator listens on %s, beyond this machine; anyone who can reach it and log in can run shell commands here through its builds\n", opts.JenkinsAddr)
	}
	jopts := []jenkinstest.Option{jenkinstest.WithAddr(opts.JenkinsAddr)}
	if opts.Latency > 0 {
		jopts = append(jopts, jenkinstest.WithLatency(opts.Latency))
	}
	if opts.FaultRate > 0 {
		jopts = append(jopts, jenkinstest.WithFaultRate(opts.FaultRate, opts.FaultSeed))
	}
	if len(opts.WithoutPlugins) > 0 {
		jopts = append(jopts, jenkinstest.WithoutPlugins(opts.WithoutPlugins...))
	}
	js, err := jenkinstest.Start(jopts...)
	if err != nil {
		return fmt.Errorf("starting the Jenkins emulator: %w", err)
	}
	defer js.Close()

	line, err := json.Marshal(Endpoints{Jenkins: &JenkinsEndpoint{URL: js.URL, User: "admin", Token: js.Jenkins.AdminToken()}})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f.IO.Out, "%s\n", line); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// isLoopback reports whether addr (host:port) only listens on loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
