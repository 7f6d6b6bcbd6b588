package spec

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jenkinsurl"
)

// RootURL is jenkins.url with exactly one trailing slash, the form Jenkins
// itself uses for its root URL (so "job/x" and "oidc" can be appended).
func (j Jenkins) RootURL() string {
	return jenkinsurl.Root(j.URL)
}

// IssuerURL is the `iss` every build token carries and the provider URL
// Cloudsmith must trust: the custom issuer when set, else Jenkins' own
// <root>oidc, or <root>oidc/job/<a>/job/<b> for a credential in folder a/b
// (each segment encoded like Jenkins' Util.rawEncode, as the plugin does).
func (s *Spec) IssuerURL() string {
	if s.OIDC.Issuer != "" {
		return s.OIDC.Issuer
	}
	return jenkinsurl.Issuer(s.Jenkins.URL, s.OIDC.Folder)
}

// Identity is the spec's id: spec.id when set, else derived from the
// credential it manages ("<oidc.folder>/<oidc.credential>", or just the
// credential id for the system store). A spec owns one credential, and two
// specs sharing one would fight over its key anyway, so the derived id is
// unique per controller and, unlike the file name, survives renames.
func (s *Spec) Identity() string {
	if s.ID != "" {
		return s.ID
	}
	if s.OIDC.Folder != "" {
		return s.OIDC.Folder + "/" + s.OIDC.Credential
	}
	return s.OIDC.Credential
}

// Resolve turns a path from the spec (templates_dir, ca_bundle) into one
// usable from the current directory: relative paths are relative to the
// spec file, so a spec means the same thing wherever it is run from.
func (s *Spec) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || s.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(s.File), p)
}

// Folder is the job's parent folder full name ("" at the top level).
func (j Job) Folder() string {
	i := strings.LastIndex(j.Name, "/")
	if i < 0 {
		return ""
	}
	return j.Name[:i]
}

// Base is the job's own name, without its folders.
func (j Job) Base() string {
	return j.Name[strings.LastIndex(j.Name, "/")+1:]
}

// Folders lists every folder the spec's jobs (and the seed job) need, parents
// before children, each once, in first-seen order; it includes oidc.folder.
func (s *Spec) Folders() []string {
	var out []string
	seen := map[string]bool{}
	add := func(full string) {
		segs := strings.Split(full, "/")
		for n := 1; n < len(segs); n++ {
			f := strings.Join(segs[:n], "/")
			if !seen[foldName(f)] {
				seen[foldName(f)] = true
				out = append(out, f)
			}
		}
	}
	if s.OIDC.Folder != "" {
		add(s.OIDC.Folder + "/x")
	}
	for _, j := range s.Jobs {
		add(j.Name)
	}
	if s.Seed != nil {
		add(s.Seed.Name)
	}
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return strings.TrimRight(v, "/")
}

// API is the Cloudsmith API base URL, without a trailing slash.
func (c Cloudsmith) API() string { return c.Host(pkgconfig.APIURL) }

// Host is the host with pkgconfig's key (pkgconfig.DownloadURL, ...): the
// spec's override, else Cloudsmith's public host, without a trailing slash.
func (c Cloudsmith) Host(key string) string {
	e, _ := pkgconfig.EndpointOf(key)
	return orDefault(c.Hosts()[key], e.Default)
}

// Hosts returns the host overrides the spec sets, by pkgconfig key.
func (c Cloudsmith) Hosts() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(c)
	for _, f := range hostFields() {
		if s := v.Field(f.index).String(); s != "" {
			out[f.key] = s
		}
	}
	return out
}

// hostFields are Cloudsmith's fields named by a key of pkgconfig's host
// table.
func hostFields() []fieldInfo {
	var out []fieldInfo
	for _, f := range fieldsOf(reflect.TypeOf(Cloudsmith{})) {
		if _, ok := pkgconfig.EndpointOf(f.key); ok {
			out = append(out, f)
		}
	}
	return out
}

// StoreName names the Jenkins credential store of folder in messages:
// "folder team-a", or "the system store" for "".
func StoreName(folder string) string {
	if folder == "" {
		return "the system store"
	}
	return "folder " + folder
}

// RepoUse is a Cloudsmith repository the spec's jobs use and the privilege
// the service account needs on it.
type RepoUse struct {
	Repo string
	// Write is set when a job publishes to the repository; Read is
	// enough otherwise.
	Write bool
	// Jobs are the full names of the jobs using it, in spec order.
	Jobs []string
}

// Privilege is the repository privilege the use needs, as Cloudsmith names
// it ("Read" or "Write").
func (u RepoUse) Privilege() string {
	if u.Write {
		return "Write"
	}
	return "Read"
}

// Repositories lists the repositories the jobs use (job.repo, after
// defaults), sorted by name.
func (s *Spec) Repositories() []RepoUse {
	byRepo := map[string]*RepoUse{}
	var names []string
	for _, j := range s.Jobs {
		if j.Repo == "" {
			continue
		}
		u, ok := byRepo[j.Repo]
		if !ok {
			u = &RepoUse{Repo: j.Repo}
			byRepo[j.Repo] = u
			names = append(names, j.Repo)
		}
		u.Write = u.Write || j.Publish
		u.Jobs = append(u.Jobs, j.Name)
	}
	sort.Strings(names)
	out := make([]RepoUse, len(names))
	for i, n := range names {
		out[i] = *byRepo[n]
	}
	return out
}
