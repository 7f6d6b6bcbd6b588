// Package trust makes the chain of trust between a Jenkins issuer and
// Cloudsmith visible and safe to change: it exports and checks the
// discovery documents a custom issuer must host, serves them, walks the
// whole chain (doctor), runs a build end to end (smoke) and rotates the
// OIDC signing key without a failed exchange (rotate).
//
// The oidc-provider plugin's kid is the credential id and its key only
// changes when the credential is re-created, so the plugin offers no safe
// rotation and a custom issuer's documents silently go stale whenever the
// credential is re-saved (oidc-provider issues #19, #31, #97). Everything
// here derives its state from Jenkins and from what is actually hosted,
// never from a local state file, so each command can be re-run after an
// interruption.
package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Paths of the two documents, relative to the issuer URL.
const (
	ConfigPath = ".well-known/openid-configuration"
	JWKSPath   = "jwks"
)

// Discoverer is what reading the documents needs from Jenkins.
// *jenkins.Client satisfies it.
type Discoverer interface {
	Discovery(ctx context.Context, issuerURL, credentialID, folder string) (config, jwks []byte, err error)
	CredentialIDs(ctx context.Context, folder string) ([]string, error)
}

// Documents are an issuer's discovery documents as Jenkins signs now.
type Documents struct {
	// Issuer is the tokens' iss (spec.IssuerURL()).
	Issuer string
	// Custom is true for a custom issuer, whose documents someone else
	// hosts; false when Jenkins serves them itself at Issuer.
	Custom bool
	// Config is the openid-configuration, byte for byte as the plugin
	// writes it.
	Config []byte
	// JWKS holds every key that signs for Issuer: for a custom issuer the
	// keys of every generation of the spec's credential (two during a
	// rotation), oldest first; for Jenkins' own issuer the document Jenkins
	// serves.
	JWKS []byte
	// Keys are JWKS parsed.
	Keys []jwtutil.JWK
	// Credentials are the credential ids whose keys a custom issuer's JWKS
	// holds, oldest generation first.
	Credentials []string
}

// ConfigURL is where Cloudsmith fetches the openid-configuration.
func (d *Documents) ConfigURL() string { return strings.TrimSuffix(d.Issuer, "/") + "/" + ConfigPath }

// JWKSURL is the jwks_uri the plugin's openid-configuration names.
func (d *Documents) JWKSURL() string {
	var c struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if json.Unmarshal(d.Config, &c) == nil && c.JWKSURI != "" {
		return c.JWKSURI
	}
	return strings.TrimSuffix(d.Issuer, "/") + "/" + JWKSPath
}

// Kids lists the key ids of Keys.
func (d *Documents) Kids() []string {
	out := make([]string, len(d.Keys))
	for i, k := range d.Keys {
		out[i] = k.Kid
	}
	return out
}

// FromJenkins reads what Jenkins signs with for s's issuer now. For a
// custom issuer it asks the plugin's descriptor endpoints for the
// configuration and for the JWKS of each generation of the spec's
// credential (see spec.SuccessorID) and merges the keys, oldest generation
// first, each key's bytes as Jenkins wrote them; with one generation the
// JWKS is Jenkins' document unchanged.
func FromJenkins(ctx context.Context, j Discoverer, s *spec.Spec) (*Documents, error) {
	d := &Documents{Issuer: s.IssuerURL(), Custom: s.OIDC.Issuer != ""}
	read := readDefaultIssuer
	if d.Custom {
		read = readCustomIssuer
	}
	if err := read(ctx, j, s, d); err != nil {
		return nil, err
	}
	return d, nil
}

