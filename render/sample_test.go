package render

import "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"

// sampleSpec is a small valid spec built in Go (what spec.Load returns).
func sampleSpec() *spec.Spec {
	return &spec.Spec{
		Version:    1,
		Jenkins:    spec.Jenkins{URL: "https://jenkins.example.com/", User: "automation", Token: spec.NewSecret("JENKINS_API_TOKEN", "s3cret")},
		Cloudsmith: spec.Cloudsmith{Org: "acme", Service: "jenkins-ci", DownloadURL: "https://dl.example.com"},
		OIDC:       spec.OIDC{Credential: "oidc-token-cred", Kind: spec.KindString, Audience: "jenkins", Description: "Cloudsmith OIDC"},
		Binary:     spec.Binary{Path: "cloudsmith-oidc"},
		Defaults:   spec.Defaults{Repo: "python-internal", Formats: []string{"python"}},
		Jobs: []spec.Job{
			{Name: "team-a/build-wheel", Type: spec.Pipeline, Description: "Builds the wheel", Formats: []string{"python", "npm"}, Steps: []string{"pip install -r requirements.txt", "npm ci"}},
			{Name: "team-a/sub/fs", Type: spec.Freestyle, Label: "linux", Steps: []string{"pip download hello-cloudsmith"}},
			{Name: "from-git", Type: spec.Pipeline, SCM: &spec.SCM{URL: "https://git.example.com/app.git", CredentialsID: "git"}},
		},
		Seed: &spec.Seed{Name: "seed", SCM: spec.SCM{URL: "https://git.example.com/jenkins.git"}, SpecPath: "ci/jenkins-cloudsmith.yaml", Credential: "jenkins-api"},
	}
}
