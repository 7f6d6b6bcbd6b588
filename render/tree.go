package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/securefile"
)

// WriteTree writes the output under dir as a tree a person can read:
//
//	jobs/<folder>/.../<job>/config.xml (+ Jenkinsfile for pipelines)
//	folders/<folder>/.../config.xml
//	credential/credential.json, credential/credential.xml
//	vars/<step>.groovy, vars/<step>.txt
//
// No reader ever sees half a file. A top-level directory (jobs, vars, ...)
// that does not exist yet is built under a hidden temporary name and
// renamed into place once complete, so its files are written directly,
// with no per-file temporary; in one that exists, each file is replaced
// atomically (written beside it, then renamed), and a file that already
// holds the right content is left alone. Files get mode 0644 and
// directories 0755, less the umask. The time goes into file-system calls,
// so each directory is created once and a few goroutines work at once.
func (o *Output) WriteTree(dir string) error {
	files, err := o.Files()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	t := &tree{root: dir, files: files, staged: map[string]string{}}
	defer t.removeStaged()
	if err := t.stage(); err != nil {
		return err
	}
	if err := t.write(); err != nil {
		return err
	}
	return t.publish()
}

// treeWorkers is how many directories are written at once: the work is
// file-system calls, which overlap even on one CPU.
const treeWorkers = 8

// tree is one WriteTree call.
type tree struct {
	root  string
	files map[string][]byte
	// staged maps a top-level directory that did not exist to the hidden
	// directory it is built in until publish renames it.
	staged map[string]string
}

// stage creates a hidden directory for each top-level directory that does
// not exist yet.
func (t *tree) stage() error {
	for _, top := range t.tops() {
		target := filepath.Join(t.root, top)
		if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		tmp, err := mkdirTemp(t.root, "."+top+".", ".tmp")
		if err != nil {
			return fmt.Errorf("creating %s: %w", target, err)
		}
		t.staged[top] = tmp
	}
	return nil
}

// tops lists the top-level directories, sorted.
func (t *tree) tops() []string {
	seen := map[string]bool{}
	var out []string
	for n := range t.files {
		top, _, _ := strings.Cut(n, "/")
		if !seen[top] {
			seen[top] = true
			out = append(out, top)
		}
	}
	sort.Strings(out)
	return out
}

// path maps a tree path to where it is written now: under its staging
// directory while that exists.
func (t *tree) path(n string) string {
	top, rest, _ := strings.Cut(n, "/")
	if tmp, ok := t.staged[top]; ok {
		return filepath.Join(tmp, filepath.FromSlash(rest))
	}
	return filepath.Join(t.root, filepath.FromSlash(n))
}

// write creates every directory and writes every file: directories one
// depth at a time (parents first), each directory's files by the worker
// that created it.
func (t *tree) write() error {
	byDir := map[string][]string{}
	for n := range t.files {
		for d := path.Dir(n); d != "." && byDir[d] == nil; d = path.Dir(d) {
			byDir[d] = []string{}
		}
		byDir[path.Dir(n)] = append(byDir[path.Dir(n)], n)
	}
	var levels [][]string
	for d := range byDir {
		depth := strings.Count(d, "/")
		for len(levels) <= depth {
			levels = append(levels, nil)
		}
		levels[depth] = append(levels[depth], d)
	}
	for _, dirs := range levels {
		sort.Strings(dirs)
		if err := errors.Join(forEach(len(dirs), treeWorkers, func(i int) error { return t.writeDir(dirs[i], byDir[dirs[i]]) })...); err != nil {
			return err
		}
	}
	return nil
}

// writeDir creates tree directory d (unless it is a top-level one, which
// exists or is staged) and writes its files.
func (t *tree) writeDir(d string, names []string) error {
	top, _, nested := strings.Cut(d, "/")
	_, staged := t.staged[top]
	fresh := staged
	if nested || !staged {
		err := os.Mkdir(t.path(d), 0o755)
		switch {
		case err == nil:
			fresh = true
		case !staged && errors.Is(err, fs.ErrExist):
		default:
			return fmt.Errorf("creating %s: %w", filepath.Join(t.root, filepath.FromSlash(d)), err)
		}
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, t.writeFile(n, fresh, staged))
	}
	return errors.Join(errs...)
}

