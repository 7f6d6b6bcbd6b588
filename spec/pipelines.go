package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// libraryNameRe is what a shared library's name may hold here: Jenkins
// takes any text, but the name lands in @Library('...') identifiers (where
// '@' separates the version) and in help text, so it stays plain.
var libraryNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Warnings are problems that do not stop a spec from working but that
// validate reports (file:line:col, like errors), e.g. a seed job next to
// team jobs. Load keeps them in Spec.Warnings.
type Warnings = Errors

// warn records a warning at path.
func (c *checker) warn(p, hint, format string, args ...any) {
	pos := c.at(p)
	pos.File = c.errs.file
	c.warnings = append(c.warnings, &Error{Pos: pos, Path: p, Msg: "warning: " + fmt.Sprintf(format, args...), Hint: hint})
}

// library checks the library block: a name Jenkins and help text carry
// plainly, and with remote a version to pin (the library step refuses a
// retriever without one: "Must specify a version for library").
func (c *checker) library(l *Library) {
	if l == nil {
		return
	}
	if l.Name != "" && !libraryNameRe.MatchString(l.Name) {
		c.fail("library.name", "use letters, digits, '-', '_' and '.' (no '@': it separates the version)",
			"library.name %q is not a plain library name", l.Name)
	}
	if l.Remote != "" {
		c.gitURL("library.remote", l.Remote)
		c.credID("library.credentials_id", l.CredentialsID)
		if l.Version == "" {
			c.fail("library.version", "pin the library: version: v1.2.0 (a tag, branch or commit of the remote)",
				"library.remote needs version (the library step loads a remote library only at a version)")
		}
	} else if l.CredentialsID != "" {
		c.fail("library.credentials_id", "remove credentials_id, or add remote: with the library's git URL",
			"library.credentials_id is only used with library.remote")
	}
	if v := l.Version; v != "" && (strings.ContainsAny(v, " \t'\"\\@") || strings.HasPrefix(v, "-")) {
		c.fail("library.version", "write a tag, branch or commit, e.g. v1.2.0 or main", "library.version %q is not a git ref", v)
	}
}

// platforms checks binary.platforms: known os/arch keys, each an https
// download with its SHA-256.
func (c *checker) platforms(b *Binary) {
	for _, k := range sortedDownloads(b.Platforms) {
		d, p := b.Platforms[k], "binary.platforms."+k
		if !slices.Contains(Platforms, k) {
			c.fail(p, "use one of: "+strings.Join(Platforms, ", "), "unknown platform %q", k)
			continue
		}
		c.url(p+".url", d.URL, urlRules{})
		if d.SHA256 != "" && !sha256Re.MatchString(d.SHA256) {
			c.fail(p+".sha256", "paste the 64 hex digits printed by sha256sum (shasum -a 256 on macOS)", "%s.sha256 is not 64 hex digits", p)
		}
	}
}

func sortedDownloads(m map[string]Download) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// seedSecrets checks that the seed job can bind every secret the spec
// references: a seed that cannot would fail every build with "environment
// variable CLOUDSMITH_API_KEY ... is not set".
func (c *checker) seedSecrets(s *Spec) {
	sd := s.Seed
	c.credID("seed.cloudsmith_credential", sd.CloudsmithCredential)
	switch {
	case s.Cloudsmith.APIKey.IsSet() && sd.CloudsmithCredential == "":
		c.fail("seed", "add cloudsmith_credential: with the id of a Jenkins secret-text credential holding the Cloudsmith API key (the seed binds it to "+s.Cloudsmith.APIKey.Ref+")",
			"the seed job cannot bind cloudsmith.api_key (${%s}): every seed build would fail", s.Cloudsmith.APIKey.Ref)
	case !s.Cloudsmith.APIKey.IsSet() && sd.CloudsmithCredential != "":
		c.fail("seed.cloudsmith_credential", "remove it, or set cloudsmith.api_key: ${CLOUDSMITH_API_KEY}",
			"seed.cloudsmith_credential is only used with cloudsmith.api_key")
	}
	if s.Jenkins.UserRef == "" && s.Jenkins.User != "" {
		c.warn("jenkins.user", "write user: ${JENKINS_USER} so the seed applies as the user of seed.credential",
			"jenkins.user is a literal: the seed job checks it against seed.credential's user and fails if they differ")
	}
}

// seedPlacement warns when the seed job sits where team jobs are: it runs
// with an API token that can create credentials and jobs, so whoever can
// configure it, or a job next to it that can bind its credential, becomes
// an administrator. It belongs alone in a folder only administrators can
// configure, with its credential in that folder's store.
func (c *checker) seedPlacement(s *Spec) {
	name := s.Seed.Name
	if name == "" || CheckItemPath(name) != "" {
		return
	}
	folder := ""
	if i := strings.LastIndex(name, "/"); i >= 0 {
		folder = name[:i]
	}
	const hint = "put the seed alone in a folder only administrators can configure (e.g. name: jenkins-admin/seed) and create seed.credential in that folder's store"
	if folder == "" {
		c.warn("seed.name", hint, "the seed job is at the top level, next to every team's jobs")
		return
	}
	f := foldName(folder)
	for i, j := range s.Jobs {
		if strings.HasPrefix(foldName(j.Name), f+"/") {
			c.warn("seed.name", hint, "the seed job's folder %q also holds job %q (jobs[%d])", folder, j.Name, i)
			return
		}
	}
	if of := foldName(s.OIDC.Folder); of != "" && (of == f || strings.HasPrefix(f, of+"/")) {
		c.warn("seed.name", hint, "the seed job is inside oidc.folder %q, with the team jobs' credential", s.OIDC.Folder)
	}
}
