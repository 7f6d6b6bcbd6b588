package trust

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// SmokeResult is what a smoke build showed.
type SmokeResult struct {
	Job    string `json:"job"`
	Number int    `json:"number"`
	URL    string `json:"url,omitempty"`
	Result string `json:"result"`
	// Bound: the credential was bound and the build's shell step started
	// with the token (no binding error, no "no OIDC token").
	Bound bool `json:"bound"`
	// Exchanged: cloudsmith-oidc ran and did not report a failure before
	// running the job's commands. (cloudsmith-oidc exec prints nothing on
	// success, so this is read from the absence of its error lines.)
	Exchanged bool `json:"exchanged"`
	// Used: the job's commands ran with the Cloudsmith token and the build
	// succeeded.
	Used bool `json:"used"`
	// Problem says what failed first, from the console.
	Problem string `json:"problem,omitempty"`
	// Leaked: the console held something shaped like a JWT that Jenkins did
	// not mask (smoke masks it in what it prints).
	Leaked bool `json:"leaked,omitempty"`
}

// OK reports whether the token was bound, exchanged and used, and nothing
// leaked.
func (r *SmokeResult) OK() bool { return r.Bound && r.Exchanged && r.Used && !r.Leaked }

// SmokeOptions tune Smoke.
type SmokeOptions struct {
	// Job is the spec job to build; default the first freestyle job.
	Job string
	// Console receives the build's console, masked, as it grows.
	Console io.Writer
	// Poll is the console polling interval (default 500ms).
	Poll time.Duration
}

// SmokeJob picks the job to smoke-test: name if set (it must be a spec
// job), else the spec's first freestyle job.
func SmokeJob(s *spec.Spec, name string) (string, error) {
	for _, j := range s.Jobs {
		if name == "" && j.Type == spec.Freestyle || name != "" && j.Name == name {
			return j.Name, nil
		}
	}
	if name != "" {
		return "", fmt.Errorf("job %q is not in the spec: smoke builds a job the spec generates", name)
	}
	return "", fmt.Errorf("the spec has no freestyle job: pass --job NAME")
}

