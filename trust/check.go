package trust

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/connect"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// Severity of a finding.
type Severity string

// Severities, in the words output uses.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Finding is one problem with the hosted documents: what is wrong and how
// to fix it.
type Finding struct {
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
}

// CheckResult is what Check found at the issuer.
type CheckResult struct {
	Issuer    string `json:"issuer"`
	ConfigURL string `json:"config_url"`
	// JWKSURL is the jwks_uri the hosted configuration names ("" when it
	// could not be read).
	JWKSURL string `json:"jwks_url,omitempty"`
	// Kids are the key ids hosted now.
	Kids     []string  `json:"kids"`
	Findings []Finding `json:"findings,omitempty"`
}

// OK reports whether nothing is wrong (warnings allowed).
func (r *CheckResult) OK() bool {
	return !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == SevError })
}

// Err returns the errors as one error, or nil.
func (r *CheckResult) Err() error {
	var msgs []string
	for _, f := range r.Findings {
		if f.Severity == SevError {
			m := f.Message
			if f.Fix != "" {
				m += "\n  fix: " + f.Fix
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("the documents hosted for issuer %s do not match what Jenkins signs with:\n%s", r.Issuer, strings.Join(msgs, "\n"))
}

// Publishes reports whether the hosted JWKS holds exactly the keys of want
// (no key missing, none stale, none extra) and nothing else is wrong: the
// state rotate waits for.
func (r *CheckResult) Publishes(want *Documents) bool {
	if !r.OK() {
		return false
	}
	have := slices.Clone(r.Kids)
	slices.Sort(have)
	kids := want.Kids()
	slices.Sort(kids)
	return slices.Equal(have, kids)
}

func (r *CheckResult) add(sev Severity, fix, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Severity: sev, Message: fmt.Sprintf(format, args...), Fix: fix})
}

// maxDocument bounds a fetched document: a JWKS is a few kilobytes.
const maxDocument = 1 << 20

// fetched is one GET's answer.
type fetched struct {
	status int
	ctype  string
	body   []byte
}

func get(ctx context.Context, hc *http.Client, raw string) (*fetched, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	if err := connect.IssuerURLAllowed(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return &fetched{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: body}, nil
}

// reachFix says how to fix a failed fetch.
func reachFix(err error, custom bool) string {
	var ce *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(err, &ce), errors.As(err, &ua):
		return "serve a certificate Cloudsmith trusts (a public CA) for the issuer host; to check a private CA from here pass --ca-bundle"
	case custom:
		return "host the files from `jenkins-cloudsmith discovery export` (or run `discovery serve`) at the issuer URL, reachable from the internet over https"
	}
	return "make Jenkins reachable at its configured root URL from the internet (Cloudsmith fetches these documents itself)"
}

// Check fetches what is hosted at want.Issuer the way Cloudsmith does
// (<issuer>/.well-known/openid-configuration, then its jwks_uri) and
// compares it with want, what Jenkins signs with now. Every problem is a
// Finding saying which document, what is wrong and how to fix it.
func Check(ctx context.Context, hc *http.Client, want *Documents) *CheckResult {
	r := &CheckResult{Issuer: want.Issuer, ConfigURL: want.ConfigURL(), Kids: []string{}}
	republish := "run `jenkins-cloudsmith discovery export` and publish the files at the issuer (or use `discovery serve`)"
	if !want.Custom {
		republish = "Jenkins serves this document itself: check the Jenkins URL (Manage Jenkins » System » Jenkins URL) and any proxy in front of it"
	}
	cfgBody, ok := r.fetchJSON(ctx, hc, "openid-configuration", r.ConfigURL, want.Custom, republish)
	if !ok {
		return r
	}
	var have, exp map[string]any
	_ = json.Unmarshal(cfgBody, &have)
	_ = json.Unmarshal(want.Config, &exp)
	iss, _ := have["issuer"].(string)
	if iss != want.Issuer {
		r.add(SevError, republish+"; its issuer must equal the tokens' iss exactly (no trailing slash added or removed)",
			"openid-configuration at %s names issuer %q, but Jenkins' tokens carry iss %q", r.ConfigURL, iss, want.Issuer)
	}
	jwksURI, _ := have["jwks_uri"].(string)
	r.JWKSURL = jwksURI
	switch {
	case jwksURI == "":
		r.add(SevError, republish, "openid-configuration at %s has no jwks_uri", r.ConfigURL)
		return r
	case jwksURI != want.JWKSURL():
		r.add(SevError, republish+"; the plugin's document names "+want.JWKSURL(),
			"openid-configuration at %s names jwks_uri %q, not %q", r.ConfigURL, jwksURI, want.JWKSURL())
	default:
		for _, k := range diffKeys(exp, have, "issuer", "jwks_uri") {
			r.add(SevWarning, republish, "openid-configuration at %s differs from the plugin's in %q", r.ConfigURL, k)
		}
	}
	jwksBody, ok := r.fetchJSON(ctx, hc, "JWKS", jwksURI, want.Custom, republish)
	if !ok {
		return r
	}
	hosted, err := parseJWKS(jwksBody)
	if err != nil {
		r.add(SevError, republish, "JWKS at %s: %v", jwksURI, err)
		return r
	}
	r.compareKeys(want, hosted, jwksURI, republish)
	return r
}

// fetchJSON GETs a document and checks it is a JSON object; it records
// why not.
func (r *CheckResult) fetchJSON(ctx context.Context, hc *http.Client, what, raw string, custom bool, republish string) ([]byte, bool) {
	f, err := get(ctx, hc, raw)
	if err != nil {
		r.add(SevError, reachFix(err, custom), "cannot fetch the %s from %s: %v", what, raw, err)
		return nil, false
	}
	if f.status != http.StatusOK {
		page := ""
		if looksHTML(f.body) {
			page = ", an HTML page, not the JSON document"
		}
		r.add(SevError, republish, "%s at %s answers %d %s%s%s", what, raw, f.status, http.StatusText(f.status), page, excerpt(f.body))
		return nil, false
	}
	var obj map[string]any
	if err := json.Unmarshal(f.body, &obj); err != nil {
		kind := "not the JSON document"
		if looksHTML(f.body) {
			kind = "an HTML page, not the JSON document (a web server's error or login page?)"
		}
		r.add(SevError, republish, "%s at %s is %s (Content-Type %q)%s", what, raw, kind, f.ctype, excerpt(f.body))
		return nil, false
	}
	if mt, _, _ := mime.ParseMediaType(f.ctype); mt != "application/json" {
		r.add(SevWarning, "configure the web server to send Content-Type: application/json for this file (the plugin asks for JSON; strict clients refuse anything else)",
			"%s at %s is served as %q, not application/json", what, raw, f.ctype)
	}
	return f.body, true
}

// compareKeys finds keys Jenkins signs with that are missing or stale at
// the issuer, and keys still hosted that no longer sign.
func (r *CheckResult) compareKeys(want *Documents, hosted []jwtutil.JWK, jwksURL, republish string) {
	byKid := map[string]jwtutil.JWK{}
	for _, k := range hosted {
		r.Kids = append(r.Kids, k.Kid)
		byKid[k.Kid] = k
	}
	signing := map[string]bool{}
	for _, k := range want.Keys {
		signing[k.Kid] = true
		h, ok := byKid[k.Kid]
		switch {
		case !ok:
			r.add(SevError, republish, "the JWKS at %s lacks key %q (thumbprint %s), which Jenkins signs with: every token with kid %q fails verification",
				jwksURL, k.Kid, Thumbprint(k), k.Kid)
		case h.N != k.N || h.E != k.E:
			r.add(SevError, republish+" (re-saving an oidc-provider credential always generates a new key, so re-publish after every save or JCasC reload)",
				"the JWKS at %s holds a stale key for kid %q (thumbprint %s): Jenkins now signs with thumbprint %s (the credential was re-saved, which rotated its key)",
				jwksURL, k.Kid, Thumbprint(h), Thumbprint(k))
		case h.Kty != k.Kty || h.Alg != k.Alg || h.Use != k.Use:
			r.add(SevWarning, republish, "key %q at %s has kty/alg/use %q/%q/%q, the plugin's %q/%q/%q", k.Kid, jwksURL, h.Kty, h.Alg, h.Use, k.Kty, k.Alg, k.Use)
		}
	}
	for _, k := range hosted {
		if !signing[k.Kid] {
			r.add(SevWarning, republish+" to drop it", "the JWKS at %s still holds key %q (thumbprint %s), which Jenkins no longer signs with", jwksURL, k.Kid, Thumbprint(k))
		}
	}
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of an RSA key, base64url:
// a short name for one key, which a kid (the credential id) is not.
func Thumbprint(k jwtutil.JWK) string {
	b, _ := json.Marshal(struct {
		E   string `json:"e"`
		Kty string `json:"kty"`
		N   string `json:"n"`
	}{k.E, k.Kty, k.N})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// diffKeys lists the top-level members (except skip) that differ.
func diffKeys(want, have map[string]any, skip ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range []map[string]any{want, have} {
		for k := range m {
			if seen[k] || slices.Contains(skip, k) {
				continue
			}
			seen[k] = true
			if !reflect.DeepEqual(want[k], have[k]) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

func looksHTML(b []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(b[:min(len(b), 512)])))
	return strings.HasPrefix(s, "<!doctype html") || strings.HasPrefix(s, "<html") || strings.Contains(s, "<body")
}

// excerpt is a short, single-line start of a body for messages.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b[:min(len(b), 200)])), " ")
	if s == "" {
		return " (empty body)"
	}
	if len(b) > 200 {
		s += "…"
	}
	return fmt.Sprintf(": %q", s)
}
