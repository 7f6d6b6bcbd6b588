package jenkinstest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// gitSCM is a hudson.plugins.git.GitSCM: one remote, one branch spec.
type gitSCM struct {
	url           string
	credentialsID string
	branch        string // branch spec as configured ("*/main", "main", a tag or a SHA)
}

// gitSCMFromXML reads <scm class="hudson.plugins.git.GitSCM">. Without
// the git plugin Jenkins stores the job with a null SCM (the unknown
// class is a non-critical field), so such a build fails like this.
func gitSCMFromXML(n *xnode) (*gitSCM, error) {
	if n == nil || n.attr("class") != "hudson.plugins.git.GitSCM" {
		return nil, errors.New("jenkinstest only checks Pipeline scripts out of git (hudson.plugins.git.GitSCM)")
	}
	cfg := findDescendant(n.child("userRemoteConfigs"), "hudson.plugins.git.UserRemoteConfig")
	if cfg == nil || cfg.childText("url") == "" {
		return nil, errors.New("the Git SCM has no repository URL")
	}
	s := &gitSCM{url: cfg.childText("url"), credentialsID: cfg.childText("credentialsId"), branch: "**"}
	if b := findDescendant(n.child("branches"), "hudson.plugins.git.BranchSpec"); b != nil && b.childText("name") != "" {
		s.branch = b.childText("name")
	}
	return s, nil
}

// gitSCMFromMap reads checkout's GitSCM map: [$class: 'GitSCM',
// branches: [[name: ...]], userRemoteConfigs: [[url: ..., credentialsId: ...]]].
func gitSCMFromMap(m map[string]any) (*gitSCM, error) {
	if str(m, "$class") != "GitSCM" {
		return nil, fmt.Errorf("jenkinstest only models checkout of GitSCM, not %q", str(m, "$class"))
	}
	s := &gitSCM{branch: "**"}
	if rs, _ := m["userRemoteConfigs"].([]any); len(rs) > 0 {
		if r, ok := rs[0].(map[string]any); ok {
			s.url, s.credentialsID = str(r, "url"), str(r, "credentialsId")
		}
	}
	if bs, _ := m["branches"].([]any); len(bs) > 0 {
		if b, ok := bs[0].(map[string]any); ok && str(b, "name") != "" {
			s.branch = str(b, "name")
		}
	}
	if s.url == "" {
		return nil, errors.New("checkout: GitSCM needs userRemoteConfigs: [[url: ...]]")
	}
	return s, nil
}

// isLocalRemote is GitSCM.isRemoteUrlValid's negation: file:// URLs and
// paths that exist on the controller (SECURITY-2478).
func isLocalRemote(u string) bool {
	if strings.HasPrefix(strings.ToLower(u), "file://") {
		return true
	}
	_, err := os.Stat(u)
	return err == nil
}

// gitCheckout fetches s into dir and checks out the branch spec's commit,
// logging as the git plugin does. It returns the commit.
func (j *Jenkins) gitCheckout(ctx context.Context, console io.Writer, s *gitSCM, dir string, job *item) (string, error) {
	if !j.pluginActive("git") {
		return "", errors.New("the git plugin is not installed, so the job's SCM is null and nothing can be checked out")
	}
	if !j.o.allowLocalCheckout && isLocalRemote(s.url) {
		// GitSCM.abortIfSourceIsLocal.
		return "", javaError("Checkout of Git remote '" + s.url + "' aborted because it references a local directory, which may be insecure. " +
			"You can allow local checkouts anyway by setting the system property 'hudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT' to true.")
	}
	ctx, cancel := checkoutContext(ctx)
	defer cancel()
	env := append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1")
	fmt.Fprintf(console, "The recommended git tool is: NONE\n")
	if s.credentialsID == "" {
		fmt.Fprintf(console, "No credentials specified\n")
	} else {
		hdr, err := j.gitAuthHeader(job, s.credentialsID)
		if err != nil {
			fmt.Fprintf(console, "Warning: CredentialId \"%s\" could not be found.\n", s.credentialsID)
		} else {
			fmt.Fprintf(console, "using credential %s\n", s.credentialsID)
			// The header reaches git through its environment, never argv.
			env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0="+hdr)
		}
	}
	git := func(args ...string) (string, error) {
		fmt.Fprintf(console, " > git %s # timeout=10\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("hudson.plugins.git.GitException: Command \"git %s\" returned status code %d:\nstderr: %s", strings.Join(args, " "), exitCode(err), strings.TrimSpace(string(out)))
		}
		return strings.TrimSpace(string(out)), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		fmt.Fprintf(console, "Cloning the remote Git repository\nCloning repository %s\n", s.url)
		if _, err := git("init", dir); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(console, "Fetching upstream changes from %s\n", s.url)
	if _, err := git("fetch", "--tags", "--force", "--progress", "--", s.url, "+refs/heads/*:refs/remotes/origin/*"); err != nil {
		return "", err
	}
	rev, ref, err := resolveBranch(git, s.branch)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(console, "Checking out Revision %s (%s)\n", rev, ref)
	if _, err := git("checkout", "-f", rev); err != nil {
		return "", err
	}
	if msg, err := git("log", "-1", "--format=%s", rev); err == nil {
		fmt.Fprintf(console, "Commit message: \"%s\"\n", msg)
	}
	return rev, nil
}

