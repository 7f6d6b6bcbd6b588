package jenkinstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// ClaimType is how a claim template's substituted text becomes a value.
type ClaimType string

// Claim types of the oidc-provider plugin.
const (
	ClaimString  ClaimType = "string"
	ClaimBoolean ClaimType = "boolean"
	ClaimInteger ClaimType = "integer"
)

// ClaimTemplate is one io.jenkins.plugins.oidc_provider.config.ClaimTemplate.
type ClaimTemplate struct {
	Name   string
	Format string
	Type   ClaimType
}

// ClaimTemplates is the plugin's global claim configuration: All apply to
// every token, then Build (tokens minted in a build) or Global (outside).
type ClaimTemplates struct {
	All    []ClaimTemplate
	Build  []ClaimTemplate
	Global []ClaimTemplate
}

// DefaultClaimTemplates are the plugin's defaults: builds get sub=JOB_URL
// and build_number, other tokens sub=JENKINS_URL.
func DefaultClaimTemplates() ClaimTemplates {
	return ClaimTemplates{
		Build: []ClaimTemplate{
			{Name: "sub", Format: "${JOB_URL}", Type: ClaimString},
			{Name: "build_number", Format: "${BUILD_NUMBER}", Type: ClaimInteger},
		},
		Global: []ClaimTemplate{{Name: "sub", Format: "${JENKINS_URL}", Type: ClaimString}},
	}
}

// standardClaims may not come from templates (IdTokenCredentials.STANDARD_CLAIMS).
var standardClaims = map[string]bool{
	"iss": true, "aud": true, "exp": true, "iat": true, "auth_time": true, "nonce": true,
	"acr": true, "amr": true, "azp": true, "nbf": true, "jti": true,
}

var macroRE = regexp.MustCompile(`\$([A-Za-z0-9_]+|\{[A-Za-z0-9_.]+\}|\$)`)

// replaceMacro is hudson.Util.replaceMacro: $VAR and ${VAR} are replaced
// when defined and left alone otherwise; $$ is a literal $.
func replaceMacro(s string, env map[string]string) string {
	return macroRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := strings.Trim(m[1:], "{}")
		if v, ok := env[name]; ok {
			return v
		}
		return m
	})
}

// claim is one ordered JWT claim.
type claim struct {
	name string
	val  any
}

type orderedClaims []claim

