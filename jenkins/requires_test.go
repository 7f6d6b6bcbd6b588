package jenkins

import (
	"slices"
	"testing"
)

func TestPluginsForScript(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         []string
	}{
		{"steps", "node('x') {\n  stage('a') { sh 'make' }\n  withEnv(['A=b']) { echo \"hi\" }\n}",
			[]string{"pipeline-stage-step", "workflow-basic-steps", "workflow-durable-task-step"}},
		{"library annotation and checkout", "@Library('lib@v1') _\ncheckout scm",
			[]string{"pipeline-groovy-lib", "workflow-scm-step"}},
		{"library step from git", "library(identifier: 'l@v', retriever: modernSCM([$class: 'GitSCMSource', remote: 'https://x']))",
			[]string{"git", "pipeline-groovy-lib"}},
		{"bindings", "withCredentials([usernamePassword(credentialsId: 'c', usernameVariable: 'U', passwordVariable: 'P')]) {}",
			[]string{"credentials-binding"}},
		// Step names in strings and comments are not calls; method
		// calls on objects are not steps.
		{"strings and comments", "// node { }\n/* stage('x') */\nx = 'node { sh \"y\" }'\nenv.getProperty('dir')\nString dir = '''\nstage('z')\n'''",
			[]string{}},
	} {
		if got := PluginsForScript([]byte(tc.script)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPluginsForConfig(t *testing.T) {
	got, err := PluginsForConfig([]byte(`<?xml version='1.1' encoding='UTF-8'?><flow-definition plugin="workflow-job@1">` +
		`<definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition"><scm class="hudson.plugins.git.GitSCM"/></definition>` +
		`<triggers><hudson.triggers.SCMTrigger/></triggers></flow-definition>`))
	if want := []string{"git", "workflow-cps", "workflow-job"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("got %v %v, want %v", got, err, want)
	}
	if _, err := PluginsForConfig([]byte("<project>")); err == nil {
		t.Error("truncated XML accepted")
	}
}
