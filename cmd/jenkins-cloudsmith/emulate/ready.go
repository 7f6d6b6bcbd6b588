package emulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/securefile"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/world"
)

// envFile holds the exports of the written spec's secrets.
const envFile = "emulator.env"

// writtenBy starts every file emulate writes; only such files are
// replaced on the next run (the emulators' ports change each time).
var writtenBy = []byte("# Example spec written by `jenkins-cloudsmith emulate`")

// readySpec is the directory --write-spec fills.
type readySpec struct {
	dir string
}

// prepareSpecDir checks, before anything starts, that dir can take the
// files without replacing one the user wrote.
func prepareSpecDir(dir string) (*readySpec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("--write-spec: %w", err)
	}
	specPath := filepath.Join(abs, world.SpecFile)
	switch b, err := os.ReadFile(specPath); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("--write-spec: %w", err)
	case !bytes.HasPrefix(b, writtenBy):
		return nil, fmt.Errorf("--write-spec: %s exists and was not written by emulate: move it away or pick another directory", specPath)
	}
	return &readySpec{dir: abs}, nil
}

// write links the step binary and writes the spec and the env file.
func (r *readySpec) write(ctx context.Context, w *world.World, caFile, binary string) error {
	binDir := filepath.Join(r.dir, "bin")
	// A link left by an earlier run points at an older program.
	_ = os.Remove(filepath.Join(binDir, "cloudsmith-oidc"))
	bin, err := world.LinkStepBinary(ctx, binDir, binary)
	if err != nil {
		return fmt.Errorf("--write-spec: %w", err)
	}
	spec, err := w.Spec(world.SpecValues{
		By: "emulate", SecretsFrom: "source " + envFile + " beside this file to set them",
		CABundle: caFile, Binary: bin,
	})
	if err != nil {
		return err
	}
	if err := securefile.WriteFile(filepath.Join(r.dir, world.SpecFile), spec); err != nil {
		return fmt.Errorf("--write-spec: %w", err)
	}
	var env bytes.Buffer
	env.Write(writtenBy)
	env.WriteString(": the throwaway secrets of its emulators (gone when emulate stops).\n")
	for _, name := range []string{world.JenkinsEnv, world.CloudsmithEnv} {
		fmt.Fprintf(&env, "export %s=%s\n", name, shWord(w.Getenv(name)))
	}
	if err := securefile.WriteFile(filepath.Join(r.dir, envFile), env.Bytes()); err != nil {
		return fmt.Errorf("--write-spec: %w", err)
	}
	return nil
}

// next says what to run against the written spec.
func (r *readySpec) next(w io.Writer) {
	fmt.Fprintf(w, `Wrote a ready spec for these emulators: %s
Next, in another terminal, follow the README's "Using it on a real controller" as written:
  cd %s && . ./%s
  jenkins-cloudsmith validate -f %s
  jenkins-cloudsmith plan     -f %s
  jenkins-cloudsmith apply    -f %s --install-plugins --prune
  jenkins-cloudsmith doctor   -f %s
Stop emulate with Ctrl-C; the spec's hosts stop with it.
`, filepath.Join(r.dir, world.SpecFile), shWord(r.dir), envFile, world.SpecFile, world.SpecFile, world.SpecFile, world.SpecFile)
}

// shWord is s as one single-quoted POSIX shell word (the emulators'
// tokens and paths hold no NUL).
func shWord(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
