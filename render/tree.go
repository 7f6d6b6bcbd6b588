package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// WriteTree writes the output under dir as a tree a person can read:
//
//	jobs/<folder>/.../<job>/config.xml (+ Jenkinsfile for pipelines)
//	folders/<folder>/.../config.xml
//	credential/credential.json, credential/credential.xml
//	vars/<step>.groovy, vars/<step>.txt
//
// Each file is replaced atomically (written beside it, then renamed), so a
// reader sees the old or the new content, never half of one; a file that
// already holds the right content is left alone. Files are written by a
// few goroutines at once: the time goes into file-system calls.
func (o *Output) WriteTree(dir string) error {
	files, err := o.Files()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	dirSet := map[string]bool{}
	for n := range files {
		names = append(names, n)
		for d := path.Dir(n); d != "." && !dirSet[d]; d = path.Dir(d) {
			dirSet[d] = true
		}
	}
	sort.Strings(names)
	// Directories first, parents before children (sorted), one mkdir
	// each; a directory this call created holds nothing to compare with.
	dirs := make([]string, 0, len(dirSet))
	for d := range dirSet {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	fresh := map[string]bool{}
	for _, d := range dirs {
		err := os.Mkdir(filepath.Join(dir, filepath.FromSlash(d)), 0o755)
		switch {
		case err == nil:
			fresh[d] = true
		case errors.Is(err, fs.ErrExist):
		default:
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	work := make(chan int)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for w := 0; w < min(8, len(names)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				n := names[i]
				errs[i] = writeIfChanged(filepath.Join(dir, filepath.FromSlash(n)), files[n], !fresh[path.Dir(n)])
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// writeIfChanged writes data atomically unless name (which may exist)
// already holds it.
func writeIfChanged(name string, data []byte, mayExist bool) error {
	if mayExist {
		if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
			return nil
		}
	}
	return writeAtomic(name, data, 0o644)
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

// WriteFileAtomic writes data to name through a temporary file in the same
// directory and a rename, creating parent directories as needed.
func WriteFileAtomic(name string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return writeAtomic(name, data, perm)
}

// writeAtomic is WriteFileAtomic in an existing directory.
func writeAtomic(name string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err = os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
