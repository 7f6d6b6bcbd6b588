// Package apply is the `jenkins-cloudsmith apply` command: it makes the
// controller (and Cloudsmith) match the spec.
package apply

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	engine "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	planCmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// NewCmd returns the apply command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o planCmd.Options
	cmd := &cobra.Command{
		Use:   "apply -f SPEC",
		Short: "Make Jenkins (and Cloudsmith) match the spec",
		Long: `Apply plans (see plan) and then makes the changes: required plugins checked
(installed with --install-plugins), the OIDC ID Token credential, folders (parents
first), then jobs in parallel. Only what differs is written: a second apply sends
no write at all and leaves the OIDC signing key (and so the JWKS) untouched.

Each job is changed with a single config.xml POST, which Jenkins applies whole or
not at all, so an interrupted apply (Ctrl-C, a lost connection) leaves every job
either as it was or as the spec wants; run apply again to finish. A write whose
answer was lost is read back before it is retried.

Jobs apply creates carry a marker at the end of their description; --prune
deletes managed jobs the spec no longer lists and never a job made by hand.
With cloudsmith.api_key set it also ensures the Cloudsmith service account and the
OIDC provider (provider URL = the issuer, the spec's claims, the service linked).`,
		Example: `  export JENKINS_API_TOKEN=...   # referenced as ${JENKINS_API_TOKEN} in the spec
  jenkins-cloudsmith apply -f jenkins-cloudsmith.yaml

  # Bootstrap a fresh controller: install missing plugins, wait for the restart
  jenkins-cloudsmith apply -f spec.yaml --install-plugins

  # Also delete managed jobs removed from the spec, 16 requests at a time
  jenkins-cloudsmith apply -f spec.yaml --prune --parallel 16`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, s *planCmd.Session) error {
			_, err := run(ctx, f.IO, s, nil, o.Output == cmdutil.OutputJSON)
			return err
		}),
	}
	o.AddFlags(cmd, true)
	planCmd.AddOutputFlag(cmd, &o.Output, "result format: text (one summary line) or json")
	return cmd
}

// Run plans and applies a loaded session, reporting progress on io, and
// returns the result, which it prints as one summary line. keep, when set,
// restricts the plan (prune).
func Run(ctx context.Context, io *iostreams.IOStreams, s *planCmd.Session, keep func(plan.Change) bool) (*engine.Result, error) {
	return run(ctx, io, s, keep, false)
}

// run is Run printing the result as JSON when asJSON is set.
func run(ctx context.Context, io *iostreams.IOStreams, s *planCmd.Session, keep func(plan.Change) bool, asJSON bool) (*engine.Result, error) {
	if err := s.Compute(ctx); err != nil {
		return nil, err
	}
	if keep != nil {
		s.Plan = s.Plan.Filter(keep)
	}
	var installed []string
	if missing := s.Plan.Filter(func(c plan.Change) bool { return c.Kind == plan.KindPlugin }); !missing.Empty() {
		for _, c := range missing.Changes {
			installed = append(installed, c.Name)
		}
		fmt.Fprintf(io.ErrOut, "Installing plugins %s and waiting for Jenkins to restart...\n", strings.Join(installed, ", "))
		if err := engine.InstallPlugins(ctx, s.Targets.Jenkins, installed); err != nil {
			return nil, err
		}
		// Plan again on the restarted controller: what it holds now is
		// what counts.
		s.Options.InstallPlugins = false
		if err := s.Compute(ctx); err != nil {
			return nil, err
		}
		if keep != nil {
			s.Plan = s.Plan.Filter(keep)
		}
	}
	for _, w := range s.Plan.Warnings {
		fmt.Fprintf(io.ErrOut, "warning: %s\n", w)
	}
	for _, c := range s.Plan.Changes {
		if c.RotatesKey {
			fmt.Fprintf(io.ErrOut, "! %s credential %s: Jenkins generates a new OIDC signing key\n", c.Action, c.Name)
		}
	}
	bar := newProgress(io, len(s.Plan.Changes))
	res, err := engine.Execute(ctx, s.Targets.Jenkins, s.Targets.Cloudsmith, s.Plan, engine.Options{
		Parallel: s.Options.Parallel,
		Org:      s.Spec.Cloudsmith.Org,
		OnChange: bar.done,
	})
	bar.finish()
	res.Installed = append(installed, res.Installed...)
	if asJSON {
		if jerr := cmdutil.WriteJSON(io.Out, res); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		fmt.Fprintln(io.Out, res.Summary())
	}
	if res.Credential != "" && s.Spec.OIDC.Issuer != "" {
		fmt.Fprintf(io.ErrOut, "The OIDC signing key changed: publish the new JWKS at the custom issuer %s before builds use it.\n", s.Spec.OIDC.Issuer)
	}
	return res, err
}

// progress draws a bar and failures on a terminal and prints nothing
// otherwise (the summary and the error follow at the end).
type progress struct {
	mu          sync.Mutex
	w           io.Writer
	tty, color  bool
	total, n    int
	failed      int
	last        time.Time
	drawnLength int
}

func newProgress(ios *iostreams.IOStreams, total int) *progress {
	return &progress{w: ios.ErrOut, tty: ios.IsTerminal, color: !ios.NoColor, total: total}
}

func (p *progress) done(c plan.Change, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if err != nil {
		p.failed++
	}
	// On a terminal failures show as they happen; elsewhere the final
	// error lists them once.
	if err != nil && p.tty {
		p.clear()
		msg := fmt.Sprintf("failed: %s %s %s: %v", c.Action, c.Kind, c.Name, err)
		if p.color {
			msg = "\x1b[31m" + msg + "\x1b[0m"
		}
		fmt.Fprintln(p.w, msg)
	}
	if p.tty && (time.Since(p.last) > 50*time.Millisecond || p.n == p.total) {
		p.draw()
	}
}

func (p *progress) clear() {
	if p.tty && p.drawnLength > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.drawnLength))
		p.drawnLength = 0
	}
}

func (p *progress) draw() {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = p.n * width / p.total
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if p.color {
		bar = "\x1b[32m" + strings.Repeat("=", filled) + "\x1b[0m" + strings.Repeat(" ", width-filled)
	}
	line := fmt.Sprintf("applying [%s] %d/%d", bar, p.n, p.total)
	if p.failed > 0 {
		line += fmt.Sprintf(" (%d failed)", p.failed)
	}
	fmt.Fprint(p.w, "\r"+line)
	p.drawnLength = len(line)
	p.last = time.Now()
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawnLength > 0 {
		fmt.Fprintln(p.w)
	}
}