// resolveBranch turns a branch spec into a commit: "*/main", "main",
// "origin/main", "refs/heads/main", a tag or a SHA; "**" is the first
// branch (main or master first).
func resolveBranch(git func(...string) (string, error), spec string) (rev, ref string, err error) {
	name := strings.TrimPrefix(strings.TrimPrefix(spec, "*/"), "refs/heads/")
	name = strings.TrimPrefix(name, "origin/")
	var cands []string
	if spec == "**" || spec == "" {
		cands = []string{"refs/remotes/origin/main", "refs/remotes/origin/master"}
	} else {
		cands = []string{"refs/remotes/origin/" + name, "refs/tags/" + strings.TrimPrefix(name, "refs/tags/"), name}
	}
	for _, c := range cands {
		if out, err := git("rev-parse", "--verify", "--quiet", c+"^{commit}"); err == nil && out != "" {
			return out, c, nil
		}
	}
	return "", "", javaError("ERROR: Couldn't find any revision to build. Verify the repository and branch configuration for this job.")
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// gitAuthHeader is the HTTP Authorization header for a username/password
// credential visible to job.
func (j *Jenkins) gitAuthHeader(job *item, id string) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	c, _ := j.findCredential(job, id)
	if c == nil || c.class != ClassUsernamePasswd {
		return "", errors.New("not found")
	}
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(c.username+":"+c.password)), nil
}

// scmScript checks the job's SCM out (CpsScmFlowDefinition) next to the
// workspace, in <ws>@script, and reads the script from it.
func (j *Jenkins) scmScript(ctx context.Context, console io.Writer, s *gitSCM, scriptPath, ws string, job *item) (string, error) {
	if scriptPath == "" {
		scriptPath = "Jenkinsfile"
	}
	dir := ws + "@script"
	if _, err := j.gitCheckout(ctx, console, s, dir, job); err != nil {
		return "", err
	}
	clean := filepath.Clean("/" + scriptPath)
	data, err := os.ReadFile(filepath.Join(dir, clean))
	if err != nil {
		return "", javaError("java.io.FileNotFoundException: " + scriptPath + " not found in " + s.url)
	}
	fmt.Fprintf(console, "Obtained %s from git %s\n", scriptPath, s.url)
	return string(data), nil
}

