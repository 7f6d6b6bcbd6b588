package views

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// Apply is the view of a running apply (an apply.Reporter): notices on
// stderr as they come, a progress bar and failures as they happen on a
// terminal, nothing more elsewhere (the summary and the error follow at
// the end).
type Apply struct {
	ios *iostreams.IOStreams
	bar *progress
}

// NewApply returns the view of an apply on ios.
func NewApply(ios *iostreams.IOStreams) *Apply { return &Apply{ios: ios} }

// InstallingPlugins implements apply.Reporter.
func (v *Apply) InstallingPlugins(names []string) {
	fmt.Fprintf(v.ios.ErrOut, "Installing plugins %s through the update center and waiting for the downloads (and a safe restart if Jenkins needs one)...\n", strings.Join(names, ", "))
}

// Executing implements apply.Reporter: the plan's warnings and the changes
// that make Jenkins generate a new signing key.
func (v *Apply) Executing(p *plan.Plan) {
	for _, w := range p.Warnings {
		fmt.Fprintf(v.ios.ErrOut, "warning: %s\n", w)
	}
	for _, c := range p.Changes {
		if c.RotatesKey {
			fmt.Fprintf(v.ios.ErrOut, "! %s credential %s: Jenkins generates a new OIDC signing key\n", c.Action, c.Name)
		}
	}
	v.bar = &progress{w: v.ios.ErrOut, tty: v.ios.IsTerminal, cs: v.ios.ColorScheme(), total: len(p.Changes)}
}

// Changed implements apply.Reporter.
func (v *Apply) Changed(c plan.Change, err error) { v.bar.done(c, err) }

// Executed implements apply.Reporter.
func (v *Apply) Executed(*apply.Result) { v.bar.finish() }

// ApplyResult prints the result of s's apply: one summary line or JSON on
// stdout, and on stderr what to do when the signing key of a custom
// issuer changed. A JSON write error is returned only when err is nil.
func ApplyResult(ios *iostreams.IOStreams, s *apply.Session, res *apply.Result, asJSON bool, err error) error {
	if asJSON {
		if jerr := cmdutil.WriteJSON(ios.Out, res); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		fmt.Fprintln(ios.Out, res.Summary())
	}
	if res.Credential != "" && s.Spec.OIDC.Issuer != "" {
		fmt.Fprintf(ios.ErrOut, "The OIDC signing key changed: publish the new JWKS at the custom issuer %s before builds use it.\n", s.Spec.OIDC.Issuer)
	}
	return err
}

// progress draws a bar and failures on a terminal and prints nothing
// otherwise.
type progress struct {
	mu          sync.Mutex
	w           io.Writer
	tty         bool
	cs          *iostreams.ColorScheme
	total, n    int
	failed      int
	last        time.Time
	drawnLength int
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
		fmt.Fprintln(p.w, p.cs.Red(fmt.Sprintf("failed: %s %s %s: %v", c.Action, c.Kind, c.Name, err)))
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
	bar := p.cs.Green(strings.Repeat("=", filled)) + strings.Repeat(" ", width-filled)
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
