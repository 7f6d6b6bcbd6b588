package render

import (
	"slices"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// TestRequiredPlugins: the plugins come from what is rendered, so a
// freestyle-only spec needs no Pipeline plugin, and an SCM pipeline or the
// seed job needs git (without it Jenkins would store a null SCM).
func TestRequiredPlugins(t *testing.T) {
	pipelineSteps := []string{"credentials-binding", "oidc-provider", "pipeline-groovy-lib",
		"workflow-basic-steps", "workflow-cps", "workflow-durable-task-step", "workflow-job"}
	tests := []struct {
		name string
		edit func(*spec.Spec)
		want []string
		uses map[string]string
	}{
		{"freestyle only", func(s *spec.Spec) { s.Jobs, s.Seed = s.Jobs[1:2], nil }, []string{"cloudbees-folder", "credentials-binding", "oidc-provider"},
			map[string]string{"cloudbees-folder": "folder team-a, folder team-a/sub", "credentials-binding": "job team-a/sub/fs"}},
		{"inline pipeline", func(s *spec.Spec) {
			s.Jobs, s.Seed = []spec.Job{{Name: "p", Type: spec.Pipeline, Steps: []string{"make"}}}, nil
		}, pipelineSteps,
			map[string]string{"pipeline-groovy-lib": "job p", "workflow-durable-task-step": "job p, the shared library's vars/cloudsmithSupport.groovy"}},
		{"from SCM", func(s *spec.Spec) { s.Jobs, s.Seed = s.Jobs[2:], nil }, append(slices.Clone(pipelineSteps), "git", "workflow-scm-step"),
			map[string]string{"git": "job from-git"}},
		{"seed", func(s *spec.Spec) { s.Jobs = s.Jobs[1:2] }, []string{"cloudbees-folder", "credentials-binding", "git", "oidc-provider",
			"workflow-basic-steps", "workflow-cps", "workflow-durable-task-step", "workflow-job", "workflow-scm-step"},
			map[string]string{"git": "job seed", "workflow-scm-step": "job seed"}},
		{"library from git", func(s *spec.Spec) {
			s.Jobs, s.Seed = []spec.Job{{Name: "p", Type: spec.Pipeline, Steps: []string{"make"}}}, nil
			s.Library = &spec.Library{Name: "cs", Remote: "https://git.example.com/lib.git", Version: "v1"}
		}, append(slices.Clone(pipelineSteps), "git"), map[string]string{"git": "job p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleSpec()
			tt.edit(s)
			names, uses, err := mustRender(t, s).RequiredPlugins()
			slices.Sort(tt.want)
			if err != nil || !slices.Equal(names, tt.want) {
				t.Errorf("plugins %v %v\nwant %v", names, err, tt.want)
			}
			for p, u := range tt.uses {
				if !strings.HasPrefix(uses[p], u) {
					t.Errorf("uses[%s] = %q, want %q…", p, uses[p], u)
				}
			}
		})
	}
}
