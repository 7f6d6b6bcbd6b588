package render_test

import (
	"fmt"
	"log"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

func ExampleRenderer_Render() {
	r, err := render.New(render.Options{})
	if err != nil {
		log.Fatal(err)
	}
	out, err := r.Render(&spec.Spec{
		Cloudsmith: spec.Cloudsmith{Org: "acme", Service: "jenkins-ci"},
		OIDC:       spec.OIDC{Credential: "cloudsmith-oidc", Kind: spec.KindString, Audience: "jenkins"},
		Binary:     spec.Binary{Path: "cloudsmith-oidc"},
		Defaults:   spec.Defaults{Repo: "python-internal", Formats: []string{"python"}},
		Jobs: []spec.Job{
			{Name: "team-a/wheel", Type: spec.Pipeline, Steps: []string{"pip wheel ."}},
			{Name: "team-a/lint", Type: spec.Freestyle, Steps: []string{"pip install ruff && ruff check ."}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range out.Folders {
		fmt.Println("folder", f.Path)
	}
	for _, j := range out.Jobs {
		fmt.Println(j.Type, j.Name, "Jenkinsfile:", j.Jenkinsfile != nil)
	}
	// Output:
	// folder team-a
	// pipeline team-a/wheel Jenkinsfile: true
	// freestyle team-a/lint Jenkinsfile: false
}
