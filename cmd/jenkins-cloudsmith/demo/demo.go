package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/world"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// Options are the demo's flags.
type Options struct {
	// Keep leaves the temporary directory (spec, step binary link) behind.
	Keep bool
	// Output is "text" or "json" (the report; progress then goes to stderr).
	Output string
	// Latency and FaultRate are passed to both emulators.
	Latency   time.Duration
	FaultRate float64
	FaultSeed uint64
	// Binary is a cloudsmith-oidc program to use instead of this one.
	Binary string
	// Timeout bounds the whole demo.
	Timeout time.Duration
}

// NewCmd returns the demo command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := Options{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole flow on emulators: apply a spec, build, exchange, pip install",
		Long: `demo shows the whole chain on this machine, with nothing to set up but Go and
python3 with pip. In one process it:

  1. starts the Jenkins and Cloudsmith emulators on loopback;
  2. writes an example spec (a folder, a freestyle and a pipeline job, a custom
     OIDC issuer) into a temporary directory and prints it;
  3. applies it with the same engine as ` + "`apply`" + `: plugins checked, the OIDC ID
     Token credential created, folder and jobs, then the Cloudsmith service
     account and the OIDC provider trusting the issuer; a second plan shows
     there is nothing left to do;
  4. serves the custom issuer's discovery documents, read from Jenkins, and
     walks the chain of trust as ` + "`doctor`" + ` does;
  5. runs the freestyle job on the Jenkins emulator: its shell step calls the
     real cloudsmith-oidc (this very program, linked under that name), which
     trades the build's ID token for a Cloudsmith token (the emulator verifies
     it against the published documents) and runs pip, which installs
     hello-cloudsmith==1.0.0 from the emulator;
  6. prints the build's masked console and checks that no token (the ID token,
     the Cloudsmith token, the Jenkins API token, the Cloudsmith API key)
     appears in it or in anything the demo printed.

It exits 0 only if every step worked, 1 naming the step that failed, and 130
when interrupted; the emulators and temporary files go away in every case.`,
		Example: `  go run ./cmd/jenkins-cloudsmith demo

  # Keep the example spec and look at it afterwards
  jenkins-cloudsmith demo --keep

  # The same against flaky, slow emulators; and a report for scripts
  jenkins-cloudsmith demo --latency 5ms --fault-rate 0.1
  jenkins-cloudsmith demo --output json | jq .ok`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Run(cmd.Context(), f.IO, o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Keep, "keep", false, "keep the temporary directory with the example spec")
	fl.StringVarP(&o.Output, "output", "o", "text", "report format: text or json (progress then goes to stderr)")
	fl.DurationVar(&o.Latency, "latency", 0, "delay both emulators add to every response, e.g. 5ms")
	fl.Float64Var(&o.FaultRate, "fault-rate", 0, "share of requests (0..1) the emulators fail with 5xx, 429 or resets")
	fl.Uint64Var(&o.FaultSeed, "fault-seed", 1, "seed for the fault sequence")
	fl.StringVar(&o.Binary, "binary", "", "cloudsmith-oidc program for the build to run (default: this program, linked as cloudsmith-oidc)")
	fl.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up after this long")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Step is one line of the report.