// Smoke triggers a build of a generated job, follows its console (masked:
// Jenkins masks bound credentials; smoke also masks the spec's secrets and
// anything shaped like a JWT) and reports whether the OIDC token was
// bound, exchanged and used.
func Smoke(ctx context.Context, env *Env, o SmokeOptions) (*SmokeResult, error) {
	job, err := SmokeJob(env.Spec, o.Job)
	if err != nil {
		return nil, err
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	console := o.Console
	if console == nil {
		console = io.Discard
	}
	j := env.Jenkins
	queue, err := j.TriggerBuild(ctx, job)
	if err != nil {
		return nil, err
	}
	number, err := j.WaitForQueueItem(ctx, queue)
	if err != nil {
		return nil, fmt.Errorf("waiting for the build of %s to start: %w", job, err)
	}
	res := &SmokeResult{Job: job, Number: number}
	type done struct {
		result, url string
		err         error
	}
	finished := make(chan done, 1)
	go func() {
		b, err := j.WaitForBuild(ctx, job, number)
		if err != nil {
			finished <- done{err: err}
			return
		}
		finished <- done{result: b.Result, url: b.URL}
	}()
	f := &follower{w: console, secrets: specSecrets(env.Spec)}
	for {
		select {
		case d := <-finished:
			if d.err != nil {
				return nil, d.err
			}
			res.Result, res.URL = d.result, d.url
			text, err := j.ConsoleText(ctx, job, number)
			if err != nil {
				return nil, err
			}
			f.feed(text, true)
			res.Leaked = f.leaked
			judge(res, f.masked.String())
			return res, nil
		case <-time.After(poll):
			if text, err := j.ConsoleText(ctx, job, number); err == nil {
				f.feed(text, false)
			}
		}
	}
}

// specSecrets are the spec's secret values, masked wherever smoke prints.
func specSecrets(s *spec.Spec) []string {
	var out []string
	for _, v := range []string{s.Jenkins.Token.Value(), s.Cloudsmith.APIKey.Value()} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// follower prints a growing console once, complete lines at a time, with
// secrets and JWT-shaped strings masked.
type follower struct {
	w       io.Writer
	secrets []string
	off     int
	masked  strings.Builder
	leaked  bool
}

func (f *follower) feed(text []byte, final bool) {
	if len(text) <= f.off {
		return
	}
	chunk := text[f.off:]
	if !final {
		i := bytes.LastIndexByte(chunk, '\n')
		if i < 0 {
			return
		}
		chunk = chunk[:i+1]
	}
	f.off += len(chunk)
	s := redact.String(string(chunk), f.secrets...)
	// An unmasked JWT (a build token or a Cloudsmith token).
	if redact.JWTShape.MatchString(s) {
		f.leaked = true
		s = redact.JWTShape.ReplaceAllString(s, "****")
	}
	f.masked.WriteString(s)
	_, _ = io.WriteString(f.w, s)
}

// Console lines that show which stage failed. cloudsmith-oidc prefixes
// every error with its name; the credentials-binding plugin and the
// oidc-provider plugin print their own.
var (
	// shellStarted: a freestyle "Execute shell" ("[ws] $ /bin/sh -xe …")
	// or a Pipeline sh/bat step ("[Pipeline] sh").
	shellStarted  = regexp.MustCompile(`(?m)^(\[[^\]]*\] \$ |\[Pipeline\] (sh|bat|powershell)$)`)
	consoleError  = regexp.MustCompile(`(?m)^ERROR: .*$`)
	bindFailures  = []string{"Could not find credentials entry", "no OIDC token", "reading the OIDC token", "the OIDC token file", "Apparently unsubstituted claims", "was expected", "id token claim template"}
	binaryMissing = regexp.MustCompile(`cloudsmith-oidc: (command )?not found|cloudsmith-oidc: No such file|cloudsmith_oidc: unbound variable|sha256sum: WARNING|curl: \(\d+\)`)
	// stepFailure: an error line of cloudsmith-oidc (its warnings start
	// "cloudsmith-oidc: warning:" and are not failures).
	stepFailure = regexp.MustCompile(`(?m)^cloudsmith-oidc: .*$`)
)

// judge reads the stages from the masked console.
func judge(r *SmokeResult, console string) {
	line := func(sub string) string {
		i := strings.Index(console, sub)
		j := strings.IndexByte(console[i:], '\n')
		if j < 0 {
			return strings.TrimSpace(console[i:])
		}
		return strings.TrimSpace(console[i : i+j])
	}
	for _, p := range bindFailures {
		if strings.Contains(console, p) {
			r.Problem = "the OIDC credential was not bound: " + line(p)
			return
		}
	}
	if !shellStarted.MatchString(console) {
		r.Problem = "the build's shell step never started (result " + r.Result + ")"
		// Jenkins says why on an ERROR: line (e.g. a pipeline the
		// controller cannot run); pass it on rather than make the user dig.
		if m := consoleError.FindString(console); m != "" {
			r.Problem += ": " + strings.TrimSpace(m)
		}
		return
	}
	r.Bound = true
	if m := binaryMissing.FindString(console); m != "" {
		r.Problem = "the cloudsmith-oidc step binary is missing or failed its checksum on the agent: " + line(m) +
			" (set binary.path to where it is installed, or binary.url + sha256)"
		return
	}
	for _, m := range stepFailure.FindAllString(console, -1) {
		if strings.HasPrefix(m, "cloudsmith-oidc: warning:") {
			continue
		}
		r.Problem = "the exchange failed: " + m + " (run `jenkins-cloudsmith doctor` to find the broken link)"
		return
	}
	r.Exchanged = true
	if r.Result != "SUCCESS" {
		r.Problem = fmt.Sprintf("the token was exchanged but the job's steps failed (result %s)", r.Result)
		return
	}
	r.Used = true
	if r.Leaked {
		r.Problem = "an unmasked JWT appeared in the console (masked above): check the job's steps do not print tokens"
	}
}
