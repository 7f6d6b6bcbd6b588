package apply

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Targets are the systems a spec manages, with clients ready to use.
type Targets struct {
	Jenkins *jenkins.Client
	// Cloudsmith is nil unless the spec sets cloudsmith.api_key.
	Cloudsmith Cloudsmith
}

// Connect builds the clients for the spec's Jenkins controller (and
// Cloudsmith, with an API key). It makes no request. Relative CA bundle
// paths are relative to the spec file.
func Connect(s *spec.Spec, logger *slog.Logger) (*Targets, error) {
	cfg := jenkins.Config{URL: s.Jenkins.URL, User: s.Jenkins.User, Token: s.Jenkins.Token.Value(),
		CABundle: s.Resolve(s.Jenkins.CABundle), Logger: logger}
	if s.Jenkins.Proxy != "" {
		u, err := url.Parse(s.Jenkins.Proxy)
		if err != nil {
			return nil, fmt.Errorf("jenkins.proxy %q: %w", s.Jenkins.Proxy, err)
		}
		cfg.Proxy = u
	}
	jc, err := jenkins.New(cfg)
	if err != nil {
		return nil, err
	}
	t := &Targets{Jenkins: jc}
	if s.Cloudsmith.APIKey.Value() != "" {
		cc, err := cloudsmith.NewClient(cloudsmith.Options{APIURL: s.Cloudsmith.API(), APIKey: s.Cloudsmith.APIKey.Value(),
			CABundle: s.Resolve(s.Cloudsmith.CABundle), Logger: logger})
		if err != nil {
			return nil, err
		}
		t.Cloudsmith = CloudsmithClient{C: cc}
	}
	return t, nil
}
