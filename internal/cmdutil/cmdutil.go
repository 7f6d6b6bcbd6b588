// Package cmdutil holds what every command of both CLIs shares: the
// injected IO streams and the way a command reports an exit status.
package cmdutil

import (
	"errors"
	"fmt"

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

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

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