// writeFile writes one file: directly in a staged directory, which no
// reader sees yet; else atomically, unless it already holds the content
// (which a directory this call created cannot).
func (t *tree) writeFile(n string, fresh, staged bool) error {
	name, data := t.path(n), t.files[n]
	var err error
	switch {
	case staged:
		err = createFile(name, data, 0o644)
	case !fresh && sameContent(name, data):
		return nil
	default:
		err = securefile.WriteAtomic(name, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(t.root, filepath.FromSlash(n)), err)
	}
	return nil
}

// publish renames each complete staged directory into place. If one
// appeared meanwhile (another writer), its files are written into it
// atomically instead: nothing is replaced wholesale.
func (t *tree) publish() error {
	for _, top := range t.tops() {
		tmp, ok := t.staged[top]
		if !ok {
			continue
		}
		err := os.Rename(tmp, filepath.Join(t.root, top))
		if err == nil {
			delete(t.staged, top)
			continue
		}
		if _, serr := os.Lstat(filepath.Join(t.root, top)); serr != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(t.root, top), err)
		}
		delete(t.staged, top)
		os.RemoveAll(tmp)
		sub := &tree{root: t.root, files: map[string][]byte{}, staged: map[string]string{}}
		for n, b := range t.files {
			if strings.HasPrefix(n, top+"/") {
				sub.files[n] = b
			}
		}
		if err := sub.write(); err != nil {
			return err
		}
	}
	return nil
}

// removeStaged removes what is left of staged directories after a failure.
func (t *tree) removeStaged() {
	for _, tmp := range t.staged {
		os.RemoveAll(tmp)
	}
}

// forEach runs f(0..n-1) on up to workers goroutines and returns each
// call's error.
func forEach(n, workers int, f func(i int) error) []error {
	errs := make([]error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs[i] = f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	return errs
}

// sameContent reports whether file name holds exactly data. It reads at
// most one byte more than data, without a stat.
func sameContent(name string, data []byte) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(data)+1)
	n, _ := io.ReadFull(f, buf)
	return n == len(data) && bytes.Equal(buf[:n], data)
}

// Files maps each tree path ('/'-separated, relative) to its content, as
// WriteTree lays them out.
func (o *Output) Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, f := range o.Folders {
		p, err := treePath("folders", f.Path)
		if err != nil {
			return nil, err
		}
		files[p+"/config.xml"] = f.ConfigXML
	}
	for _, j := range o.Jobs {
		p, err := treePath("jobs", j.Name)
		if err != nil {
			return nil, err
		}
		files[p+"/config.xml"] = j.ConfigXML
		if j.Jenkinsfile != nil {
			files[p+"/Jenkinsfile"] = j.Jenkinsfile
		}
	}
	if o.Credential.FormJSON != nil {
		files["credential/credential.json"] = o.Credential.FormJSON
		files["credential/credential.xml"] = o.Credential.XML
	}
	for n, b := range o.Vars {
		files["vars/"+n] = b
	}
	return files, nil
}

// treePath maps a Jenkins full name to a path under top, refusing segments
// that would escape the tree (the spec rejects them; this guards Outputs
// built by hand).
func treePath(top, name string) (string, error) {
	segs := strings.Split(name, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "\\\x00") {
			return "", fmt.Errorf("cannot write %q to a file tree: each '/'-separated part must be a plain name", name)
		}
	}
	return top + "/" + name, nil
}

// WriteFileAtomic writes data to name with securefile.WriteAtomic (a
// synced temporary file beside it and a rename; never through a symlink),
// creating parent directories as needed; the file gets exactly mode perm.
func WriteFileAtomic(name string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return securefile.WriteAtomic(name, data, perm)
}

// createFile creates name, which must not exist (O_EXCL: never through a
// symlink), holding data, synced before the directory is published.
func createFile(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// mkdirTemp is os.MkdirTemp with mode 0755 (less the umask), the mode the
// directory keeps once renamed into place.
func mkdirTemp(dir, prefix, suffix string) (string, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+suffix)
		err := os.Mkdir(name, 0o755)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return name, err
	}
}
