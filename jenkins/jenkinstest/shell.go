package jenkinstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// shellStep is one shell script to run: hudson.tasks.Shell in freestyle
// builds.
type shellStep struct {
	script string
	env    map[string]string
	dir    string // working directory
	ws     string // the workspace, whose @tmp sibling holds the script
}

// runShell is hudson.tasks.Shell: the script goes to a temp file in the
// workspace's @tmp and runs as "/bin/sh -xe file" (getShellOrDefault)
// unless it starts with a shebang. /bin/sh is what it is on this machine,
// dash on Debian agents, so a bashism fails here as it does there.
func (j *Jenkins) runShell(ctx context.Context, console io.Writer, s shellStep) (int, error) {
	command := strings.ReplaceAll(s.script, "\r\n", "\n")
	f, err := os.CreateTemp(s.ws+"@tmp", "jenkins*.sh")
	if err != nil {
		return -1, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(command); err != nil {
		f.Close()
		return -1, err
	}
	if err := f.Close(); err != nil {
		return -1, err
	}
	var args []string
	if strings.HasPrefix(command, "#!") {
		line, _, _ := strings.Cut(command[2:], "\n")
		args = append(strings.Fields(line), f.Name())
		fmt.Fprintf(console, "[%s] $ %s\n", filepath.Base(s.ws), strings.Join(args, " "))
	} else {
		fmt.Fprintf(console, "[%s] $ /bin/sh -xe %s\n", filepath.Base(s.ws), f.Name())
		args = []string{"/bin/sh", "-xe", f.Name()}
	}
	if len(args) == 0 {
		return -1, errors.New("empty shebang")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = console, console
	cmd.Env = os.Environ()
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), err
		}
		fmt.Fprintf(console, "ERROR: %v\n", err)
		return -1, err
	}
	return 0, nil
}
