package demo

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/world"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// checkApplied reads back, through the ordinary APIs, what apply should
// have made: the credential with the custom issuer, the folder and both
// jobs on Jenkins, and the service and provider on Cloudsmith.
func (d *demo) checkApplied(ctx context.Context, w io.Writer, jc *jenkins.Client, cs *cloudsmithtest.Server, issuerURL string) (string, error) {
	cred, err := jc.GetCredential(ctx, "", world.CredentialID)
	if err != nil {
		return "", fmt.Errorf("the OIDC credential %q: %w", world.CredentialID, err)
	}
	if cred.Issuer != issuerURL || cred.Audience != world.Audience {
		return "", fmt.Errorf("credential %q has issuer %q and world.Audience %q, want %q and %q",
			world.CredentialID, cred.Issuer, cred.Audience, issuerURL, world.Audience)
	}
	fmt.Fprintf(w, "Jenkins     credential %s (%s token, world.Audience %s, issuer %s)\n", cred.ID, cred.Kind, cred.Audience, cred.Issuer)
	items, err := jc.ListJobs(ctx)
	if err != nil {
		return "", err
	}
	for _, name := range []string{world.Folder, world.FreestyleJob, world.PipelineJob} {
		i := slices.IndexFunc(items, func(it jenkins.Item) bool { return it.FullName == name })
		if i < 0 {
			return "", fmt.Errorf("no item %q on Jenkins after apply", name)
		}
		note := ""
		if name == world.PipelineJob {
			note = "; applied only: the emulator runs freestyle builds"
		}
		fmt.Fprintf(w, "Jenkins     %s (%s%s)\n", name, items[i].Class, note)
	}

	svcs := cs.Cloudsmith.Services(cs.Org)
	si := slices.IndexFunc(svcs, func(s cloudsmithtest.Service) bool { return s.Name == world.ServiceName })
	if si < 0 {
		return "", fmt.Errorf("no service account named %q in Cloudsmith org %q after apply", world.ServiceName, cs.Org)
	}
	serviceSlug := svcs[si].Slug
	granted := false
	for _, g := range cs.Cloudsmith.Grants(cs.Org, cs.Repo) {
		granted = granted || (g.Service == serviceSlug && g.Privilege >= cloudsmithtest.PrivilegeRead)
	}
	if !granted {
		return "", fmt.Errorf("service %q holds no Read privilege on repository %s/%s after apply", serviceSlug, cs.Org, cs.Repo)
	}
	provs := cs.Cloudsmith.Providers(cs.Org)
	i := slices.IndexFunc(provs, func(p cloudsmithtest.ProviderSettings) bool { return p.Name == world.ProviderName })
	if i < 0 {
		return "", fmt.Errorf("no OIDC provider %q in Cloudsmith org %q after apply", world.ProviderName, cs.Org)
	}
	p := provs[i]
	switch {
	case p.ProviderURL != issuerURL:
		return "", fmt.Errorf("provider %q trusts %q, not the issuer %q", p.Name, p.ProviderURL, issuerURL)
	case !p.Enabled:
		return "", fmt.Errorf("provider %q is disabled", p.Name)
	case !slices.Contains(p.ServiceAccounts, serviceSlug):
		return "", fmt.Errorf("provider %q is not linked to service %q (it lists %v)", p.Name, serviceSlug, p.ServiceAccounts)
	case len(p.Claims) == 0:
		return "", fmt.Errorf("provider %q requires no claims", p.Name)
	}
	var claims []string
	for _, k := range slices.Sorted(maps.Keys(p.Claims)) {
		claims = append(claims, fmt.Sprintf("%s=%v", k, p.Claims[k]))
	}
	fmt.Fprintf(w, "Cloudsmith  service %s (slug assigned by Cloudsmith), Read on %s; OIDC provider %s trusts %s for tokens with %s\n",
		serviceSlug, cs.Repo, p.Name, p.ProviderURL, strings.Join(claims, ", "))
	return "credential, folder, 2 jobs, service account, its repository privilege and OIDC provider in place", nil
}

// shellStep returns the command of a freestyle config.xml's shell step.
func shellStep(configXML []byte) (string, error) {
	var p struct {
		Commands []string `xml:"builders>hudson.tasks.Shell>command"`
	}
	if err := xml.NewDecoder(bytes.NewReader(configXML)).Decode(&p); err != nil {
		return "", fmt.Errorf("the rendered freestyle job does not parse: %w", err)
	}
	if len(p.Commands) == 0 {
		return "", fmt.Errorf("the rendered freestyle job has no shell step")
	}
	return p.Commands[0], nil
}
