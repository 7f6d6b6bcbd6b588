package spec

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
)

// checker applies the rules that need more than one value's type: formats,
// Jenkins naming, URL policy and cross-field consistency.
type checker struct {
	errs      *errList
	pos, keys map[string]Pos
	warnings  Warnings
}

// at returns the position of path, or of its nearest ancestor the file
// mentions (a missing field is reported where its parent is).
func (c *checker) at(p string) Pos {
	for {
		if pos, ok := c.pos[p]; ok {
			return pos
		}
		if p == "" {
			return Pos{Line: 1, Column: 1}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
}

// broken reports whether path or anything below it failed to decode, so a
// consequence ("has no steps") is not reported on top of the cause.
func (c *checker) broken(p string) bool { return c.errs.broken(p) }

// fail records a problem unless the value at path (or an ancestor) already
// failed to decode: one mistake, one message.
func (c *checker) fail(p, hint, format string, args ...any) {
	if c.errs.blocked(p) {
		return
	}
	c.errs.note(c.at(p), p, hint, format, args...)
}

func (c *checker) spec(s *Spec) {
	if _, ok := c.pos["version"]; ok && s.Version != Version {
		c.fail("version", fmt.Sprintf("set version: %d (the only format this build reads)", Version),
			"unsupported spec version %d", s.Version)
	}
	if _, ok := c.pos["id"]; ok && (!specIDRe.MatchString(s.ID) || len(s.ID) > maxSpecID) {
		c.fail("id", "use letters, digits, '_', '.', '-' and '/' between names, e.g. team-a (at most 100 characters)",
			"id %q is not a valid spec id", s.ID)
	}
	c.jenkins(&s.Jenkins)
	c.cloudsmith(&s.Cloudsmith)
	c.oidc(&s.OIDC)
	c.audience(s)
	if s.OIDC.Issuer != "" && IsJenkinsIssuer(s.Jenkins.URL, s.OIDC.Issuer) {
		def := *s
		def.OIDC.Issuer = ""
		c.fail("oidc.issuer", "leave oidc.issuer out: Jenkins then serves the key at "+def.IssuerURL()+" itself (oidc.folder selects a folder's issuer)",
			"oidc.issuer %s is Jenkins' own issuer: the oidc-provider plugin never serves a credential that has an issuer set from /oidc, so no relying party could verify its tokens", s.OIDC.Issuer)
	}
	c.binary(&s.Binary)
	c.formats("defaults.formats", s.Defaults.Formats)
	if s.Defaults.Repo != "" {
		c.slug("defaults.repo", s.Defaults.Repo, "repository")
	}
	c.jobs(s)
	c.library(s.Library)
	if s.Seed != nil {
		c.seed(s)
		c.seedSecrets(s)
		c.seedPlacement(s)
	}
}

// maxSpecID keeps the managed marker short in every description.
const maxSpecID = 100

func (c *checker) url(p, raw string, r urlRules) {
	if raw == "" {
		return
	}
	if why, hint := checkURL(raw, r); why != "" {
		c.fail(p, hint, "%s %s", p, why)
	}
}

func (c *checker) slug(p, v, what string) {
	if !slugRe.MatchString(v) {
		c.fail(p, "use letters, digits, '-', '_' and '.', starting with a letter or digit (the slug, not the display name)",
			"%q is not a valid Cloudsmith %s slug", v, what)
	}
}

func (c *checker) credID(p, v string) {
	if v != "" && !credentialID.MatchString(v) {
		c.fail(p, "use only letters, digits, '_', '.' and '-' (the Credentials plugin refuses other characters in ids)",
			"%q is not a valid Jenkins credential id", v)
	}
}

func (c *checker) jenkins(j *Jenkins) {
	c.url("jenkins.url", j.URL, urlRules{})
	switch {
	case strings.TrimSpace(j.User) != j.User:
		c.fail("jenkins.user", "remove the surrounding spaces", "jenkins.user has leading or trailing whitespace")
	case strings.Contains(j.User, ":"):
		c.fail("jenkins.user", "use the Jenkins user id; HTTP basic auth cannot carry ':' in a user name", "jenkins.user contains ':'")
	}
	c.proxy("jenkins.proxy", j.Proxy)
}

// proxy checks a proxy URL setting: http, https or socks5, and no
// credentials (they would be a literal secret in the spec).
func (c *checker) proxy(field, value string) {
	if value == "" {
		return
	}
	if why, hint := checkURL(value, urlRules{schemes: []string{"http", "https", "socks5"}, anyHTTPHost: true}); why != "" {
		if why == "contains credentials" {
			hint = "put an authenticated proxy in HTTPS_PROXY in the environment instead of the spec"
		}
		c.fail(field, hint, "%s %s", field, why)
	}
}

func (c *checker) cloudsmith(cs *Cloudsmith) {
	c.proxy("cloudsmith.proxy", cs.Proxy)
	if cs.Org != "" {
		c.slug("cloudsmith.org", cs.Org, "organisation")
	}
	if cs.Service != "" {
		c.slug("cloudsmith.service", cs.Service, "service account")
	}
	hosts := cs.Hosts()
	for _, e := range pkgconfig.Endpoints() {
		if e.Bare {
			if v := hosts[e.Key]; v != "" && !bareHostRe.MatchString(v) {
				c.fail("cloudsmith."+e.Key, "write a host name with an optional :port, e.g. "+e.Default, "cloudsmith.%s %q is not a host[:port]", e.Key, v)
			}
			continue
		}
		c.url("cloudsmith."+e.Key, hosts[e.Key], urlRules{})
	}
	for _, k := range sortedKeys(cs.Provider.Claims) {
		v, p := cs.Provider.Claims[k], "cloudsmith.provider.claims."+k
		switch i := strings.Index(v, ".*"); {
		case i >= 0 && i != len(v)-2:
			c.fail(p, "Cloudsmith only supports the wildcard '.*' at the very end of a claim value",
				"claim %s has '.*' before the end", k)
		case strings.HasSuffix(v, "*") && !strings.HasSuffix(v, ".*"):
			c.fail(p, fmt.Sprintf("write %q for a prefix match (Cloudsmith's wildcard is '.*')", strings.TrimSuffix(v, "*")+".*"),
				"claim %s ends with '*', which Cloudsmith matches literally", k)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (c *checker) oidc(o *OIDC) {
	c.credID("oidc.credential", o.Credential)
	if o.Kind != "" && o.Kind != KindString && o.Kind != KindFile {
		c.fail("oidc.kind", "use string (the token in a variable) or file (a path to a file holding it)",
			"oidc.kind %q is not string or file", o.Kind)
	}
	if strings.TrimSpace(o.Audience) != o.Audience {
		c.fail("oidc.audience", "remove the surrounding spaces; aud is compared exactly", "oidc.audience has leading or trailing whitespace")
	}
	c.url("oidc.issuer", o.Issuer, urlRules{noTrailingSlash: true})
	if o.Folder != "" {
		if why := CheckItemPath(o.Folder); why != "" {
			c.fail("oidc.folder", "write the folder's full name, e.g. team-a/sub", "oidc.folder %q %s", o.Folder, why)
		}
	}
}

// audience catches a contradiction validate can see: the provider's
// required aud that the credential's own audience does not satisfy, so
// Cloudsmith would refuse every token (its answer is a generic 401).
func (c *checker) audience(s *Spec) {
	want, ok := s.Cloudsmith.Provider.Claims["aud"]
	if !ok || s.OIDC.Audience == "" || claimrule.Match(want, s.OIDC.Audience) {
		return
	}
	c.fail("cloudsmith.provider.claims.aud", fmt.Sprintf("set it to %q (oidc.audience), or change oidc.audience to match it", s.OIDC.Audience),
		"the provider requires aud %q, but oidc.audience %q gives every token aud %q: Cloudsmith would refuse them all", want, s.OIDC.Audience, s.OIDC.Audience)
}

func (c *checker) binary(b *Binary) {
	_, present := c.pos["binary"]
	set := 0
	for _, v := range []bool{b.Path != "", b.URL != "", len(b.Platforms) > 0} {
		if v {
			set++
		}
	}
	switch {
	case set > 1:
		c.fail("binary", "keep one of path (already on the agents), url (one download for every agent) or platforms (a download per OS/architecture)",
			"binary has more than one of path, url and platforms")
	case set == 0 && present:
		c.fail("binary", "set path: cloudsmith-oidc, url: with sha256:, or platforms:, or remove binary: to use cloudsmith-oidc from PATH",
			"binary needs one of path, url or platforms")
	}
	c.platforms(b)
	if strings.TrimSpace(b.Path) != b.Path {
		c.fail("binary.path", "remove the surrounding spaces", "binary.path has leading or trailing whitespace")
	}
	c.url("binary.url", b.URL, urlRules{})
	switch {
	case b.URL != "" && b.SHA256 == "":
		c.fail("binary.url", "add sha256: with the binary's 64-hex-digit SHA-256 (sha256sum cloudsmith-oidc)",
			"binary.url needs sha256 so agents can verify the download")
	case b.SHA256 != "" && !sha256Re.MatchString(b.SHA256):
		c.fail("binary.sha256", "paste the 64 hex digits printed by sha256sum", "binary.sha256 is not 64 hex digits")
	case b.SHA256 != "" && b.URL == "":
		c.fail("binary.sha256", "remove sha256, or add url: to download the binary", "binary.sha256 is only used with binary.url")
	}
}

func (c *checker) formats(p string, fs []string) {
	seen := map[string]bool{}
	for i, f := range fs {
		ip := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case !slices.Contains(Formats, f):
			c.fail(ip, "use one of: "+strings.Join(Formats, ", "), "unknown format %q", f)
		case seen[f]:
			c.fail(ip, "remove the repeated entry", "format %q is listed twice", f)
		}
		seen[f] = true
	}
}

// foldName is the key Jenkins compares item names by: its item maps are
// CopyOnWriteMap.Tree(CaseInsensitiveComparator), so "App" and "app" are
// the same job on every controller regardless of the filesystem.
func foldName(s string) string { return strings.ToLower(s) }

func (c *checker) jobs(s *Spec) {
	names := map[string]string{}   // folded full name → path of the job
	folders := map[string]string{} // folded folder → path of a job inside it
	for i := range s.Jobs {
		j := &s.Jobs[i]
		p := fmt.Sprintf("jobs[%d]", i)
		c.job(s, p, j)
		if j.Name == "" || CheckItemPath(j.Name) != "" {
			continue
		}
		key := foldName(j.Name)
		if first, dup := names[key]; dup {
			c.fail(p+".name", "give each job its own name; Jenkins compares item names case-insensitively",
				"job %q is already defined at line %d (%s)", j.Name, c.at(first).Line, first)
			continue
		}
		names[key] = p
		segs := strings.Split(key, "/")
		for n := 1; n < len(segs); n++ {
			f := strings.Join(segs[:n], "/")
			if _, ok := folders[f]; !ok {
				folders[f] = p
			}
		}
		if of := foldName(s.OIDC.Folder); of != "" && CheckItemPath(of) == "" && !strings.HasPrefix(key, of+"/") {
			c.fail(p+".name", fmt.Sprintf("name it %s/%s, or remove oidc.folder to keep the credential in the system store", s.OIDC.Folder, j.Base()),
				"job %q is outside oidc.folder %q, so it cannot see the folder's credential", j.Name, s.OIDC.Folder)
		}
	}
	for key, p := range names {
		if inside, ok := folders[key]; ok {
			c.fail(p+".name", "rename the job or the folder; one Jenkins item cannot be both",
				"job %q is also a folder of %s (line %d)", key, inside, c.at(inside).Line)
		}
	}
	if of := foldName(s.OIDC.Folder); of != "" {
		if p, ok := names[of]; ok {
			c.fail("oidc.folder", "rename the job or pick another folder", "oidc.folder %q is also the job at %s", s.OIDC.Folder, p)
		}
	}
	if s.Seed != nil && s.Seed.Name != "" {
		key := foldName(s.Seed.Name)
		if p, ok := names[key]; ok {
			c.fail("seed.name", "give the seed job its own name", "seed.name %q is also the job at %s", s.Seed.Name, p)
		} else if p, ok := folders[key]; ok {
			c.fail("seed.name", "give the seed job its own name", "seed.name %q is a folder of %s", s.Seed.Name, p)
		}
	}
}

const nameHint = "rename it: Jenkins refuses " + unsafeNameChars + " in a name, '.' and '..', and surrounding spaces; '/' only separates folders"

func (c *checker) job(s *Spec, p string, j *Job) {
	if j.Name != "" {
		if why := CheckItemPath(j.Name); why != "" {
			c.fail(p+".name", nameHint,
				"job name %q %s", j.Name, why)
		}
	}
	if j.Type != "" && j.Type != Freestyle && j.Type != Pipeline {
		c.fail(p+".type", "use freestyle or pipeline", "job type %q is not freestyle or pipeline", j.Type)
	}
	switch {
	case j.Repo != "":
		c.slug(p+".repo", j.Repo, "repository")
	case s.Defaults.Repo == "" && !c.broken(p+".repo"):
		c.fail(p, "add repo: to the job, or defaults: {repo: ...} for all jobs", "%s has no repo", jobLabel(p, j))
	}
	c.formats(p+".formats", j.Formats)
	if len(j.Formats) == 0 && len(s.Defaults.Formats) == 0 && !c.broken(p+".formats") && !c.broken("defaults.formats") {
		c.fail(p, "add formats: [python] (or another of "+strings.Join(Formats, ", ")+") to the job or to defaults",
			"%s has no formats", jobLabel(p, j))
	}
	for k, step := range j.Steps {
		if strings.TrimSpace(step) == "" {
			c.fail(fmt.Sprintf("%s.steps[%d]", p, k), "remove the empty step or write a command", "step is empty")
		}
	}
	switch {
	case j.SCM != nil && j.Type == Freestyle:
		c.fail(p+".scm", "remove scm, or make the job type: pipeline", "scm is only for pipeline jobs")
	case j.SCM != nil && len(j.Steps) > 0:
		c.fail(p+".steps", "remove steps (the Jenkinsfile from scm runs), or remove scm to run the steps inline",
			"a pipeline with scm reads its Jenkinsfile from git, so steps would be ignored")
	case j.SCM == nil && len(j.Steps) == 0 && j.Type != "" && !c.broken(p+".steps") && !c.broken(p+".scm"):
		c.fail(p, "add steps: [\"your build command\"]"+map[bool]string{true: " or scm: {url: ...}"}[j.Type == Pipeline],
			"%s has no steps", jobLabel(p, j))
	}
	if j.SCM != nil {
		c.scm(p+".scm", j.SCM)
	}
}

func (c *checker) scm(p string, s *SCM) {
	c.gitURL(p+".url", s.URL)
	if s.Branch != "" && (strings.ContainsAny(s.Branch, " \t") || strings.HasPrefix(s.Branch, "-")) {
		c.fail(p+".branch", "write a branch like main or */main", "scm.branch %q is not a valid branch", s.Branch)
	}
	if sp := s.ScriptPath; sp != "" {
		if strings.HasPrefix(sp, "/") || slices.Contains(strings.Split(sp, "/"), "..") || strings.Contains(sp, "\\") {
			c.fail(p+".script_path", "write a path inside the repository, e.g. Jenkinsfile or ci/Jenkinsfile", "scm.script_path %q leaves the repository", sp)
		}
	}
	c.credID(p+".credentials_id", s.CredentialsID)
}

// gitURL checks a git remote: a transport git knows, no whitespace, no
// password (that belongs in a Jenkins credential).
func (c *checker) gitURL(p, raw string) {
	if raw == "" {
		return
	}
	switch u, err := url.Parse(raw); {
	case strings.ContainsAny(raw, " \t"):
		c.fail(p, "percent-encode spaces", "%s contains whitespace", p)
	case err == nil && u.Scheme != "" && u.Host != "" && !slices.Contains([]string{"https", "http", "ssh", "git", "file"}, u.Scheme):
		c.fail(p, "use an https://, ssh://, git:// or user@host:path URL", "%s scheme %q is not a git transport", p, u.Scheme)
	case err == nil && u.User != nil && hasPassword(u):
		c.fail(p, "remove the password and set credentials_id: to a Jenkins credential", "%s contains a password", p)
	case isLocalRemote(raw):
		// git-plugin GitSCM.abortIfSourceIsLocal (SECURITY-2478).
		c.warn(p, "serve the repository over https:// or ssh://, or start Jenkins with -Dhudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT=true (emulate: --allow-local-checkout)",
			"%s is a local repository: the git plugin refuses to check it out on the controller since SECURITY-2478", p)
	}
}

// isLocalRemote reports a file:// URL or a local path (not host:path).
func isLocalRemote(raw string) bool {
	l := strings.ToLower(raw)
	return strings.HasPrefix(l, "file:") || strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "./") ||
		strings.HasPrefix(raw, "../") || strings.HasPrefix(raw, "~") ||
		len(raw) > 2 && raw[1] == ':' && (raw[2] == '\\' || raw[2] == '/')
}

// jobLabel names a job in messages, by name when it has one.
func jobLabel(p string, j *Job) string {
	if j.Name == "" {
		return p
	}
	return fmt.Sprintf("job %q", j.Name)
}

func hasPassword(u *url.URL) bool {
	_, ok := u.User.Password()
	return ok
}

func (c *checker) seed(s *Spec) {
	sd := s.Seed
	if sd.Name != "" {
		if why := CheckItemPath(sd.Name); why != "" {
			c.fail("seed.name", nameHint, "seed.name %q %s", sd.Name, why)
		}
	}
	c.scm("seed.scm", &sd.SCM)
	c.credID("seed.credential", sd.Credential)
	if sp := sd.SpecPath; sp != "" && (strings.HasPrefix(sp, "/") || slices.Contains(strings.Split(sp, "/"), "..")) {
		c.fail("seed.spec_path", "write the spec's path inside the repository, e.g. jenkins-cloudsmith.yaml", "seed.spec_path %q leaves the repository", sp)
	}
}

// localFiles checks that the local files the spec names exist, so that
// validate catches what render and plan would otherwise trip over later.
func (c *checker) localFiles(s *Spec) {
	for _, f := range []struct {
		path, value string
		dir         bool
	}{
		{"jenkins.ca_bundle", s.Jenkins.CABundle, false},
		{"cloudsmith.ca_bundle", s.Cloudsmith.CABundle, false},
		{"templates_dir", s.TemplatesDir, true},
	} {
		if f.value == "" {
			continue
		}
		st, err := os.Stat(s.Resolve(f.value))
		switch {
		case err != nil:
			c.fail(f.path, "fix the path (relative paths are relative to the spec file) or remove the key",
				"%s: %s does not exist", f.path, s.Resolve(f.value))
		case f.dir && !st.IsDir():
			c.fail(f.path, "point templates_dir at a directory of .tmpl overrides", "%s: %s is not a directory", f.path, s.Resolve(f.value))
		case !f.dir && !st.Mode().IsRegular():
			c.fail(f.path, "point it at a PEM file of CA certificates", "%s: %s is not a regular file", f.path, s.Resolve(f.value))
		}
	}
}
