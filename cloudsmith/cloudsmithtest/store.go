package cloudsmithtest

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Package is one version of a package in a repository: what a format's
// handler serves and what an upload stores. Every format keeps its own
// files (a wheel, an npm tarball, a Go module's .info/.mod/.zip, a raw
// file) and whatever metadata its index needs.
type Package struct {
	// Format is the format's name as Cloudsmith spells it ("python", "npm",
	// "go", "raw", ...).
	Format  string
	Name    string
	Version string
	Files   []File
	// Metadata is format-specific: npm's version document (package.json
	// fields), Python's Requires-Python, and so on.
	Metadata map[string]any
	// UploadedAt is when the package arrived (the build time for the
	// seeded demo packages).
	UploadedAt time.Time
}

// File is one file of a package.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// file returns the package's file called name, or nil.
func (p *Package) file(name string) *File {
	if i := slices.IndexFunc(p.Files, func(f File) bool { return f.Name == name }); i >= 0 {
		return &p.Files[i]
	}
	return nil
}

func clonePackage(p Package) Package {
	cp := p
	cp.Files = slices.Clone(p.Files)
	cp.Metadata = maps.Clone(p.Metadata)
	return cp
}

// repository is a package repository of an org: its packages and the
// privileges granted on it. Callers hold Cloudsmith.mu.
type repository struct {
	slug     string
	packages []*Package // upload order
	// grants are the explicit privileges (GET/PATCH/PUT
	// /repos/{org}/{repo}/privileges), in the order they were added.
	grants []Grant
}

// find returns the package of a format with the given name and version
// , or nil.
func (r *repository) find(format, name, version string) *Package {
	return first(r.packages, func(p *Package) bool { return p.Format == format && p.Name == name && p.Version == version })
}

// ofFormat returns a format's packages, oldest first.
func (r *repository) ofFormat(format string) []*Package {
	var out []*Package
	for _, p := range r.packages {
		if p.Format == format {
			out = append(out, p)
		}
	}
	return out
}

// add stores a package. A version that exists already is refused, as
// Cloudsmith refuses to overwrite a package version unless the repository
// allows it.
func (r *repository) add(p Package) error {
	if r.find(p.Format, p.Name, p.Version) != nil {
		return fmt.Errorf("%s package %s %s already exists in repository %q", p.Format, p.Name, p.Version, r.slug)
	}
	stored := clonePackage(p)
	r.packages = append(r.packages, &stored)
	return nil
}

// AddRepo adds an empty repository to an org (which must exist).
func (c *Cloudsmith) AddRepo(orgSlug, repoSlug string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	if !ok {
		return fmt.Errorf("cloudsmithtest: no org %q", orgSlug)
	}
	if o.repo(repoSlug) != nil {
		return fmt.Errorf("cloudsmithtest: repository %s/%s already exists", orgSlug, repoSlug)
	}
	o.repos = append(o.repos, &repository{slug: repoSlug})
	return nil
}

// AddPackage stores a package in a repository, as an upload would, and
// makes it available to that format's clients.
func (c *Cloudsmith) AddPackage(orgSlug, repoSlug string, p Package) error {
	if formatByName(p.Format) == nil {
		return fmt.Errorf("cloudsmithtest: unknown package format %q", p.Format)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.lookupRepo(orgSlug, repoSlug)
	if err != nil {
		return err
	}
	if p.UploadedAt.IsZero() {
		p.UploadedAt = c.now().UTC()
	}
	if err := r.add(p); err != nil {
		return fmt.Errorf("cloudsmithtest: %w", err)
	}
	return nil
}

// Packages returns copies of a repository's packages, oldest first.
func (c *Cloudsmith) Packages(orgSlug, repoSlug string) []Package {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.lookupRepo(orgSlug, repoSlug)
	if err != nil {
		return nil
	}
	out := make([]Package, 0, len(r.packages))
	for _, p := range r.packages {
		out = append(out, clonePackage(*p))
	}
	return out
}

// lookupRepo finds a repository; callers hold c.mu.
func (c *Cloudsmith) lookupRepo(orgSlug, repoSlug string) (*repository, error) {
	o, ok := c.orgs[orgSlug]
	if !ok {
		return nil, fmt.Errorf("cloudsmithtest: no org %q", orgSlug)
	}
	r := o.repo(repoSlug)
	if r == nil {
		return nil, fmt.Errorf("cloudsmithtest: no repository %s/%s", orgSlug, repoSlug)
	}
	return r, nil
}

// demoPackages are the demo packages as a repository stores them.
func (a *artifacts) demoPackages() []Package {
	return []Package{
		{
			Format: "python", Name: DemoPythonProject, Version: DemoPythonVersion,
			Files:    []File{{Name: a.wheelName, ContentType: "application/zip", Data: a.wheel}},
			Metadata: map[string]any{"requires_python": ">=3.7"},
		},
		{
			Format: "npm", Name: DemoNPMPackage, Version: DemoNPMVersion,
			Files: []File{{Name: DemoNPMPackage + "-" + DemoNPMVersion + ".tgz", ContentType: "application/octet-stream", Data: a.npmTarball}},
			Metadata: map[string]any{
				"description": "Demo package served by the Cloudsmith emulator",
				"main":        "index.js",
				"license":     "Apache-2.0",
			},
		},
		{
			Format: "go", Name: DemoGoModule, Version: DemoGoVersion,
			Files: []File{
				{Name: DemoGoVersion + ".info", ContentType: "application/json", Data: a.goInfo},
				{Name: DemoGoVersion + ".mod", ContentType: "text/plain; charset=utf-8", Data: a.goMod},
				{Name: DemoGoVersion + ".zip", ContentType: "application/zip", Data: a.goZip},
			},
		},
		{
			Format: "raw", Name: DemoRawPackage, Version: DemoRawVersion,
			Files: []File{{Name: DemoRawFile, ContentType: "text/plain; charset=utf-8", Data: a.raw}},
		},
	}
}