type Step struct {
	Name    string  `json:"name"`
	OK      bool    `json:"ok"`
	Seconds float64 `json:"seconds"`
	Detail  string  `json:"detail,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// Report is what --output json prints.
type Report struct {
	OK bool `json:"ok"`
	// Failed names the step that failed.
	Failed string `json:"failed,omitempty"`
	Steps  []Step `json:"steps"`
	// Spec is the example spec's path (gone after the demo unless --keep).
	Spec  string `json:"spec,omitempty"`
	Build *Build `json:"build,omitempty"`
	// PipelineBuild is the pipeline job's build (through the shared library).
	PipelineBuild *Build `json:"pipeline_build,omitempty"`
}

// Build is a build the demo ran.
type Build struct {
	Job    string `json:"job"`
	Number int    `json:"number"`
	Result string `json:"result"`
}

// demo is one run's state.
type demo struct {
	o      Options
	log    io.Writer // progress, through rec
	rec    *recorder
	cs     *iostreams.ColorScheme
	report Report
	// secrets are the ones the demo holds (the Jenkins API token, the
	// Cloudsmith API key), masked in everything it prints.
	secrets []string

	// What the steps set up, in the order they do.
	tmp, binary              string
	world                    *world.World
	issuer                   *issuer
	sess                     *apply.Session
	env                      *trust.Env
	console, pipelineConsole []byte
}

// step runs fn as the named step, printing its start and outcome.
func (d *demo) step(name string, fn func(w io.Writer) (string, error)) error {
	fmt.Fprintf(d.log, "%s %s\n", d.cs.Bold("==>"), d.cs.Bold(name))
	start := time.Now()
	detail, err := fn(indent(d.log, "    "))
	s := Step{Name: name, OK: err == nil, Seconds: time.Since(start).Seconds(), Detail: detail}
	if err != nil {
		s.Error = err.Error()
		fmt.Fprintf(d.log, "    %s %v\n", d.cs.Red("FAILED:"), err)
	} else if detail != "" {
		fmt.Fprintf(d.log, "    %s %s\n", d.cs.Green("ok:"), detail)
	}
	_ = d.rec.Flush()
	d.report.Steps = append(d.report.Steps, s)
	if err != nil {
		d.report.Failed = name
		return fmt.Errorf("demo step %q failed: %w", name, err)
	}
	return nil
}

// Run runs the demo, printing progress and the report on ios.
func Run(ctx context.Context, ios *iostreams.IOStreams, o Options) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Output != "text" && o.Output != "json" {
		return fmt.Errorf("--output must be text or json, not %q", o.Output)
	}
	if o.FaultRate < 0 || o.FaultRate > 1 {
		return fmt.Errorf("--fault-rate %v is outside 0..1", o.FaultRate)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	progress := ios.Out
	if o.Output == "json" {
		progress = ios.ErrOut
	}
	d := &demo{o: o, rec: newRecorder(progress), cs: iostreams.NewColorScheme(!ios.NoColor && o.Output == "text")}
	d.log = d.rec
	defer func() { _ = d.rec.Flush() }()

	err = d.run(ctx)
	if ctx.Err() != nil && err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (the demo gave up after --timeout %s)", err, o.Timeout)
		} else {
			err = fmt.Errorf("%w (interrupted)", err)
		}
	}
	d.report.OK = err == nil
	_ = d.rec.Flush()
	if o.Output == "json" {
		// Masked like the rest: error texts end up in the report.
		w := redact.NewWriter(ios.Out, d.secrets...)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if jerr := errors.Join(enc.Encode(d.report), w.Close()); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		d.summary(d.rec)
		_ = d.rec.Flush()
	}
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		// Ctrl-C: the shell's convention for a run stopped by SIGINT.
		return &cmdutil.ExitError{Code: 130, Err: err}
	}
	return err
}

// summary prints the table of steps.
func (d *demo) summary(w io.Writer) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tRESULT\tTIME\tDETAIL")
	for _, s := range d.report.Steps {
		res, detail := d.cs.Green("ok"), s.Detail
		if !s.OK {
			res, detail = d.cs.Red("FAILED"), s.Error
		}
		if i := strings.IndexByte(detail, '\n'); i >= 0 {
			detail = detail[:i] + " ..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1fs\t%s\n", s.Name, res, s.Seconds, detail)
	}
	_ = tw.Flush()
	if d.report.Failed == "" {
		fmt.Fprintln(w, d.cs.BoldGreen("Demo passed:")+" a Jenkins build got a Cloudsmith token through OIDC and installed a package, with no secret in sight.")
		fmt.Fprintln(w, "Next: the same on emulators you keep, step by step: run `jenkins-cloudsmith emulate --write-spec try`, then in another terminal")
		fmt.Fprintln(w, "`cd try && . ./emulator.env` and follow the README's \"Using it on a real controller\" as written (validate, render, plan, apply, doctor, smoke).")
	} else {
		fmt.Fprintln(w, d.cs.BoldRed("Demo failed")+" at step: "+d.report.Failed)
	}
}

// demoStep is one step of the demo: its name in the report and what it
// does, writing its details to w and returning its one-line result.
type demoStep struct {
	name string
	run  func(ctx context.Context, w io.Writer) (string, error)
}

// steps is the demo, in order: each step uses what the ones before it set
// on d. To add a step, add a row.
func (d *demo) steps() []demoStep {
	return []demoStep{
		{"Check the tools the build needs", func(ctx context.Context, _ io.Writer) (string, error) { return checkTools(ctx) }},
		{"Link this program as the cloudsmith-oidc step binary", d.linkBinary},
		{"Start the Jenkins and Cloudsmith emulators", d.startEmulators},
		{"Write the example spec", d.writeSpec},
		{"Apply the spec (jenkins-cloudsmith apply)", d.apply},
		{"Publish the custom issuer's discovery documents", d.publish},
		{"Plan again: nothing left to do", d.planAgain},
		{"Check what apply made", func(ctx context.Context, w io.Writer) (string, error) {
			return d.checkApplied(ctx, w, d.sess.Targets.Jenkins, d.world.Cloudsmith, d.issuer.URL)
		}},
		{"Walk the chain of trust (jenkins-cloudsmith doctor)", d.doctor},
		{"Build " + world.FreestyleJob + " on the Jenkins emulator", d.buildFreestyle},
		{"Build " + world.PipelineJob + " on the Jenkins emulator", d.buildPipeline},
		{"Check the exchange happened and no secret leaked", d.checkLeaks},
	}
}

// run is the demo proper: the steps in order, stopping at the first that
// fails; close then stops everything they started.
func (d *demo) run(ctx context.Context) error {
	defer d.close()
	for _, st := range d.steps() {
		if err := d.step(st.name, func(w io.Writer) (string, error) { return st.run(ctx, w) }); err != nil {
			return err
		}
	}
	return nil
}

// close stops builds first (Jenkins' Close waits for them), then what
// they use, and removes the temporary directory unless --keep.
func (d *demo) close() {
	if d.world != nil {
		_ = d.world.Jenkins.Close()
	}
	if d.issuer != nil {
		_ = d.issuer.Close()
	}
	if d.world != nil {
		_ = d.world.Close()
	}
	if d.tmp == "" {
		return
	}
	if d.o.Keep {
		fmt.Fprintf(d.log, "Kept %s (--keep): the example spec is in it; the emulators it names stopped with the demo\n", d.tmp)
		return
	}
	_ = os.RemoveAll(d.tmp)
}

func (d *demo) linkBinary(ctx context.Context, _ io.Writer) (string, error) {
	tmp, err := os.MkdirTemp("", "jenkins-cloudsmith-demo-")
	if err != nil {
		return "", fmt.Errorf("create a temporary directory: %w", err)
	}
	d.tmp = tmp
	d.binary, err = world.LinkStepBinary(ctx, filepath.Join(tmp, "bin"), d.o.Binary)
	return d.binary, err
}

func (d *demo) startEmulators(ctx context.Context, w io.Writer) (string, error) {
	var err error
	d.world, err = world.Start(ctx, world.Options{
		Latency: d.o.Latency, FaultRate: d.o.FaultRate, FaultSeed: d.o.FaultSeed,
		// The build finds cloudsmith-oidc on PATH too, as on a real agent;
		// vars/ is the global trusted library the pipeline job loads, as
		// an administrator would have registered it.
		BuildEnv: append([]string{"PATH=" + filepath.Dir(d.binary) + string(os.PathListSeparator) + os.Getenv("PATH")}, world.PipEnv(os.Getenv)...),
	})
	if err != nil {
		return "", err
	}
	if d.issuer, err = startIssuer(); err != nil {
		return "", err
	}
	js, cs, lib := d.world.Jenkins, d.world.Cloudsmith, d.world.Library
	fmt.Fprintf(w, "Jenkins      %s (user %s)\n", js.URL, world.JenkinsUser)
	fmt.Fprintf(w, "Cloudsmith   API %s, downloads %s (org %s, repo %s)\n", cs.APIURL, cs.DownloadURL, cs.Org, cs.Repo)
	fmt.Fprintf(w, "OIDC issuer  %s (documents served by this demo)\n", d.issuer.URL)
	fmt.Fprintf(w, "Library      %s as the global trusted library %s\n", lib.Global.Remote, lib.Global.Name)
	// Everything printed from here on is masked against the two secrets
	// the demo holds; the final check still sees the unmasked text.
	d.secrets = slices.Collect(maps.Values(d.world.Secrets()))
	d.rec.dst.Add(d.secrets...)
	return "Jenkins " + jenkinstest.DefaultVersion + " emulator and Cloudsmith emulator on loopback", nil
}

func (d *demo) writeSpec(_ context.Context, w io.Writer) (string, error) {
	b, err := d.world.Spec(world.SpecValues{
		By: "demo", SecretsFrom: "the demo supplies them to this run only, and never prints them",
		Issuer: d.issuer.URL, Binary: d.binary,
	})
	if err != nil {
		return "", err
	}
	specPath := filepath.Join(d.tmp, world.SpecFile)
	if err := os.WriteFile(specPath, b, 0o600); err != nil {
		return "", err
	}
	d.report.Spec = specPath
	_, err = w.Write(b)
	return specPath, err
}

// apply is what `apply -f` does: the spec loaded (secrets through the
// world's getenv), rendered, clients connected, applied.
func (d *demo) apply(ctx context.Context, w io.Writer) (string, error) {
	// The one-line summary becomes this step's result; notices (the new
	// signing key) are shown as they come.
	getenv := d.world.Getenv
	sub := &iostreams.IOStreams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: w, NoColor: true, Getenv: getenv}
	var err error
	if d.sess, err = apply.Load(apply.LoadOptions{File: d.report.Spec, Getenv: getenv, Plan: plan.Options{Parallel: 8}}); err != nil {
		return "", err
	}
	res, err := d.sess.Apply(ctx, apply.RunOptions{Reporter: views.NewApply(sub)})
	if res != nil {
		err = views.ApplyResult(sub, d.sess, res, false, err)
	}
	if err != nil {
		return "", err
	}
	if d.env, err = trust.NewEnv(d.sess.Spec, d.sess.Clients); err != nil {
		return "", err
	}
	return res.Summary(), nil
}

func (d *demo) publish(ctx context.Context, w io.Writer) (string, error) {
	jc := d.sess.Targets.Jenkins
	docs, err := d.issuer.load(ctx, func(ctx context.Context) (*trust.Documents, error) {
		return trust.FromJenkins(ctx, jc, d.sess.Spec)
	})
	if err != nil {
		return "", fmt.Errorf("read the issuer's documents from Jenkins: %w", err)
	}
	for _, u := range []string{docs.ConfigURL(), docs.JWKSURL()} {
		if _, err := get(ctx, u); err != nil {
			return "", err
		}
		fmt.Fprintf(w, "serving %s\n", u)
	}
	return "signing key " + strings.Join(docs.Kids(), ", "), nil
}

func (d *demo) planAgain(ctx context.Context, w io.Writer) (string, error) {
	if err := d.sess.Compute(ctx); err != nil {
		return "", err
	}
	if !d.sess.Plan.Empty() {
		_ = views.PlanText(w, d.sess.Plan, nil)
		return "", errors.New("a second plan still has changes: apply is not idempotent")
	}
	return "no change: a re-apply would write nothing", nil
}

func (d *demo) doctor(ctx context.Context, w io.Writer) (string, error) {
	r := trust.Doctor(ctx, d.env, trust.DoctorOptions{})
	if err := views.DoctorText(w, r, nil); err != nil {
		return "", err
	}
	if !r.OK() {
		return "", fmt.Errorf("doctor found broken links: %s", strings.Join(r.Failed(), ", "))
	}
	return fmt.Sprintf("%d links hold; the build below tries the real exchange", okLinks(r)), nil
}

func (d *demo) buildFreestyle(ctx context.Context, w io.Writer) (string, error) {
	for _, j := range d.sess.Output.Jobs {
		if j.Name != world.FreestyleJob {
			continue
		}
		cmd, err := shellStep(j.ConfigXML)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(w, "its shell step, rendered from the spec (no secret in it):")
		_, _ = indent(w, "    ").Write([]byte(strings.TrimRight(cmd, "\n") + "\n"))
	}
	fmt.Fprintln(w, "its console (as Jenkins shows it, secrets masked), followed live:")
	b, console, err := d.build(ctx, w, world.FreestyleJob)
	if b != nil {
		d.report.Build, d.console = b, console
	}
	if err != nil {
		if why := d.world.Cloudsmith.Cloudsmith.LastExchangeFailure(); why != "" && b != nil {
			err = fmt.Errorf("%w; the Cloudsmith emulator refused the exchange because: %s", err, why)
		}
		return "", err
	}
	return fmt.Sprintf("#%d %s: token bound, exchanged, used; pip installed hello-cloudsmith 1.0.0 from Cloudsmith", b.Number, b.Result), nil
}

func (d *demo) buildPipeline(ctx context.Context, w io.Writer) (string, error) {
	fmt.Fprintln(w, "a Pipeline through the shared library's withCloudsmith; its console (masked), followed live:")
	b, console, err := d.build(ctx, w, world.PipelineJob)
	if b != nil {
		d.report.PipelineBuild, d.pipelineConsole = b, console
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("#%d %s: withCloudsmith bound, exchanged and installed hello-cloudsmith 1.0.0", b.Number, b.Result), nil
}

// build runs job through trust.Smoke, following its console on w, and
// returns the build and its console as Jenkins serves it (unmasked by the
// demo, for the checks).
func (d *demo) build(ctx context.Context, w io.Writer, job string) (*Build, []byte, error) {
	res, err := trust.Smoke(ctx, d.env, trust.SmokeOptions{Job: job, Console: indent(w, "  | "), Poll: 200 * time.Millisecond})
	if err != nil {
		return nil, nil, err
	}
	b := &Build{Job: job, Number: res.Number, Result: res.Result}
	console, err := d.sess.Targets.Jenkins.ConsoleText(ctx, job, res.Number)
	if err != nil {
		return b, nil, err
	}
	if !res.OK() {
		return b, console, fmt.Errorf("build #%d finished %s: %s", res.Number, res.Result, res.Problem)
	}
	if !bytes.Contains(console, []byte(world.InstalledMarker)) {
		return b, console, fmt.Errorf("build #%d succeeded but its console lacks %q: the package was not installed", res.Number, world.InstalledMarker)
	}
	return b, console, nil
}

func (d *demo) checkLeaks(_ context.Context, w io.Writer) (string, error) {
	exchanges, downloads := 0, 0
	for _, r := range d.world.Cloudsmith.Cloudsmith.Requests() {
		switch {
		case r.Host == cloudsmithtest.HostAPI && r.Method == "POST" && strings.HasPrefix(r.Path, "/openid/") && r.Status == 201:
			exchanges++
		case r.Host == cloudsmithtest.HostDownload && r.Auth == "token" && r.Status == 200:
			downloads++
		}
	}
	if exchanges == 0 {
		return "", errors.New("the Cloudsmith emulator saw no successful OIDC exchange")
	}
	if downloads == 0 {
		return "", errors.New("the Cloudsmith emulator served no download authenticated with an exchanged token")
	}
	fmt.Fprintf(w, "Cloudsmith saw %d OIDC exchange(s) and %d download(s) authenticated with the exchanged token\n", exchanges, downloads)
	_ = d.rec.Flush()
	secrets := d.world.Secrets()
	found := append(leaks("the build's console", d.console, secrets), leaks("the pipeline build's console", d.pipelineConsole, secrets)...)
	found = append(found, leaks("the demo's output", d.rec.Raw(), secrets)...)
	if len(found) > 0 {
		return "", errors.New("secret leaked: " + strings.Join(found, "; "))
	}
	return "no token, API token or API key in the console or in the demo's output", nil
}

// okLinks counts the links doctor found holding.
func okLinks(r *trust.Report) int {
	n := 0
	for _, l := range r.Links {
		if l.Status == trust.OK {
			n++
		}
	}
	return n
}
