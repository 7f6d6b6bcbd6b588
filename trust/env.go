package trust

import (
	"net/http"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/connect"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Env is a loaded spec with the clients the trust commands use, all taken
// from one connect.Clients.
type Env struct {
	Spec    *spec.Spec
	Jenkins *jenkins.Client
	// Cloudsmith reads the provider and service through the management
	// API; nil unless the spec sets cloudsmith.api_key.
	Cloudsmith *cloudsmith.Client
	// Exchange trades OIDC tokens (no API key is sent with them). It is
	// the same client as Cloudsmith when that is set.
	Exchange *cloudsmith.Client
	// Issuer fetches the hosted discovery documents, as Cloudsmith would
	// (see connect.IssuerClient).
	Issuer *http.Client
}

// NewEnv takes s's clients from c (built for s, or for a spec differing
// only in its credential, as after a rotation); no request is made.
func NewEnv(s *spec.Spec, c *connect.Clients) (*Env, error) {
	env := &Env{Spec: s}
	var err error
	if env.Jenkins, err = c.Jenkins(); err != nil {
		return nil, err
	}
	if env.Exchange, err = c.Cloudsmith(); err != nil {
		return nil, err
	}
	if c.HasAPIKey() {
		env.Cloudsmith = env.Exchange
	}
	if env.Issuer, err = c.Issuer(); err != nil {
		return nil, err
	}
	return env, nil
}

// Load reads the spec at path (secrets through getenv) and builds its
// clients; no request is made.
func Load(path string, getenv func(string) string, o connect.Options) (*Env, error) {
	s, err := spec.Load(path, getenv)
	if err != nil {
		return nil, err
	}
	return NewEnv(s, connect.New(s, o))
}