func (c orderedClaims) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.name)
		v, err := json.Marshal(kv.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// oidc-provider releases whose token() changed (JEP-229 commit counts of
// the merges in jenkinsci/oidc-provider-plugin):
const (
	// oidcRefusesUnsubstituted: 170.v15f73e25a_e28 (b53c1f7) throws
	// "Apparently unsubstituted claims: <value>"; before, the literal
	// "${JOB_URL}" went into the token.
	oidcRefusesUnsubstituted = "170"
	// oidcTyp: 206.v0a5b091… (cd60e4a) adds the typ=JWT header.
	oidcTyp = "206"
	// oidcJJWT013: 212.v7657c4d45c02 (a069ffe, jjwt-api 0.13) writes aud
	// as an array and the claims in the order iss, aud, iat, exp (before:
	// setAudience(String), then setExpiration, setIssuedAt).
	oidcJJWT013 = "212"
)

// mint is IdTokenCredentials.token(): env is the build's environment
// (inBuild) or just JENKINS_URL. The checks run in the plugin's order:
// per template, a standard claim name, then an unsubstituted value, then
// the type's parse; a missing sub only after all templates.
func (j *Jenkins) mint(c *credential, iss string, env map[string]string, inBuild bool) (string, error) {
	if c.key == nil {
		return "", errors.New("java.lang.IllegalStateException: credential has no key")
	}
	current := j.pluginAtLeastLocked("oidc-provider", oidcJJWT013)
	refuses := j.pluginAtLeastLocked("oidc-provider", oidcRefusesUnsubstituted)
	hdr := jwtutil.Header{Kid: c.id}
	if j.pluginAtLeastLocked("oidc-provider", oidcTyp) {
		hdr.Typ = "JWT"
	}
	now := j.o.now()
	iat, exp := claim{"iat", now.Unix()}, claim{"exp", now.Add(j.o.tokenLifetime).Unix()}
	claims := orderedClaims{{"iss", iss}}
	if c.audience != "" {
		if j.o.audienceString || !current {
			claims = append(claims, claim{"aud", c.audience})
		} else {
			claims = append(claims, claim{"aud", []string{c.audience}})
		}
	}
	if current {
		claims = append(claims, iat, exp)
	} else {
		claims = append(claims, exp, iat)
	}
	tmpl := DefaultClaimTemplates()
	if j.o.claims != nil {
		tmpl = *j.o.claims
	}
	list := append([]ClaimTemplate(nil), tmpl.All...)
	if inBuild {
		list = append(list, tmpl.Build...)
	} else {
		list = append(list, tmpl.Global...)
	}
	definedSub := false
	for _, t := range list {
		if standardClaims[t.Name] {
			return "", fmt.Errorf("java.lang.SecurityException: An id token claim template must not specify %s", t.Name)
		}
		if t.Name == "sub" {
			definedSub = true
		}
		s := replaceMacro(t.Format, env)
		if refuses && strings.Contains(s, "${") {
			return "", fmt.Errorf("java.lang.RuntimeException: Apparently unsubstituted claims: %s", s)
		}
		var v any = s
		switch t.Type {
		case ClaimInteger:
			// IntegerClaimType.parse is Integer.valueOf(text): no trimming.
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return "", fmt.Errorf("java.lang.NumberFormatException: For input string: %q (claim %s)", s, t.Name)
			}
			v = n
		case ClaimBoolean:
			v = strings.EqualFold(s, "true")
		}
		replaced := false
		for i := range claims {
			if claims[i].name == t.Name {
				claims[i].val, replaced = v, true
			}
		}
		if !replaced {
			claims = append(claims, claim{t.Name, v})
		}
	}
	if !definedSub {
		return "", errors.New("java.lang.SecurityException: An id token claim template must specify sub")
	}
	return jwtutil.SignWithHeader(c.key, hdr, claims)
}

// issuerURL is the default issuer of a context: {root}oidc for the root,
// {root}oidc/job/a/job/b for a folder.
func issuerURL(root string, ctx *item) string {
	return root + "oidc" + issuerURI(ctx)
}

// issuerURI is Issuer.uri(): "" or /job/a/job/b with raw-encoded names.
func issuerURI(ctx *item) string {
	if ctx == nil || ctx.kind == kindRoot {
		return ""
	}
	var b strings.Builder
	for _, seg := range strings.Split(ctx.fullName(), "/") {
		b.WriteString("/job/")
		b.WriteString(rawEncode(seg))
	}
	return b.String()
}

// openidConfiguration is Keys.openidConfiguration, field order included.
func openidConfiguration(issuer *string) []byte {
	var b bytes.Buffer
	iss, jwks := "null", "\"null/jwks\""
	if issuer != nil {
		iss, jwks = jsonString(*issuer), jsonString(*issuer+"/jwks")
	}
	fmt.Fprintf(&b, `{"issuer":%s,"jwks_uri":%s,"response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],"authorization_endpoint":"https://unimplemented","token_endpoint":"https://unimplemented"}`, iss, jwks)
	return b.Bytes()
}