// checkout is the checkout step: "checkout scm" (the job's own GitSCM) or
// a GitSCM map, into the current directory.
func (p *pipelineRun) checkout(args map[string]any, c stepCtx) (any, *stepError) {
	if !c.Node {
		return nil, missingContext("checkout")
	}
	var s *gitSCM
	switch v := args["scm"].(type) {
	case map[string]any:
		if str(v, "scm") == "job" && p.scm != nil {
			s = p.scm
		} else {
			if !p.x.j.pluginActive("git") {
				// structs DescribableModel.resolveClass: no SCM descriptor has that class.
				return nil, &stepError{Class: "java.lang.UnsupportedOperationException", Message: fmt.Sprintf("no known implementation of class hudson.scm.SCM is named %s", str(v, "$class"))}
			}
			var err error
			if s, err = gitSCMFromMap(v); err != nil {
				return nil, &stepError{Class: excIllegal, Message: err.Error()}
			}
		}
	default:
		return nil, &stepError{Class: excIllegal, Message: fmt.Sprintf("checkout: jenkinstest models GitSCM only, got %v", v)}
	}
	var rev string
	var err error
	p.stepWriter(c, func(w io.Writer) { rev, err = p.x.j.gitCheckout(p.x.ctx, w, s, c.Dir, p.x.job) })
	if err != nil {
		return nil, stepErr(err)
	}
	return map[string]any{"GIT_COMMIT": rev, "GIT_URL": s.url}, nil
}

// stepErr maps an emulator error to the exception a step throws.
func stepErr(err error) *stepError {
	var je javaError
	if errors.As(err, &je) {
		return &stepError{Class: excAbort, Message: strings.TrimPrefix(string(je), "ERROR: ")}
	}
	return &stepError{Class: excIO, Message: err.Error()}
}

// GlobalLibrary is a Global Trusted Pipeline Library (Manage Jenkins »
// System), as pipeline-groovy-lib's LibraryConfiguration with a modern
// GitSCMSource retriever has it.
type GlobalLibrary struct {
	Name           string
	Remote         string // git URL
	DefaultVersion string // "" requires @version
	AllowOverride  bool   // allowVersionOverride (default true upstream)
}

// library resolves @Library('name@version') and the library step:
// a global library by name, or (the step only) an explicit modernSCM
// GitSCMSource retriever, whose code is untrusted and runs in the sandbox.
func (p *pipelineRun) library(args map[string]any) (any, *stepError) {
	id := str(args, "identifier")
	name, version, hasVersion := strings.Cut(id, "@")
	var remote string
	trusted := false
	if r, ok := args["retriever"].(map[string]any); ok {
		if str(r, "symbol") != "modernSCM" || str(r, "$class") != "GitSCMSource" {
			return nil, &stepError{Class: excIllegal, Message: "jenkinstest models library retrievers of modernSCM([$class: 'GitSCMSource', remote: ...]) only"}
		}
		remote = str(r, "remote")
		if !hasVersion {
			// LibraryStep.Execution.run with an explicit retriever.
			return nil, abort("Must specify a version for library %s", name)
		}
	} else {
		lib, ok := p.x.j.globalLibrary(name)
		if !ok {
			return nil, abort("No library named %s found", name)
		}
		remote, trusted = lib.Remote, true
		// LibraryConfiguration.defaultedVersion: any @version, even the
		// default one, needs allowVersionOverride.
		switch {
		case !hasVersion && lib.DefaultVersion == "":
			return nil, abort("No version specified for library %s", name)
		case !hasVersion:
			version = lib.DefaultVersion
		case !lib.AllowOverride:
			return nil, abort("Version override not permitted for library %s", name)
		}
	}
	p.mu.Lock()
	dup := p.libraries[name]
	p.libraries[name] = true
	p.mu.Unlock()
	if dup {
		// LibraryStep and LibraryAdder keep the first load, whatever
		// version the second one names.
		p.log("Only using first definition of library %s\n", name)
		return map[string]any{"loaded": true}, nil
	}
	p.log("Loading library %s@%s\nAttempting to resolve %s from remote references...\n", name, version, version)
	dir := filepath.Join(p.x.ws+"@libs", newUUID())
	_, err := p.x.j.gitCheckout(p.x.ctx, p.x.b, &gitSCM{url: remote, branch: version}, dir, p.x.job)
	if err != nil {
		return nil, stepErr(err)
	}
	return map[string]any{"dir": dir, "trusted": trusted}, nil
}

// globalLibrary finds a configured global library.
func (j *Jenkins) globalLibrary(name string) (GlobalLibrary, bool) {
	for _, l := range j.o.libraries {
		if l.Name == name {
			return l, true
		}
	}
	return GlobalLibrary{}, false
}
