package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// forwarded are the signals exec passes on to the command instead of
// dying: Jenkins aborts a step with SIGTERM, a terminal sends SIGINT.
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// ioDrainDelay bounds how long exec waits for the command's output pipes
// after it exits (a background grandchild may hold them open).
const ioDrainDelay = 10 * time.Second

func runExec(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("exec", "exec [--format python,npm,...] [--dir DIR] [flags] -- CMD [ARGS...]\n\n"+
		"Exchanges the OIDC token, writes package-manager configuration into a private temporary\n"+
		"directory, runs CMD with the environment pointing at it (plus CLOUDSMITH_API_KEY), masks the\n"+
		"token in CMD's output, removes the directory and exits with CMD's status (128+N on signal N).\n\n"+
		"Examples:\n  cloudsmith-oidc exec --format python -- pip install -r requirements.txt\n"+
		"  cloudsmith-oidc exec --format python,npm -- bash -c 'pip install . && npm ci'\n"+
		"  cloudsmith-oidc exec --format python -- twine upload dist/*\n"+
		"  cloudsmith-oidc exec --format helm -- cloudsmith push helm \"$CLOUDSMITH_ORG/$CLOUDSMITH_REPO\" chart-1.0.0.tgz")
	o := a.register(fs, true)
	formatList := fs.String("format", a.io.Getenv("CLOUDSMITH_FORMATS"), "comma-separated package formats to configure: "+pkgconfig.Usage()+" [CLOUDSMITH_FORMATS]")
	dir := fs.String("dir", "", "parent of the private temporary directory (default $WORKSPACE_TMP, else the temp dir)")
	_, argv, err := parse(fs, args, true)
	if err != nil {
		return err
	}
	if len(argv) == 0 {
		fs.Usage()
		return usageError("exec needs a command after --")
	}
	var formats []pkgconfig.Format
	if strings.TrimSpace(*formatList) != "" {
		if formats, err = pkgconfig.ParseFormats(*formatList); err != nil {
			return usageError("--format: %v", err)
		}
		if o.repo == "" {
			return usageError("no repository: set CLOUDSMITH_REPO or --repo")
		}
	}

	s, err := a.exchange(ctx, o)
	if err != nil {
		return err
	}
	secrets := append(pkgconfig.SecretForms(s.token), s.oidc)
	env := childEnv(os.Environ(), o, s)

	// From here on a signal must not kill us before the private directory
	// is removed: catch the signals now, forward them once CMD runs.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)

	if len(formats) > 0 {
		tmp, err := a.privateTempDir(*dir)
		if err != nil {
			return err
		}
		// Removed however the command ends: exec catches the signals that
		// would otherwise kill it before this runs.
		defer os.RemoveAll(tmp)
		res, err := pkgconfig.Write(tmp, s.token, o.settings(), formats)
		if err != nil {
			return fmt.Errorf("configuring %s: %s", strings.Join(formatNames(formats), ","), redact.String(err.Error(), secrets...))
		}
		caEnv, err := caBundleEnv(tmp, o.caBundle)
		if err != nil {
			return err
		}
		// ExecEnv may hold the token: the child gets it, nothing prints it.
		for _, e := range append(append(res.Env, res.ExecEnv...), caEnv...) {
			if e.Unset {
				env = unsetEnv(env, e.Name)
			} else {
				env = setEnv(env, e.Name, e.Value)
			}
		}
	}

	select {
	case sig := <-sigs:
		return &cmdutil.ExitError{Code: 128 + signalNumber(sig), Err: fmt.Errorf("interrupted by %v before running %s", sig, argv[0])}
	default:
	}
	stdout := redact.NewWriter(a.io.Out, secrets...)
	stderr := redact.NewWriter(a.io.ErrOut, secrets...)
	code, err := run(ctx, argv, env, a.io.In, stdout, stderr, sigs)
	_ = stdout.Flush()
	_ = stderr.Flush()
	if err != nil {
		return &cmdutil.ExitError{Code: code, Err: errors.New(redact.String(err.Error(), secrets...))}
	}
	if code != 0 {
		return &cmdutil.ExitError{Code: code}
	}
	return nil
}

