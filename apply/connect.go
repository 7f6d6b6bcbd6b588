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
	var err error
	if cfg.Proxy, err = proxyURL("jenkins.proxy", s.Jenkins.Proxy); err != nil {
		return nil, err
	}
	jc, err := jenkins.New(cfg)
	if err != nil {
		return nil, err
	}
	t := &Targets{Jenkins: jc}
	if s.Cloudsmith.APIKey.Value() != "" {
		proxy, err := proxyURL("cloudsmith.proxy", s.Cloudsmith.Proxy)
		if err != nil {
			return nil, err
		}
		cc, err := cloudsmith.NewClient(cloudsmith.Options{APIURL: s.Cloudsmith.API(), APIKey: s.Cloudsmith.APIKey.Value(),
			CABundle: s.Resolve(s.Cloudsmith.CABundle), Proxy: proxy, Logger: logger})
		if err != nil {
			return nil, err
		}
		t.Cloudsmith = CloudsmithClient{C: cc}
	}
	return t, nil
}

// proxyURL parses a proxy setting; empty means the environment's.
func proxyURL(field, value string) (*url.URL, error) {
	if value == "" {
		return nil, nil
	}
	u, err := url.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", field, value, err)
	}
	return u, nil
}
