package jenkins_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// TestJenkinsJobBuilder lets a real client nobody here wrote (Jenkins Job
// Builder, over python-jenkins) create, list, update and delete jobs in
// the emulator, and reads the results back through our client.
func TestJenkinsJobBuilder(t *testing.T) {
	t.Parallel()
	jjb := lookJJB(t)
	srv := start(t)
	token := srv.Jenkins.AdminToken()
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	dir, defs, ini := jjbDirs(t, srv.URL, token)
	yaml := func(desc, cmd string) string {
		return `- job:
    name: jjb folder
    project-type: folder
    description: 'a folder made by JJB'
- job:
    name: "jjb folder/hello wörld + 'x'"
    project-type: freestyle
    description: '` + desc + `'
    builders:
      - shell: "` + cmd + `"
- job:
    name: top-job
    project-type: freestyle
    builders:
      - shell: 'echo top'
`
	}
	run := func(args ...string) string {
		t.Helper()
		return runJJB(ctx, t, jjb, ini, dir, token, args...)
	}
	const leaf = "jjb folder/hello wörld + 'x'"

	// 1. Create.
	writeFile(t, filepath.Join(defs, "jobs.yaml"), yaml("first", "echo hello"), 0o600)
	run("update", defs)
	items := listByName(t, c)
	if it, ok := items["jjb folder"]; !ok || !it.Folder {
		t.Errorf("folder missing or not a folder: %+v", items)
	}
	if it, ok := items[leaf]; !ok || it.Folder || !strings.HasPrefix(it.Description, "first") {
		t.Errorf("job %q: %+v", leaf, items)
	}
	if _, ok := items["top-job"]; !ok {
		t.Errorf("top-job missing: %+v", items)
	}
	cfg, err := c.JobConfig(ctx, leaf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "echo hello") || !strings.Contains(string(cfg), "Managed by Jenkins Job Builder") {
		t.Errorf("config of %q:\n%s", leaf, cfg)
	}
	// What JJB would send (offline) is what the emulator stored.
	out := filepath.Join(dir, "out")
	run("test", "--config-xml", "-o", out, defs)
	want, err := os.ReadFile(filepath.Join(out, leaf, "config.xml"))
	if err != nil {
		entries, _ := filepath.Glob(filepath.Join(out, "*"))
		t.Fatalf("JJB test output not found: %v (have %v)", err, entries)
	}
	same(t, cfg, want)

	// 2. List: JJB reads the server's jobs through python-jenkins'
	// get_all_jobs (one tree= request per 10 folder levels) and prints
	// each job's short name.
	names := strings.Split(strings.TrimSpace(run("list")), "\n")
	for _, n := range []string{"jjb folder", "hello wörld + 'x'", "top-job"} {
		if !slices.Contains(names, n) {
			t.Errorf("jenkins-jobs list = %q, lacks %q", names, n)
		}
	}

	// 3. Update: JJB reconfigures the changed job.
	writeFile(t, filepath.Join(defs, "jobs.yaml"), yaml("second", "echo changed"), 0o600)
	run("update", defs)
	cfg, err = c.JobConfig(ctx, leaf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "echo changed") || !strings.Contains(string(cfg), "second") {
		t.Errorf("after update:\n%s", cfg)
	}
	if n := len(listByName(t, c)); n != 3 {
		t.Errorf("%d items after update, want 3", n)
	}

	// 4. Delete.
	run("delete", "top-job", leaf)
	items = listByName(t, c)
	if _, ok := items[leaf]; ok {
		t.Errorf("%q not deleted", leaf)
	}
	if _, ok := items["top-job"]; ok {
		t.Error("top-job not deleted")
	}
	if _, ok := items["jjb folder"]; !ok || len(items) != 1 {
		t.Errorf("after delete: %+v", items)
	}
}

// TestJenkinsJobBuilderPassword: python-jenkins with a password must
// fetch the crumb and keep the session cookie; the emulator enforces both.
func TestJenkinsJobBuilderPassword(t *testing.T) {
	t.Parallel()
	jjb := lookJJB(t)
	srv := start(t)
	password := srv.Jenkins.AdminPassword()
	ctx := ctxFor(t)
	dir, defs, ini := jjbDirs(t, srv.URL, password)
	writeFile(t, filepath.Join(defs, "jobs.yaml"), "- job:\n    name: pw-job\n    builders: [{shell: 'true'}]\n", 0o600)
	runJJB(ctx, t, jjb, ini, dir, password, "update", defs)
	if _, ok := listByName(t, adminClient(t, srv))["pw-job"]; !ok {
		t.Error("pw-job not created")
	}
	for _, r := range srv.Jenkins.Requests() {
		if r.Method == "POST" && r.Status == 403 {
			t.Errorf("POST %s refused: 403", r.RawPath)
		}
	}
}

// lookJJB finds jenkins-jobs, or skips (fails under CI).
func lookJJB(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, "jenkins-jobs")
}

// jjbDirs makes a home directory, a job definitions directory and a
// jenkins_jobs.ini for url. The secret goes in a 0600 file, never argv.
func jjbDirs(t *testing.T, url, secret string) (dir, defs, ini string) {
	t.Helper()
	dir = t.TempDir()
	defs = filepath.Join(dir, "jobs")
	if err := os.Mkdir(defs, 0o700); err != nil {
		t.Fatal(err)
	}
	ini = filepath.Join(dir, "jenkins_jobs.ini")
	writeFile(t, ini, "[job_builder]\nignore_cache=True\nkeep_descriptions=False\nrecursive=False\nallow_duplicates=False\n\n"+
		"[jenkins]\nurl="+url+"\nuser=admin\npassword="+secret+"\nquery_plugins_info=False\n", 0o600)
	return dir, defs, ini
}

// runJJB runs jenkins-jobs with the ini file, HOME and its cache in dir,
// and fails the test (with token-masked output) when it fails.
func runJJB(ctx context.Context, t *testing.T, jjb, ini, dir, token string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, jjb, append([]string{"--conf", ini}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	defer func() { t.Logf("jenkins-jobs %s: %s", args[0], time.Since(begin).Round(time.Millisecond)) }()
	if err := cmd.Run(); err != nil {
		t.Fatalf("jenkins-jobs %s: %v\n%s\n%s", strings.Join(args, " "), err,
			redact.String(stdout.String(), token), redact.String(stderr.String(), token))
	}
	if strings.Contains(stdout.String()+stderr.String(), token) {
		t.Error("jenkins-jobs printed the token")
	}
	return stdout.String()
}

func listByName(t *testing.T, c *jenkins.Client) map[string]jenkins.Item {
	t.Helper()
	items, err := c.ListJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]jenkins.Item{}
	for _, it := range items {
		m[it.FullName] = it
	}
	return m
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}