// readDefaultIssuer fills d with the documents Jenkins serves for its own
// issuer, whose JWKS holds the key of every credential.
func readDefaultIssuer(ctx context.Context, j Discoverer, s *spec.Spec, d *Documents) error {
	cfg, jwks, err := j.Discovery(ctx, "", s.OIDC.Credential, s.OIDC.Folder)
	if err != nil {
		return fmt.Errorf("read the discovery documents of %s from Jenkins: %w", d.Issuer, err)
	}
	d.Config, d.JWKS = cfg, jwks
	keys, err := parseJWKS(jwks)
	if err != nil {
		return fmt.Errorf("JWKS Jenkins serves for %s: %w", d.Issuer, err)
	}
	d.Keys = keys
	for _, k := range keys {
		if _, ok := spec.CredentialGeneration(k.Kid, s.OIDC.Credential); ok {
			d.Credentials = append(d.Credentials, k.Kid)
		}
	}
	return nil
}

// readCustomIssuer fills d with the documents of a custom issuer: the
// configuration and the keys of every generation of the credential.
func readCustomIssuer(ctx context.Context, j Discoverer, s *spec.Spec, d *Documents) error {
	where := spec.StoreName(s.OIDC.Folder)
	ids, err := j.CredentialIDs(ctx, s.OIDC.Folder)
	if err != nil {
		return fmt.Errorf("list the credentials in %s: %w", where, err)
	}
	gens := spec.Generations(ids, s.OIDC.Credential)
	if len(gens) == 0 {
		return fmt.Errorf("credential %q does not exist in %s on Jenkins: run `jenkins-cloudsmith apply` first, so there is a key to publish", s.OIDC.Credential, where)
	}
	var raws []json.RawMessage
	var jwksDocs [][]byte
	for _, g := range gens {
		cfg, jwks, err := j.Discovery(ctx, d.Issuer, g.ID, s.OIDC.Folder)
		if err != nil {
			return fmt.Errorf("read the documents of custom issuer %s for credential %q from Jenkins: %w", d.Issuer, g.ID, err)
		}
		if d.Config == nil {
			d.Config = cfg
		}
		var doc struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(jwks, &doc); err != nil {
			return fmt.Errorf("JWKS of credential %q from Jenkins does not parse: %w", g.ID, err)
		}
		raws = append(raws, doc.Keys...)
		jwksDocs = append(jwksDocs, jwks)
		d.Credentials = append(d.Credentials, g.ID)
	}
	if len(jwksDocs) == 1 {
		d.JWKS = jwksDocs[0]
	} else {
		d.JWKS = joinKeys(raws)
	}
	if d.Keys, err = parseJWKS(d.JWKS); err != nil {
		return fmt.Errorf("JWKS from Jenkins: %w", err)
	}
	return nil
}

// joinKeys makes one JWKS of keys, each key's bytes as Jenkins wrote them.
func joinKeys(keys []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"keys":[`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(k)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// parseJWKS parses a JWKS document, requiring at least one key with a kid.
func parseJWKS(b []byte) ([]jwtutil.JWK, error) {
	var set jwtutil.JWKS
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS document: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("the JWKS holds no key")
	}
	return set.Keys, nil
}

// Export writes a custom issuer's documents under dir exactly as they must
// be served: dir/.well-known/openid-configuration and dir/jwks (serve dir
// at the issuer URL). Each file is replaced atomically (a web server never
// serves half a document) with mode 0644: they are public. It returns the
// paths written.
func Export(dir string, d *Documents) ([]string, error) {
	if !d.Custom {
		return nil, fmt.Errorf("issuer %s is Jenkins' own: Jenkins serves its documents itself, there is nothing to export", d.Issuer)
	}
	files := []struct {
		name string
		data []byte
	}{
		{filepath.Join(dir, filepath.FromSlash(ConfigPath)), d.Config},
		{filepath.Join(dir, JWKSPath), d.JWKS},
	}
	var out []string
	for _, f := range files {
		if err := render.WriteFileAtomic(f.name, f.data, 0o644); err != nil {
			return out, fmt.Errorf("export the discovery documents: %w", err)
		}
		out = append(out, f.name)
	}
	return out, nil
}