func formatNames(fs []pkgconfig.Format) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// childEnv is the command's environment: ours, plus the Cloudsmith
// coordinates and token (CLOUDSMITH_API_KEY and CLOUDSMITH_API_HOST are
// what Cloudsmith's CLI reads), minus the OIDC token (in any variable it may be bound to), which
// the command has no use for.
func childEnv(base []string, o *options, s *session) []string {
	env := append([]string(nil), base...)
	for _, name := range append([]string{"OIDC_TOKEN_FILE"}, tokenEnvs...) {
		env = unsetEnv(env, name)
	}
	env = setEnv(env, "CLOUDSMITH_API_KEY", s.token)
	env = setEnv(env, "CLOUDSMITH_ORG", o.org)
	env = setEnv(env, "CLOUDSMITH_SERVICE_SLUG", o.service)
	env = setEnv(env, "CLOUDSMITH_API_URL", o.apiURL)
	// The Cloudsmith CLI's name for the same API, so `cloudsmith push ...`
	// inside exec talks to the host the token came from.
	env = setEnv(env, "CLOUDSMITH_API_HOST", o.apiURL)
	if o.repo != "" {
		env = setEnv(env, "CLOUDSMITH_REPO", o.repo)
	}
	return env
}

func setEnv(env []string, name, value string) []string {
	return append(unsetEnv(env, name), name+"="+value)
}

func unsetEnv(env []string, name string) []string {
	out := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// lookPathIn resolves a bare command name on the PATH of env, as a shell
// started with env would; names with a separator and names not found are
// left to exec.
func lookPathIn(name string, env []string) string {
	if strings.ContainsRune(name, os.PathSeparator) {
		return name
	}
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			for _, dir := range filepath.SplitList(v) {
				if dir == "" {
					dir = "."
				}
				p := filepath.Join(dir, name)
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
					return p
				}
			}
			break
		}
	}
	return name
}

// signalNumber is sig's number, for the 128+N exit status.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return int(syscall.SIGINT)
}

// run starts argv and waits for it, forwarding signals, and returns its
// exit status: its own code, 128+N when signal N killed it, 127 when it
// can't be found and 126 when it can't be run, as shells do. Signals
// arriving on sigs are passed on to it.
func run(ctx context.Context, argv, env []string, stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal) (int, error) {
	// The command is found on the child's PATH, which configuration may
	// have changed (Maven's wrapper comes first), not on ours.
	cmd := exec.Command(lookPathIn(argv[0], env), argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.WaitDelay = ioDrainDelay

	if err := cmd.Start(); err != nil {
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return code, fmt.Errorf("running %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		ctxDone := ctx.Done()
		for {
			select {
			case sig := <-sigs:
				_ = cmd.Process.Signal(sig)
			case <-ctxDone:
				// In-process callers cancel instead of signalling.
				if cmd.Process.Signal(syscall.SIGTERM) != nil {
					_ = cmd.Process.Kill()
				}
				ctxDone = nil
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		// The command exited 0 but something it started kept its output
		// open; its status is still the command's.
		return 0, nil
	}
	return 1, fmt.Errorf("waiting for %s: %w", argv[0], err)
}

// systemRoots are where Linux distributions and macOS keep the system's
// trusted roots as one PEM file (the paths Go's crypto/x509 reads).
var systemRoots = []string{
	"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem", "/etc/ssl/cert.pem",
}

// caBundleEnv makes the package managers trust --ca-bundle (a private CA
// in front of Cloudsmith, or an emulator) as cloudsmith-oidc itself does:
// SSL_CERT_FILE (go, curl, git) and PIP_CERT point at the system roots
// plus the bundle, written into dir, since both replace the roots rather
// than add to them; NODE_EXTRA_CA_CERTS (npm) adds the bundle itself.
func caBundleEnv(dir, bundle string) ([]pkgconfig.Env, error) {
	if bundle == "" {
		return nil, nil
	}
	extra, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("reading --ca-bundle: %w", err)
	}
	var all []byte
	for _, p := range systemRoots {
		if b, err := os.ReadFile(p); err == nil {
			all = append(b, '\n')
			break
		}
	}
	all = append(all, extra...)
	combined := filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(combined, all, 0o600); err != nil {
		return nil, fmt.Errorf("writing the combined CA bundle: %w", err)
	}
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, err
	}
	return []pkgconfig.Env{
		{Name: "SSL_CERT_FILE", Value: combined},
		{Name: "PIP_CERT", Value: combined},
		{Name: "NODE_EXTRA_CA_CERTS", Value: abs},
	}, nil
}