// jwksDocument is {"keys":[...]} for creds, in store order.
func jwksDocument(creds []*credential) []byte {
	var b bytes.Buffer
	b.WriteString(`{"keys":[`)
	for i, c := range creds {
		if i > 0 {
			b.WriteByte(',')
		}
		k := jwtutil.PublicJWK(c.id, &c.key.PublicKey)
		fmt.Fprintf(&b, `{"kid":%s,"kty":"RSA","alg":"RS256","use":"sig","n":"%s","e":"%s"}`, jsonString(k.Kid), k.N, k.E)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func jsonString(s string) string {
	var b bytes.Buffer
	writeJSONString(&b, s)
	return b.String()
}

// idTokenCreds lists a context's IdToken credentials; with defaultOnly, only
// those without a custom issuer. Call with j.mu held.
func (j *Jenkins) idTokenCreds(ctx *item, defaultOnly bool) []*credential {
	st := j.storeOf(ctx)
	if st == nil {
		return nil
	}
	var out []*credential
	for _, c := range st.creds {
		if c.isIDToken() && (!defaultOnly || c.issuer == "") {
			out = append(out, c)
		}
	}
	return out
}

var folderIssuerRE = regexp.MustCompile(`^(/job/[^/]+)+$`)

// serveOIDC is Keys.doDynamic (an UnprotectedRootAction: no permission).
func (j *Jenkins) serveOIDC(q *request) {
	if !j.pluginActive("oidc-provider") {
		notFound(q)
		return
	}
	rest := strings.TrimPrefix(q.r.URL.EscapedPath(), "/oidc")
	var prefix string
	var wantJWKS bool
	switch {
	case strings.HasSuffix(rest, "/.well-known/openid-configuration"):
		prefix = strings.TrimSuffix(rest, "/.well-known/openid-configuration")
	case strings.HasSuffix(rest, "/jwks"):
		prefix, wantJWKS = strings.TrimSuffix(rest, "/jwks"), true
	default:
		notFoundEmpty(q)
		return
	}
	j.mu.Lock()
	ctx := j.issuerForURI(prefix)
	var body []byte
	if ctx != nil {
		creds := j.idTokenCreds(ctx, true)
		if len(creds) > 0 {
			if wantJWKS {
				body = jwksDocument(creds)
			} else {
				iss := issuerURL(q.root, ctx)
				body = openidConfiguration(&iss)
			}
		}
	}
	j.mu.Unlock()
	if body == nil {
		notFoundEmpty(q)
		return
	}
	writeJSONBytes(q, body)
}

// issuerForURI is the Issuer.Factory.forUri lookup plus Keys' check that
// the issuer's own URI equals the requested one. Call with j.mu held.
func (j *Jenkins) issuerForURI(prefix string) *item {
	if prefix == "" {
		return j.root
	}
	if !folderIssuerRE.MatchString(prefix) {
		return nil
	}
	p, err := url.PathUnescape(strings.ReplaceAll(prefix[len("/job/"):], "/job/", "/"))
	if err != nil {
		return nil
	}
	cur := j.root
	for _, seg := range strings.Split(p, "/") {
		if cur = cur.child(seg); cur == nil {
			return nil
		}
	}
	if cur.kind != kindFolder || issuerURI(cur) != prefix {
		return nil
	}
	return cur
}

func writeJSONBytes(q *request, body []byte) { writeBody(q, "application/json;charset=UTF-8", body) }

// serveDescriptor serves descriptorByName/<IdToken class>/... in the root
// (or /manage) or folder context.
func (j *Jenkins) serveDescriptor(q *request, ctx *item, segs []string) {
	if len(segs) != 2 || (segs[0] != ClassIDTokenString && segs[0] != ClassIDTokenFile) || !j.pluginActive("oidc-provider") {
		notFound(q)
		return
	}
	query := q.r.URL.Query()
	switch segs[1] {
	case "wellKnownOpenidConfiguration":
		var iss *string
		if v, ok := query["issuer"]; ok {
			iss = &v[0]
		}
		writeJSONBytes(q, openidConfiguration(iss))
	case "jwks":
		// issuerFromRequest: Manage on the root, Item/Read on a folder.
		perm := Manage
		if ctx.kind != kindRoot {
			perm = ItemRead
		}
		if !j.require(q, perm) {
			return
		}
		id := query.Get("id")
		issuer, hasIssuer := query["issuer"]
		j.mu.Lock()
		var match *credential
		for _, c := range j.idTokenCreds(ctx, false) {
			if c.id == id {
				if !hasIssuer {
					j.mu.Unlock()
					serverError(q, errors.New(`java.lang.NullPointerException: Cannot invoke "String.equals(Object)" because "issuer" is null`))
					return
				}
				if issuer[0] == c.issuer {
					match = c
					break
				}
			}
		}
		var body []byte
		if match != nil {
			body = jwksDocument([]*credential{match})
		}
		j.mu.Unlock()
		if body == nil {
			notFoundEmpty(q)
			return
		}
		writeJSONBytes(q, body)
	default:
		notFound(q)
	}
}

// findCredential looks a credential up for a job the way
// CredentialsProvider does: enclosing folders nearest first, then the
// system store without its SYSTEM-scoped credentials. It returns the credential and the context that holds it.
// Call with j.mu held.
func (j *Jenkins) findCredential(job *item, id string) (*credential, *item) {
	for _, f := range job.ancestors() {
		if f.store != nil {
			if c := f.store.get(id); c != nil {
				return c, f
			}
		}
	}
	// SystemCredentialsProvider.getCredentialsInItem: items see the
	// system store through not(withScope(SYSTEM)).
	if c := j.system.get(id); c != nil && c.scope != "SYSTEM" {
		return c, j.root
	}
	return nil, nil
}

// IDToken mints an ID token with credential credentialID as a build of
// jobFullName would get it (build_number = the job's next build number),
// without running a build. With jobFullName "" it mints a token outside
// any build (sub = JENKINS_URL) from the system store. Needs a root URL
// (Start sets one).
func (j *Jenkins) IDToken(jobFullName, credentialID string) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// Like a build, a token minted outside a request sees only a
	// configured root URL (WithoutRootURL: none, so the default claims
	// stay unsubstituted).
	root := j.rootURL
	if jobFullName == "" {
		c := j.system.get(credentialID)
		if c == nil || !c.isIDToken() {
			return "", fmt.Errorf("jenkinstest: no IdToken credential %q in the system store", credentialID)
		}
		iss := tokenIssuer(root, c, j.root)
		env := map[string]string{}
		if root != "" {
			env["JENKINS_URL"] = root
		}
		return j.mint(c, iss, env, false)
	}
	job := j.lookupLocked(jobFullName)
	if job == nil || !job.isJob() {
		return "", fmt.Errorf("jenkinstest: no job %q", jobFullName)
	}
	c, owner := j.findCredential(job, credentialID)
	if c == nil || !c.isIDToken() {
		return "", fmt.Errorf("jenkinstest: no IdToken credential %q visible to %q", credentialID, jobFullName)
	}
	env := j.buildEnv(root, job, job.runs.nextNumber(), "")
	return j.mint(c, tokenIssuer(root, c, owner), env, true)
}

// tokenIssuer is the iss a build gets from c held in owner's store:
// Issuer.url() is getRootUrl() + "oidc" + uri(), which Java renders as
// "nulloidc" when no root URL is configured (only plugin versions before
// 170 sign such a token; later ones fail on the unsubstituted sub first).
func tokenIssuer(root string, c *credential, owner *item) string {
	if c.issuer != "" {
		return c.issuer
	}
	if root == "" {
		root = "null"
	}
	return issuerURL(root, owner)
}

// JWKS returns the document served at the default issuer's /jwks for the
// root (folder "") or a folder, or an error when that URL answers 404.
func (j *Jenkins) JWKS(folder string) ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	ctx := j.root
	if folder != "" {
		ctx = j.lookupLocked(folder)
		if ctx == nil || ctx.kind != kindFolder {
			return nil, fmt.Errorf("jenkinstest: no folder %q", folder)
		}
	}
	creds := j.idTokenCreds(ctx, true)
	if len(creds) == 0 {
		return nil, errors.New("jenkinstest: no IdToken credential with the default issuer there (the JWKS URL answers 404)")
	}
	return jwksDocument(creds), nil
}

// IssuerURL returns the default issuer URL of the root (folder "") or a
// folder, as Jenkins computes it from its root URL.
func (j *Jenkins) IssuerURL(folder string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	ctx := j.root
	if folder != "" {
		if f := j.lookupLocked(folder); f != nil {
			ctx = f
		}
	}
	root := j.rootURL
	if root == "" {
		root = j.seenRoot
	}
	return issuerURL(root, ctx)
}

// lookupLocked resolves a full name; call with j.mu held.
func (j *Jenkins) lookupLocked(fullName string) *item {
	cur := j.root
	for _, seg := range strings.Split(strings.Trim(fullName, "/"), "/") {
		if cur == nil || seg == "" {
			return nil
		}
		cur = cur.child(seg)
	}
	return cur
}
