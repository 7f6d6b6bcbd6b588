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
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/world"
)

// Endpoints is the one line emulate prints on stdout.
type Endpoints struct {
	Jenkins *JenkinsEndpoint `json:"jenkins"`
	// Cloudsmith is the Cloudsmith emulator (issue 3 §4).
	Cloudsmith *CloudsmithEndpoint `json:"cloudsmith,omitempty"`
}

// CloudsmithEndpoint says how to reach the emulated Cloudsmith: one
// loopback host each for the API, downloads and every format's own host,
// with org Org holding repository Repo and its demo packages. In JSON the
// hosts sit beside the other keys (api_url, download_url, npm_url,
// go_url, python_upload_url, ..., docker_registry as host:port): each key,
// upper-cased behind CLOUDSMITH_, is cloudsmith-oidc's variable for that
// host, so a script can export them all.
type CloudsmithEndpoint struct {
	// Hosts are the hosts' base URLs by key (cloudsmithtest Host.Key).
	Hosts map[string]string
	// APIKey is the emulator's throwaway owner key (management API and
	// package hosts); printing it is as intentional as the Jenkins token.
	APIKey string
	Org    string
	Repo   string
	// CAFile is the PEM certificate of the https hosts (the Go proxy: the
	// go command never sends credentials over plain http; the Docker
	// registry: docker, skopeo and podman want TLS for a registry); point
	// SSL_CERT_FILE at it. The file is removed when emulate exits.
	CAFile string
}

// cloudsmithFields are CloudsmithEndpoint's keys besides the hosts.
type cloudsmithFields struct {
	APIKey string `json:"api_key"`
	Org    string `json:"org"`
	Repo   string `json:"repo"`
	CAFile string `json:"ca_file,omitempty"`
}

// MarshalJSON writes the hosts and the other fields as one flat object.
func (e CloudsmithEndpoint) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range e.Hosts {
		out[k] = v
	}
	b, err := json.Marshal(cloudsmithFields{e.APIKey, e.Org, e.Repo, e.CAFile})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes: every string key but the
// other fields' is a host.
func (e *CloudsmithEndpoint) UnmarshalJSON(b []byte) error {
	var f cloudsmithFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*e = CloudsmithEndpoint{Hosts: map[string]string{}, APIKey: f.APIKey, Org: f.Org, Repo: f.Repo, CAFile: f.CAFile}
	for k, v := range all {
		if s, ok := v.(string); ok && k != "api_key" && k != "org" && k != "repo" && k != "ca_file" {
			e.Hosts[k] = s
		}
	}
	return nil
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

// Options are the command's flags: the world's (address, latency,
// faults, plugins, --bare, local checkouts) and emulate's own.
type Options struct {
	world.Options
	// WriteSpec is a directory to write a ready spec for these emulators
	// into (see readySpec); "" writes none.
	WriteSpec string
	// Binary is the cloudsmith-oidc program the written spec's builds run
	// (default: this program, linked as cloudsmith-oidc).
	Binary string
	// VisibilityDelay hides what Cloudsmith's management API creates from
	// reads for that long (eventual consistency).
	VisibilityDelay time.Duration
	// PlainServiceSlugs turns off the random characters Cloudsmith's
	// emulator appends to every service slug.
	PlainServiceSlugs bool
	// ClaimArrayElementMatch lets a provider's string claim match any
	// element of a token's array claim (aud); by default it never does.
	ClaimArrayElementMatch bool
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
     "go_url":"https://127.0.0.1:PORT","python_upload_url":"...", ..., "docker_registry":"127.0.0.1:PORT",
     "api_key":"...","org":"acme","repo":"demo","ca_file":"..."}}

Each host key upper-cased behind CLOUDSMITH_ is cloudsmith-oidc's variable for
that host (api_url is CLOUDSMITH_API_URL), so a script can export them all.

and serves until interrupted. Its builds run shell steps on this machine, so
it listens on loopback unless --jenkins-addr says otherwise.

Pipeline builds run on this machine's groovy (Debian: apt-get install groovy).
The controller has this repository's vars/ registered as the Global Trusted
Pipeline Library "jenkins-cloudsmith" (default version main, served over git
from loopback), as an administrator would set it up, so Jenkinsfiles with
@Library('jenkins-cloudsmith') _ run; --bare leaves it out.

