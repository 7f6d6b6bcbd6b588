package trust

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Env is a loaded spec with the clients the trust commands use.
type Env struct {
	Spec    *spec.Spec
	Jenkins *jenkins.Client
	// Cloudsmith reads the provider and service through the management
	// API; nil unless the spec sets cloudsmith.api_key.
	Cloudsmith *cloudsmith.Client
	// Exchange trades OIDC tokens (no API key needed).
	Exchange *cloudsmith.Client
	// Issuer fetches the hosted discovery documents, as Cloudsmith would
	// (see IssuerClient).
	Issuer *http.Client
}

// ConnectOptions tune Connect.
type ConnectOptions struct {
	// IssuerCABundle adds roots for checking an issuer behind a private CA.
	IssuerCABundle string
	// Logger receives one line per HTTP request to Jenkins and Cloudsmith.
	Logger *slog.Logger
}

// Connect builds s's clients; no request is made.
func Connect(s *spec.Spec, o ConnectOptions) (*Env, error) {
	t, err := apply.Connect(s, o.Logger)
	if err != nil {
		return nil, err
	}
	env := &Env{Spec: s, Jenkins: t.Jenkins}
	if cc, ok := t.Cloudsmith.(apply.CloudsmithClient); ok {
		env.Cloudsmith = cc.C
	}
	if env.Exchange, err = cloudsmith.NewClient(cloudsmith.Options{APIURL: s.Cloudsmith.API(),
		CABundle: s.Resolve(s.Cloudsmith.CABundle), Logger: o.Logger}); err != nil {
		return nil, fmt.Errorf("cloudsmith client: %w", err)
	}
	if env.Issuer, err = IssuerClient(o.IssuerCABundle); err != nil {
		return nil, fmt.Errorf("issuer client: %w", err)
	}
	return env, nil
}

// Load reads the spec at path (secrets through getenv) and builds its
// clients (see Connect); no request is made.
func Load(path string, getenv func(string) string, o ConnectOptions) (*Env, error) {
	s, err := spec.Load(path, getenv)
	if err != nil {
		return nil, err
	}
	return Connect(s, o)
}
