package world

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// LinkStepBinary makes dir/cloudsmith-oidc (cloudsmith-oidc.exe on Windows)
// run this program as the step binary: jenkins-cloudsmith is a multi-call
// binary that becomes cloudsmith-oidc when started under that name. A
// symlink where the system has them, a copy on Windows. With override set
// (a real cloudsmith-oidc build, or a test binary) it is linked instead.
func LinkStepBinary(ctx context.Context, dir, override string) (string, error) {
	target := override
	if target == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("find this program to run it as cloudsmith-oidc: %w (pass --binary PATH to a cloudsmith-oidc build instead)", err)
		}
		if strings.HasSuffix(strings.TrimSuffix(filepath.Base(exe), ".exe"), ".test") {
			// A go test binary is not multi-call: started as
			// cloudsmith-oidc it would run the tests again.
			return "", fmt.Errorf("%s is a test binary, not jenkins-cloudsmith: set Options.Binary (--binary)", exe)
		}
		target = exe
	}
	if abs, err := filepath.Abs(target); err == nil {
		target = abs
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	name := "cloudsmith-oidc"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	link := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		if err := copyFile(target, link); err != nil {
			return "", fmt.Errorf("copy %s to %s: %w", target, link, err)
		}
	} else if err := os.Symlink(target, link); err != nil {
		return "", fmt.Errorf("link %s to %s: %w", link, target, err)
	}
	// Prove it answers as cloudsmith-oidc before a build depends on it.
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(vctx, link, "version")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s version failed (%w): %s; pass --binary PATH to a cloudsmith-oidc build",
			link, err, strings.TrimSpace(out.String()))
	}
	return link, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
