// Package securefile writes files that hold secrets: owner-only
// permissions, and atomic replacement so a reader never sees half a token
// and a crash never leaves a truncated credential behind.
package securefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// FileMode is the mode of every secret file this package writes.
const FileMode fs.FileMode = 0o600

// DirMode is the mode of every private directory this package creates.
const DirMode fs.FileMode = 0o700

// WriteFile atomically replaces path with data, mode 0600 (WriteAtomic):
// for files that hold a secret.
func WriteFile(path string, data []byte) error { return WriteAtomic(path, data, FileMode) }

// WriteAtomic atomically replaces path with data, with exactly mode perm
// whatever the umask: it writes a temporary file in the same directory
// (0600 until complete), syncs it and renames it over path, so a reader
// never sees half a file and a crash never leaves a truncated one. It
// refuses to replace anything but a regular file (a symlink, a directory,
// a device, a FIFO), so a planted symlink can't redirect the write. It is
// the project's one atomic-write helper.
func WriteAtomic(path string, data []byte, perm fs.FileMode) error {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("refusing to replace %s: it is a %s, not a regular file", path, kind(fi.Mode()))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("checking %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file next to %s: %w", path, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp made it 0600; the final mode is set once it is complete,
	// and explicitly, so the umask does not change it.
	if err := tmp.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("setting the mode of %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("moving the new %s into place: %w", path, err)
	}
	ok = true
	return nil
}

// WriteOutput writes data where a user pointed an --output flag: a regular
// (or new) file is replaced atomically with mode 0600; a character device
// (/dev/stdout, /dev/tty) or a FIFO (a pipe another process reads) is
// written in place, as replacing it would be wrong; anything else (a
// symlink, a directory, a socket) is refused.
func WriteOutput(path string, data []byte) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().IsRegular() {
		return WriteFile(path, data)
	}
	m := fi.Mode()
	if m&fs.ModeCharDevice != 0 || m&fs.ModeNamedPipe != 0 {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("opening %s: %w", path, err)
		}
		if _, err := f.Write(data); err != nil {
			_ = f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return f.Close()
	}
	return fmt.Errorf("refusing to write a secret to %s: it is a %s (give a regular file, a new path, or - for stdout)", path, kind(m))
}

// MkdirPrivate creates dir (and parents) and makes sure it is a real
// directory, not a symlink, readable by its owner only.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return CheckPrivateDir(dir, true)
}

// CheckPrivateDir reports an error unless dir is a directory (not a
// symlink) owned by the current user with no group or other permissions.
// With fix, a directory we own with looser permissions is tightened
// instead. Windows has no such mode bits; there only the type is checked.
func CheckPrivateDir(dir string, fix bool) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is a %s, not a directory", dir, kind(fi.Mode()))
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("%s belongs to another user", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if !fix {
			return fmt.Errorf("%s is accessible to other users (mode %04o; want 0700)", dir, fi.Mode().Perm())
		}
		if err := os.Chmod(dir, DirMode); err != nil {
			return fmt.Errorf("restricting %s to its owner: %w", dir, err)
		}
	}
	return nil
}

// CheckPrivateFile reports an error unless path is a regular file (not a
// symlink) owned by the current user and not readable by anyone else.
func CheckPrivateFile(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return fi, fmt.Errorf("%s is a %s, not a regular file", path, kind(fi.Mode()))
	}
	if runtime.GOOS == "windows" {
		return fi, nil
	}
	if !ownedByMe(fi) {
		return fi, fmt.Errorf("%s belongs to another user", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fi, fmt.Errorf("%s is accessible to other users (mode %04o; want 0600)", path, fi.Mode().Perm())
	}
	return fi, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsRegular():
		return "regular file"
	}
	return "special file"
}
