package render

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// RequiredPlugins returns the plugins what o renders needs on the
// controller, sorted, with what uses each: the classes every config.xml
// names (the OIDC credential, folders, job types, the git SCM, credential
// bindings) and the steps every Pipeline calls: its Jenkinsfile's and,
// when one loads the shared library, the vars/ steps'. Read from the
// rendered text, so template overrides count. credentials and
// plain-credentials are not listed: they are mandatory dependencies of
// credentials-binding and oidc-provider, so Jenkins cannot enable those
// without them.
func (o *Output) RequiredPlugins() (names []string, uses map[string]string, err error) {
	users := map[string][]string{}
	add := func(plugins []string, user string) {
		for _, p := range plugins {
			if l := users[p]; len(l) == 0 || l[len(l)-1] != user {
				users[p] = append(l, user)
			}
		}
	}
	config := func(xml []byte, user string) error {
		ps, err := jenkins.PluginsForConfig(xml)
		if err != nil {
			return fmt.Errorf("%s: read the rendered config.xml: %w", user, err)
		}
		add(ps, user)
		return nil
	}
	// The credential is an oidc-provider one whatever its XML says.
	add([]string{"oidc-provider"}, "the OIDC credential")
	if len(o.Credential.XML) > 0 {
		if err := config(o.Credential.XML, "the OIDC credential"); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range o.Folders {
		if err := config(f.ConfigXML, "folder "+f.Path); err != nil {
			return nil, nil, err
		}
	}
	library := false
	for _, j := range o.Jobs {
		user := "job " + j.Name
		if err := config(j.ConfigXML, user); err != nil {
			return nil, nil, err
		}
		if j.Jenkinsfile != nil {
			ps := jenkins.PluginsForScript(j.Jenkinsfile)
			library = library || slices.Contains(ps, "pipeline-groovy-lib")
			add(ps, user)
		}
	}
	if library {
		files := make([]string, 0, len(o.Vars))
		for f := range o.Vars {
			if strings.HasSuffix(f, ".groovy") {
				files = append(files, f)
			}
		}
		sort.Strings(files)
		for _, f := range files {
			add(jenkins.PluginsForScript(o.Vars[f]), "the shared library's vars/"+f)
		}
	}
	uses = make(map[string]string, len(users))
	for p, l := range users {
		names = append(names, p)
		if len(l) > 3 {
			l = append(l[:3:3], fmt.Sprintf("%d more", len(l)-3))
		}
		uses[p] = strings.Join(l, ", ")
	}
	sort.Strings(names)
	return names, uses, nil
}
