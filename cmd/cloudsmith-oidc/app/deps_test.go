package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryStaysSmall keeps the agent binary free of what the management
// CLI needs: the Jenkins client, the template engine and YAML.
func TestBinaryStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "..").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/bndr/gojenkins",
		"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins",
		"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render",
		"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec",
		"github.com/Masterminds/sprig",
		"gopkg.in/yaml",
		"sigs.k8s.io/yaml",
		"github.com/getkin/kin-openapi",
		"github.com/spf13/cobra",
		"text/template",
		"html/template",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") || strings.HasPrefix(dep, f+".") {
				t.Errorf("cloudsmith-oidc links %s", dep)
			}
		}
	}
}
