// Package cmdutil holds what every command of both CLIs shares: the
// injected IO streams and the way a command reports an exit status.
package cmdutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
)

// Factory is handed to every command constructor: commands read streams and
// the environment only through it, so tests can run them in-process.
type Factory struct {
	IO *iostreams.IOStreams
	// Version is the build's version string (stamped with -ldflags).
	Version string
}

// ExitError asks main to exit with Code. With a nil Err nothing more is
// printed (the command already said what it had to, e.g. plan's
// --detailed-exitcode 2).
type ExitError struct {
	Code int
	Err  error
}

// Error is Err's message, or the bare status when there is none.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns Err, so errors.Is and errors.As see through the status.
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the process exit status for err: 0 for nil, the code of
// an ExitError, else 1.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

// Output formats a command's --output flag accepts.
const (
	OutputText = "text"
	OutputJSON = "json"
)

// CheckOutput rejects an --output value other than text or json, before
// the command does any work.
func CheckOutput(output string) error {
	if output != OutputText && output != OutputJSON {
		return fmt.Errorf("--output %q: use text or json", output)
	}
	return nil
}

// WriteJSON writes v as indented JSON: what every command prints for
// --output json.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// DebugLogger is the logger --verbose asks for: debug lines on w (the
// clients log one per HTTP request, never headers or bodies), or nil when
// verbose is off so the clients log nothing.
func DebugLogger(verbose bool, w io.Writer) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
