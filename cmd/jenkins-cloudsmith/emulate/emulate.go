// Package emulate implements `jenkins-cloudsmith emulate`: it starts the
// emulators as real HTTP servers, prints where they are as one JSON line,
// and serves until interrupted. Scripts, benchmarks and people trying the
// tool read that line; keep its shape stable.
package emulate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sharedlib"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// Endpoints is the one line emulate prints on stdout.
type Endpoints struct {
	Jenkins *JenkinsEndpoint `json:"jenkins"`
	// Cloudsmith is the Cloudsmith emulator (issue 3 §4).
	Cloudsmith *CloudsmithEndpoint `json:"cloudsmith,omitempty"`
}

// CloudsmithEndpoint says how to reach the emulated Cloudsmith: one
// loopback host each for the API, downloads (Python, raw), npm and Go, with
// org Org holding repository Repo and its demo packages.
type CloudsmithEndpoint struct {
	APIURL      string `json:"api_url"`
	DownloadURL string `json:"download_url"`
	NPMURL      string `json:"npm_url"`
	GoURL       string `json:"go_url"`
	// APIKey is the emulator's throwaway owner key (management API and
	// package hosts); printing it is as intentional as the Jenkins token.
	APIKey string `json:"api_key"`
	Org    string `json:"org"`
	Repo   string `json:"repo"`
	// CAFile is the PEM certificate of GoURL, which is https because the go
	// command never sends credentials over plain http; point SSL_CERT_FILE
	// at it. The file is removed when emulate exits.
	CAFile string `json:"ca_file,omitempty"`
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
	// Bare starts a controller without the jenkins-cloudsmith global
	// library (for specs that place the library themselves).
	Bare bool
}

// NewCmd returns the emulate command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Run the Jenkins and Cloudsmith emulators on loopback and print how to reach them",
		Long: `emulate starts an in-memory Jenkins controller (with the oidc-provider,
credentials and folder plugins) and an in-memory Cloudsmith (org "acme",
repository "demo" with demo packages) as real HTTP servers, prints exactly one
JSON line on stdout:

  {"jenkins":{"url":"http://127.0.0.1:PORT/","user":"admin","token":"..."},
   "cloudsmith":{"api_url":"http://127.0.0.1:PORT","download_url":"...","npm_url":"...",
     "go_url":"https://127.0.0.1:PORT","api_key":"...","org":"acme","repo":"demo","ca_file":"..."}}

and serves until interrupted. Its builds run shell steps on this machine, so
it listens on loopback unless --jenkins-addr says otherwise.

Pipeline builds run on this machine's groovy (Debian: apt-get install groovy).
The controller has this repository's vars/ registered as the Global Trusted
Pipeline Library "jenkins-cloudsmith" (default version main, served over git
from loopback), as an administrator would set it up, so Jenkinsfiles with
@Library('jenkins-cloudsmith') _ run; --bare leaves it out.`,
		Example: `  # Start both emulators and capture their endpoints in a script
  coproc EMU { jenkins-cloudsmith emulate; }
  read -r line <&"${EMU[0]}"
  export JENKINS_URL=$(jq -r .jenkins.url <<<"$line") JENKINS_API_TOKEN=$(jq -r .jenkins.token <<<"$line")

  # A slow, flaky controller without the oidc-provider plugin
  jenkins-cloudsmith emulate --latency 5ms --fault-rate 0.1 --without-plugins oidc-provider

  # A controller without the global library, for a spec's own library block
  jenkins-cloudsmith emulate --bare`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Run(cmd.Context(), f, *opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.JenkinsAddr, "jenkins-addr", "127.0.0.1:0", "address the Jenkins emulator listens on")
	fl.DurationVar(&opts.Latency, "latency", 0, "delay added to every response, e.g. 5ms")
	fl.Float64Var(&opts.FaultRate, "fault-rate", 0, "share of requests (0..1) answered with a 5xx or a connection reset (on Cloudsmith's API host also a 429 with Retry-After)")
	fl.Uint64Var(&opts.FaultSeed, "fault-seed", 1, "seed for the fault sequence, so runs are reproducible")
	fl.StringSliceVar(&opts.WithoutPlugins, "without-plugins", nil, "plugins the controller lacks, e.g. oidc-provider,workflow-cps")
	fl.BoolVar(&opts.Bare, "bare", false, "do not register the jenkins-cloudsmith shared library as a global trusted library")
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
	if !sendrule.IsLoopbackAddr(opts.JenkinsAddr) {
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
	if !opts.Bare {
		lib, err := sharedlib.Start(ctx)
		if err != nil {
			return fmt.Errorf("serving the shared library (use --bare to start without it): %w", err)
		}
		defer lib.Close()
		jopts = append(jopts, lib.Option())
	}
	js, err := jenkinstest.Start(jopts...)
	if err != nil {
		return fmt.Errorf("starting the Jenkins emulator: %w", err)
	}
	defer js.Close()

	cs, caDir, err := startCloudsmith(opts)
	if err != nil {
		return err
	}
	defer os.RemoveAll(caDir)
	defer cs.Close()

	line, err := json.Marshal(Endpoints{
		Jenkins: &JenkinsEndpoint{URL: js.URL, User: "admin", Token: js.Jenkins.AdminToken()},
		Cloudsmith: &CloudsmithEndpoint{
			APIURL: cs.APIURL, DownloadURL: cs.DownloadURL, NPMURL: cs.NPMURL, GoURL: cs.GoURL,
			APIKey: cs.APIKey, Org: cs.Org, Repo: cs.Repo, CAFile: filepath.Join(caDir, "ca.pem"),
		},
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f.IO.Out, "%s\n", line); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// startCloudsmith starts the Cloudsmith emulator on loopback with the same
// latency and faults as Jenkins, its Go host over https, and writes that
// host's certificate to ca.pem in a new temporary directory.
func startCloudsmith(opts Options) (*cloudsmithtest.Server, string, error) {
	copts := []cloudsmithtest.Option{cloudsmithtest.WithTLS(cloudsmithtest.HostGo)}
	if opts.Latency > 0 {
		copts = append(copts, cloudsmithtest.WithLatency(opts.Latency))
	}
	if opts.FaultRate > 0 {
		copts = append(copts, cloudsmithtest.WithFaultRate(opts.FaultRate, int64(opts.FaultSeed)))
	}
	cs, err := cloudsmithtest.Start(copts...)
	if err != nil {
		return nil, "", fmt.Errorf("starting the Cloudsmith emulator: %w", err)
	}
	dir, err := os.MkdirTemp("", "cloudsmith-emulator-")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "ca.pem"), cs.CACertPEM, 0o644)
	}
	if err != nil {
		_ = cs.Close()
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
		return nil, "", fmt.Errorf("writing the Cloudsmith emulator's certificate: %w", err)
	}
	return cs, dir, nil
}
