package cloudsmithtest

import "net/http"

// uploadMode says what an upload may do to a version that exists.
type uploadMode int

const (
	// uploadNew refuses it (409).
	uploadNew uploadMode = iota
	// uploadAddFiles adds new files to it (a Python version's wheel and
	// sdist arrive one upload each); a file it holds is never overwritten.
	uploadAddFiles
	// uploadReplace replaces it (the API's republish).
	uploadReplace
)

// storeUpload stores what an upload sent, as mode allows. Metadata of a
// version that gains files is merged (new keys only).
func (c *Cloudsmith) storeUpload(org, repo string, p Package, mode uploadMode) *httpError {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.lookupRepo(org, repo)
	if err != nil {
		return errNotFound
	}
	if p.UploadedAt.IsZero() {
		p.UploadedAt = c.now().UTC()
	}
	old := r.find(p.Format, p.Name, p.Version)
	if old == nil {
		if err := r.add(p); err != nil {
			return &httpError{Status: http.StatusConflict, Detail: err.Error()}
		}
		return nil
	}
	var cp Package
	switch mode {
	case uploadNew:
		return &httpError{Status: http.StatusConflict, Detail: p.Format + " package " + p.Name + " " + p.Version + " exists already and is not overwritten"}
	case uploadReplace:
		cp = clonePackage(p)
	case uploadAddFiles:
		cp = clonePackage(*old)
		for _, f := range p.Files {
			if cp.file(f.Name) != nil {
				return &httpError{Status: http.StatusConflict, Detail: "the file " + f.Name + " of " + p.Name + " " + p.Version + " exists already and is not overwritten"}
			}
			cp.Files = append(cp.Files, f)
		}
		if cp.Metadata == nil {
			cp.Metadata = map[string]any{}
		}
		for k, v := range p.Metadata {
			if _, ok := cp.Metadata[k]; !ok {
				cp.Metadata[k] = v
			}
		}
	}
	// Stored packages are never changed (handlers read them without the
	// lock): the version is replaced by a copy.
	for i := range r.packages {
		if r.packages[i] == old {
			r.packages[i] = &cp
		}
	}
	return nil
}
