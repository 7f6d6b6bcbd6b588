// Package testenv holds the one policy for tests that drive real,
// independent clients (groovy, jenkins-jobs, python-jenkins, pip, npm, go):
// on a developer's machine a missing client skips the test; under CI (env
// CI set), which installs them all, it fails, so a green CI run can never
// hide a test that silently did not run.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Require skips (or, under CI, fails) t when err says something the test
// needs is missing; what names it and how to install it.
func Require(t testing.TB, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI: %v", what, err)
	}
	t.Skipf("%s is not available (%v); install it to run this test", what, err)
}

// LookPath finds tool on PATH and, when probe args are given, checks that
// `tool probe...` runs; otherwise it calls Require.
func LookPath(t testing.TB, tool string, probe ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil && len(probe) > 0 {
		err = exec.Command(path, probe...).Run()
	}
	Require(t, err, strings.TrimSpace(tool+" "+strings.Join(probe, " ")))
	return path
}