With --write-spec DIR it also writes a ready spec for these emulators,
DIR/jenkins-cloudsmith.yaml (the example jobs; the Go host's certificate as
cloudsmith.ca_bundle), DIR/emulator.env (mode 0600: the two throwaway
secrets the spec's ${VAR}s name, to source) and the step binary, and says
on stderr what to run next. ca_file (DIR/ca.pem) is the certificate of the
https hosts, the Go proxy and the Docker registry: point SSL_CERT_FILE at it
for the go command and skopeo.`,
		Example: `  # Start both emulators and capture their endpoints in a script
  coproc EMU { jenkins-cloudsmith emulate; }
  read -r line <&"${EMU[0]}"
  export JENKINS_URL=$(jq -r .jenkins.url <<<"$line") JENKINS_API_TOKEN=$(jq -r .jenkins.token <<<"$line")

  # A slow, flaky controller without the oidc-provider plugin
  jenkins-cloudsmith emulate --latency 5ms --fault-rate 0.1 --without-plugins oidc-provider

  # A controller without the global library, for a spec's own library block
  jenkins-cloudsmith emulate --bare

  # A ready spec for these emulators, to follow the README's
  # "Using it on a real controller" as written (in a second terminal:
  # cd try && . ./emulator.env && jenkins-cloudsmith validate -f jenkins-cloudsmith.yaml)
  jenkins-cloudsmith emulate --write-spec try`,
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
	fl.BoolVar(&opts.AllowLocalCheckout, "allow-local-checkout", false, "let Pipelines from SCM use file:// URLs and local paths, as a controller started with -Dhudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT=true does (refused by default since SECURITY-2478)")
	fl.StringVar(&opts.WriteSpec, "write-spec", "", "write a ready spec for these emulators into this directory: "+world.SpecFile+", "+envFile+" (0600, the secrets to export), ca.pem and bin/cloudsmith-oidc")
	fl.StringVar(&opts.Binary, "binary", "", "cloudsmith-oidc program the written spec's builds run (default: this program, linked as cloudsmith-oidc)")
	_ = cmd.MarkFlagDirname("write-spec")
	fl.DurationVar(&opts.VisibilityDelay, "visibility-delay", 0, "how long Cloudsmith's reads miss a service, provider or privilege just created, e.g. 2s")
	fl.BoolVar(&opts.PlainServiceSlugs, "plain-service-slugs", false, "derive service slugs from names alone (by default random characters are appended, as Cloudsmith may)")
	fl.BoolVar(&opts.ClaimArrayElementMatch, "claim-array-element-match", false, "let a provider's string claim match any element of an array claim such as aud (default: exact JSON equality, the strictest reading)")
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
	var ready *readySpec
	if opts.WriteSpec != "" {
		var err error
		if ready, err = prepareSpecDir(opts.WriteSpec); err != nil {
			return err
		}
	}
	wo := opts.Options
	wo.TLS = []cloudsmithtest.Host{cloudsmithtest.HostGo, cloudsmithtest.HostDocker}
	wo.BuildEnv = world.PipEnv(f.IO.Getenv)
	wo.Cloudsmith = cloudsmithOptions(opts)
	w, err := world.Start(ctx, wo)
	if err != nil {
		return err
	}
	defer w.Close()

	var caDir string
	if ready != nil {
		caDir = ready.dir
	} else {
		if caDir, err = os.MkdirTemp("", "cloudsmith-emulator-"); err != nil {
			return err
		}
		defer os.RemoveAll(caDir)
	}
	caFile, err := w.WriteCA(filepath.Join(caDir, "ca.pem"))
	if err != nil {
		return err
	}
	if ready != nil {
		if err := ready.write(ctx, w, caFile, opts.Binary); err != nil {
			return err
		}
	}

	js, cs := w.Jenkins, w.Cloudsmith
	line, err := json.Marshal(Endpoints{
		Jenkins: &JenkinsEndpoint{URL: js.URL, User: world.JenkinsUser, Token: js.Jenkins.AdminToken()},
		Cloudsmith: &CloudsmithEndpoint{
			Hosts:  cs.Endpoints(),
			APIKey: cs.APIKey, Org: cs.Org, Repo: cs.Repo, CAFile: caFile,
		},
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f.IO.Out, "%s\n", line); err != nil {
		return err
	}
	if ready != nil {
		ready.next(f.IO.ErrOut)
	}
	<-ctx.Done()
	return nil
}

// cloudsmithOptions are the emulator behaviours the flags ask for.
func cloudsmithOptions(opts Options) []cloudsmithtest.Option {
	var copts []cloudsmithtest.Option
	if opts.VisibilityDelay > 0 {
		copts = append(copts, cloudsmithtest.WithVisibilityDelay(opts.VisibilityDelay))
	}
	if opts.PlainServiceSlugs {
		copts = append(copts, cloudsmithtest.WithPlainServiceSlugs())
	}
	if opts.ClaimArrayElementMatch {
		copts = append(copts, cloudsmithtest.WithClaimArrayElementMatch())
	}
	return copts
}
