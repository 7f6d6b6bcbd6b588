package cloudsmithtest

import "net/http"

// storeUpload stores what a native upload sent. A version that exists
// already is a 409, except that with addFiles a new file joins it (a
// Python version's wheel and sdist arrive one upload each); a file it
// holds already is never overwritten. Metadata of a new file's version
// is merged (new keys only).
func (c *Cloudsmith) storeUpload(org, repo string, p Package, addFiles bool) *httpError {
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
	if !addFiles {
		return &httpError{Status: http.StatusConflict, Detail: p.Format + " package " + p.Name + " " + p.Version + " exists already and is not overwritten"}
	}
	cp := clonePackage(*old)
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
	// Stored packages are never changed (handlers read them without the
	// lock): the version is replaced by a copy.
	for i := range r.packages {
		if r.packages[i] == old {
			r.packages[i] = &cp
		}
	}
	return nil
}
