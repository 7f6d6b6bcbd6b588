package trust

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sealbox"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/securefile"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// TokenOptions tune MintToken.
type TokenOptions struct {
	// Out is the file the ID token is written to (mode 0600, atomically).
	Out string
	// Templates overrides the embedded templates, as for apply.
	Templates string
	// Log receives progress lines (never the token); nil discards them.
	Log io.Writer
}

// TokenResult says what was minted, never the token itself.
type TokenResult struct {
	Job     string    `json:"job"`
	Number  int       `json:"number"`
	File    string    `json:"file"`
	Issuer  string    `json:"iss"`
	Subject string    `json:"sub"`
	Expiry  time.Time `json:"exp"`
}

// MintToken gets one ID token from the spec's credential, as a build gets
// it, for `doctor --token-file` and for trying cloudsmith-oidc by hand: it
// creates a temporary freestyle job in the credential's store (rendered
// like the spec's own jobs, so it finds cloudsmith-oidc the same way),
// whose step runs `cloudsmith-oidc seal` with a one-time public key; the
// console shows only the sealed token, which the private key held here
// opens. The token goes to o.Out (0600); the job is deleted afterwards,
// and a leftover one carries the spec's marker, so prune removes it.
func MintToken(ctx context.Context, env *Env, o TokenOptions) (res *TokenResult, err error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	if o.Out == "" {
		return nil, errors.New("name the file the ID token goes to (--out FILE): it is written with mode 0600")
	}
	s := env.Spec
	key, err := sealbox.NewKey()
	if err != nil {
		return nil, err
	}
	id, err := plan.ActiveCredentialID(ctx, env.Jenkins, s)
	if err != nil {
		return nil, err
	}
	name, cfg, err := mintJob(s.WithCredential(id), key.Public(), o.Templates)
	if err != nil {
		return nil, err
	}
	if err := env.Jenkins.CreateJob(ctx, name, cfg); err != nil {
		return nil, fmt.Errorf("create the temporary job %s: %w", name, err)
	}
	defer func() {
		// Deleted even when ctx was cancelled: a leftover job would bind
		// the credential for nothing.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := env.Jenkins.DeleteJob(dctx, name); derr != nil {
			err = errors.Join(err, fmt.Errorf("delete the temporary job %s (prune removes it too): %w", name, derr))
		}
	}()
	logf("building the temporary job %s (credential %q)...", name, id)
	queue, err := env.Jenkins.TriggerBuild(ctx, name)
	if err != nil {
		return nil, err
	}
	number, err := env.Jenkins.WaitForQueueItem(ctx, queue)
	if err != nil {
		return nil, err
	}
	b, err := env.Jenkins.WaitForBuild(ctx, name, number)
	if err != nil {
		return nil, err
	}
	console, err := env.Jenkins.ConsoleText(ctx, name, number)
	if err != nil {
		return nil, err
	}
	sealed, ok := sealbox.Find(console)
	if !ok {
		return nil, fmt.Errorf("build #%d of %s finished %s without a sealed token: %s (run `jenkins-cloudsmith smoke` to see the console of a spec job)",
			number, name, b.Result, firstProblem(string(console)))
	}
	raw, err := key.Open(sealed)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(string(raw))
	c, err := cloudsmith.ParseClaims(token)
	if err != nil {
		return nil, fmt.Errorf("the build sealed something that is not an ID token: %w", err)
	}
	if err := securefile.WriteOutput(o.Out, []byte(token+"\n")); err != nil {
		return nil, err
	}
	logf("wrote the ID token to %s (mode 0600); it expires %s", o.Out, c.Expiry.UTC().Format(time.RFC3339))
	return &TokenResult{Job: name, Number: number, File: o.Out, Issuer: c.Issuer, Subject: c.Subject, Expiry: c.Expiry}, nil
}

// mintJob renders the temporary job: the spec's first job as a freestyle
// job (its label, repo and formats, so it runs where builds run and finds
// the binary as they do) whose cloudsmith-oidc call seals the token to
// pub instead of exchanging it.
func mintJob(s *spec.Spec, pub, templates string) (name string, config []byte, err error) {
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", nil, err
	}
	name = "jenkins-cloudsmith-token-" + hex.EncodeToString(suffix)
	if s.OIDC.Folder != "" {
		// A folder's credential is visible to the jobs inside it only.
		name = s.OIDC.Folder + "/" + name
	}
	c := *s
	var job spec.Job
	if len(s.Jobs) > 0 {
		job = s.Jobs[0]
	}
	job.Name, job.Type, job.SCM, job.Steps = name, spec.Freestyle, nil, []string{"true"}
	job.Description = "Temporary job of `jenkins-cloudsmith token`: one build mints an ID token and prints it sealed to a one-time key; deleted when done."
	c.Jobs = []spec.Job{job}
	c.Seed = nil
	r, err := render.New(render.Options{TemplatesDir: templates})
	if err != nil {
		return "", nil, err
	}
	out, err := r.Render(&c)
	if err != nil {
		return "", nil, err
	}
	for _, j := range out.Jobs {
		if j.Name == name {
			cfg, err := sealInsteadOfExec(j.ConfigXML, pub)
			return name, cfg, err
		}
	}
	return "", nil, fmt.Errorf("rendering the temporary job %s produced no job", name)
}

var (
	shellCommand = regexp.MustCompile(`(?s)(<hudson\.tasks\.Shell>\s*<command>)(.*?)(</command>)`)
	execLine     = regexp.MustCompile(`(?m)^"\$cloudsmith_oidc" exec .*$`)
)

// sealInsteadOfExec replaces the shell step's `cloudsmith-oidc exec ...`
// line with `cloudsmith-oidc seal --to PUB` (pub is base64url: no quoting
// needed, and nothing to escape in XML).
func sealInsteadOfExec(cfg []byte, pub string) ([]byte, error) {
	m := shellCommand.FindSubmatchIndex(cfg)
	if m == nil {
		return nil, errors.New("the rendered freestyle job has no shell step (a templates override?)")
	}
	cmd := html.UnescapeString(string(cfg[m[4]:m[5]]))
	if !execLine.MatchString(cmd) {
		return nil, errors.New(`the rendered shell step has no "$cloudsmith_oidc" exec line (a templates override?)`)
	}
	cmd = execLine.ReplaceAllLiteralString(cmd, `"$cloudsmith_oidc" seal --to `+pub)
	var b strings.Builder
	b.Write(cfg[:m[4]])
	b.WriteString(html.EscapeString(cmd))
	b.Write(cfg[m[5]:])
	return []byte(b.String()), nil
}

// firstProblem is the console's first ERROR line, or its last line.
func firstProblem(console string) string {
	lines := strings.Split(strings.TrimSpace(console), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "ERROR:") || strings.Contains(l, "cloudsmith-oidc:") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}
