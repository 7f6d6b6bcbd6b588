// Package gitserve serves git repositories over git's smart HTTP protocol
// (git http-backend behind net/http/cgi), so emulated Jenkins jobs and
// shared libraries check code out over http:// as they would from a real
// git host: the git plugin refuses file:// and local paths on a controller
// (SECURITY-2478).
package gitserve

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Server serves every repository under Root at URL + "<name>.git".
type Server struct {
	// Root holds the bare repositories.
	Root string
	// URL is the server's base URL, with a trailing slash.
	URL string

	srv *http.Server
}

// Start serves root on a loopback port.
func Start(root string) (*Server, error) {
	backend, err := execPath()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gitserve: %w", err)
	}
	h := &cgi.Handler{
		Path: backend,
		Dir:  root,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	s := &Server{Root: root, URL: "http://" + ln.Addr().String() + "/", srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Handler serves the repositories under root over smart HTTP at
// /<name>.git/..., for a server of the caller's own (an emulator that
// authenticates first).
func Handler(root string) (http.Handler, error) {
	backend, err := execPath()
	if err != nil {
		return nil, err
	}
	return &cgi.Handler{
		Path: backend,
		Root: "/",
		Dir:  root,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// execPath finds git http-backend.
func execPath() (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("gitserve needs git (Debian: apt-get install git): %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("gitserve: git http-backend not found: %w", err)
	}
	return p, nil
}

// Publish makes (or updates) the bare repository root/<name>.git whose
// branch holds exactly files, committed with message, and returns the
// commit. Tags in tags point at that commit too.
func Publish(ctx context.Context, root, name, branch, message string, files fs.FS, tags ...string) (string, error) {
	work, err := os.MkdirTemp("", "gitserve-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if err := os.CopyFS(work, files); err != nil {
		return "", fmt.Errorf("gitserve: copying files: %w", err)
	}
	bare := filepath.Join(root, name+".git")
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=jenkins-cloudsmith", "GIT_AUTHOR_EMAIL=emulator@localhost",
		"GIT_COMMITTER_NAME=jenkins-cloudsmith", "GIT_COMMITTER_EMAIL=emulator@localhost", "GIT_TERMINAL_PROMPT=0")
	run := func(dir string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("gitserve: git %s: %w: %s", strings.Join(args, " "), err, out.String())
		}
		return strings.TrimSpace(out.String()), nil
	}
	if _, err := os.Stat(bare); err != nil {
		if _, err := run(root, "init", "--bare", "--quiet", "-b", branch, bare); err != nil {
			return "", err
		}
	}
	steps := [][]string{
		{"init", "--quiet", "-b", branch},
		{"add", "-A"},
		{"commit", "--quiet", "--allow-empty", "-m", message},
		{"push", "--quiet", "--force", bare, "HEAD:refs/heads/" + branch},
	}
	for _, tag := range tags {
		steps = append(steps, []string{"tag", "-f", tag}, []string{"push", "--quiet", "--force", bare, "refs/tags/" + tag})
	}
	for _, args := range steps {
		if _, err := run(work, args...); err != nil {
			return "", err
		}
	}
	return run(work, "rev-parse", "HEAD")
}
