package jenkinstest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// pythonJenkinsScript drives the emulator with python-jenkins, a client
// nobody here wrote; it prints one line per check.
const pythonJenkinsScript = `
import sys, jenkins
url, tok = sys.argv[1], sys.argv[2]
s = jenkins.Jenkins(url, username='admin', password=tok)
print("whoami", s.get_whoami()['id'])
print("version", s.get_version())
xml = '<project><description>x</description><builders/></project>'
s.create_job('fold', '<com.cloudbees.hudson.plugins.folder.Folder/>')
s.create_job('fold/job one', xml)
s.create_job('top', xml)
print("config", 'description>x<' in s.get_job_config('fold/job one'))
s.reconfig_job('top', '<project><description>y</description></project>')
print("reconfig", 'description>y<' in s.get_job_config('top'))
print("jobs", sorted(j['fullname'] for j in s.get_all_jobs()))
s.delete_job('fold/job one')
print("deleted", s.job_exists('fold/job one') is None, s.job_exists('top'))
print("plugins", 'oidc-provider' in s.get_plugins())
try:
    s.create_job('top', xml)
except jenkins.JenkinsException as e:
    print("duplicate refused")
`

func TestPythonJenkins(t *testing.T) {
	py := "/usr/bin/python3"
	testenv.LookPath(t, py, "-c", "import jenkins")
	// With a password python-jenkins must fetch a crumb and keep the
	// session cookie; with the API token it needs neither.
	for _, viaPassword := range []bool{false, true} {
		s := testServer(t)
		secret := s.Jenkins.AdminToken()
		if viaPassword {
			secret = s.Jenkins.AdminPassword()
		}
		out, err := exec.Command(py, "-c", pythonJenkinsScript, s.URL, secret).CombinedOutput()
		if err != nil {
			t.Fatalf("python-jenkins (password %v): %v\n%s", viaPassword, err, out)
		}
		checkPythonOutput(t, string(out))
	}
}

func checkPythonOutput(t *testing.T, out string) {
	t.Helper()
	want := []string{
		"whoami admin",
		"version " + DefaultVersion,
		"config True",
		"reconfig True",
		"jobs ['fold', 'fold/job one', 'top']",
		"deleted True True",
		"plugins True",
		"duplicate refused",
	}
	if got := strings.TrimSpace(out); got != strings.Join(want, "\n") {
		t.Errorf("python-jenkins saw:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
