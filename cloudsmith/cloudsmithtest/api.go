package cloudsmithtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// errorBody is Cloudsmith's ErrorDetail: "All error responses contain at
// least a detail attribute"; 422s add fields (and, per the docs' example,
// code "invalid").
type errorBody struct {
	Detail string              `json:"detail"`
	Fields map[string][]string `json:"fields,omitempty"`
	Code   string              `json:"code,omitempty"`
}

// DRF's standard messages, which Cloudsmith's API returns.
const (
	msgNotFound      = "Not found."
	msgInvalidToken  = "Invalid token."
	msgNoCredentials = "Authentication credentials were not provided."
	msgForbidden     = "You do not have permission to perform this action."
	msgRequired      = "This field is required."
	msgBlank         = "This field may not be blank."
	msgNull          = "This field may not be null."
	msgNotString     = "Not a valid string."
	msgInvalidInput  = "Invalid input."
)

const maxBody = 1 << 20

// decodeObject reads a JSON object body the way DRF's JSONParser does:
// 415 for other media types (none included), 400 "JSON parse error - ..."
// for bad JSON, 422 for JSON that is not an object. An empty body is an
// empty object. ok is
// false when a response was already written.
func decodeObject(w http.ResponseWriter, r *http.Request) (obj map[string]json.RawMessage, ok bool) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeDetail(w, http.StatusBadRequest, "Could not read the request body.")
		return nil, false
	}
	if len(raw) > maxBody {
		writeDetail(w, http.StatusRequestEntityTooLarge, "Request body too large.")
		return nil, false
	}
	// DRF's Request._parse: no body is empty data whatever the type; a
	// body is parsed only by the parser its Content-Type names, so one
	// sent without a Content-Type is 415 (media type "").
	if len(raw) == 0 {
		return map[string]json.RawMessage{}, true
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		writeDetail(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Unsupported media type %q in request.", ct))
		return nil, false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]json.RawMessage{}, true
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		writeDetail(w, http.StatusBadRequest, "JSON parse error - "+jsonErrorText(raw, err))
		return nil, false
	}
	if dec.More() {
		writeDetail(w, http.StatusBadRequest, "JSON parse error - Extra data")
		return nil, false
	}
	if _, isObj := v.(map[string]any); !isObj {
		fe := fieldErrors{}
		fe.add("non_field_errors", fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", pyTypeName(v)))
		writeFieldErrors(w, fe)
		return nil, false
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		writeDetail(w, http.StatusBadRequest, "JSON parse error - "+err.Error())
		return nil, false
	}
	return obj, true
}

// jsonErrorText phrases a decode error like Python's json module, which is
// what Cloudsmith's messages come from ("Expecting value: line 1 column 1
// (char 0)").
func jsonErrorText(raw []byte, err error) string {
	var se *json.SyntaxError
	off := len(raw)
	if errors.As(err, &se) {
		off = int(se.Offset)
		if off > 0 {
			off-- // Offset counts the offending byte.
		}
	}
	line, col := 1, 1
	for _, b := range raw[:min(off, len(raw))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("Expecting value: line %d column %d (char %d)", line, col, off)
}

func pyTypeName(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number, float64:
		return "int"
	case nil:
		return "NoneType"
	}
	return "object"
}

// stringField validates a string field; present reports whether the key
// was in the body at all.
func stringField(obj map[string]json.RawMessage, fe fieldErrors, name string, required, allowNull bool, maxLen int) (val string, present, isNull bool) {
	raw, ok := obj[name]
	if !ok {
		if required {
			fe.add(name, msgRequired)
		}
		return "", false, false
	}
	if string(raw) == "null" {
		if !allowNull {
			fe.add(name, msgNull)
		}
		return "", true, true
	}
	if err := json.Unmarshal(raw, &val); err != nil {
		fe.add(name, msgNotString)
		return "", true, false
	}
	if strings.TrimSpace(val) == "" {
		fe.add(name, msgBlank)
		return "", true, false
	}
	if maxLen > 0 && len([]rune(val)) > maxLen {
		fe.add(name, fmt.Sprintf("Ensure this field has no more than %d characters.", maxLen))
	}
	return val, true, false
}

// credential extracts the secret a request presents, in any of the forms
// Cloudsmith accepts: X-Api-Key (optionally "Bearer ..."), Authorization
// Bearer/Token, or HTTP Basic with the secret as password (any user name;
// Cloudsmith's tools use "token").
func credential(r *http.Request) (secret string, present bool) {
	if v := strings.TrimSpace(r.Header.Get("X-Api-Key")); v != "" {
		for _, p := range []string{"Bearer ", "Token "} {
			if len(v) > len(p) && strings.EqualFold(v[:len(p)], p) {
				v = strings.TrimSpace(v[len(p):])
			}
		}
		return v, true
	}
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return "", false
	}
	scheme, rest, _ := strings.Cut(auth, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return rest, true
	case "basic":
		dec, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", true
		}
		_, pass, ok := strings.Cut(string(dec), ":")
		if !ok {
			return "", true
		}
		return pass, true
	}
	return "", true
}

// principal is who a credential belongs to.
type principal struct {
	kind    string // "api-key", "service-key" or "token"
	org     string // empty for the owner's API key, which spans all orgs
	service string
	role    string
}

func (p *principal) inOrg(org string) bool { return p.org == "" || p.org == org }

// slug is the name of the user or service the credential belongs to.
func (p *principal) slug() string {
	if p.service != "" {
		return p.service
	}
	return ownerUser
}

func (p *principal) canManage(org string) bool {
	return p.org == "" || (p.org == org && p.role == "Manager")
}

// authenticate resolves a request's credential. present is false when none
// was sent; reason explains a rejected one (for the log only).
func (c *Cloudsmith) authenticate(r *http.Request) (p *principal, present bool, reason string) {
	secret, present := credential(r)
	if !present {
		return nil, false, "no credentials"
	}
	if secret == "" {
		return nil, true, "malformed credentials"
	}
	if secret == c.apiKey {
		return &principal{kind: "api-key"}, true, ""
	}
	c.mu.Lock()
	for _, o := range c.orgs {
		for _, s := range o.services {
			if s.Key == secret {
				c.mu.Unlock()
				return &principal{kind: "service-key", org: o.slug, service: s.Slug, role: s.Role}, true, ""
			}
		}
	}
	c.mu.Unlock()
	if strings.Count(secret, ".") == 2 {
		p, err := c.verifyIssued(secret)
		if err != nil {
			return nil, true, err.Error()
		}
		return p, true, ""
	}
	return nil, true, "unknown API key"
}

// serveAPI routes the API host. Paths are also served under /v1/, as
// Cloudsmith's are; the exchange lives only at the root.
func (c *Cloudsmith) serveAPI(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	v1 := strings.HasPrefix(path, "/v1/")
	if v1 {
		path = strings.TrimPrefix(path, "/v1")
	}
	// The OpenAPI description spells the privileges endpoint without a
	// trailing slash (the Terraform provider calls it so); it is served
	// with and without one.
	if seg := strings.Split(strings.Trim(path, "/"), "/"); len(seg) == 4 && seg[0] == "repos" && seg[3] == "privileges" {
		c.requireAPI(w, r, func(p *principal) { c.servePrivileges(w, r, p, seg[1], seg[2]) })
		return
	}
	if !strings.HasSuffix(path, "/") {
		// Django's APPEND_SLASH: GETs are redirected, other methods fail.
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			u := *r.URL
			u.Path += "/"
			http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
			return
		}
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range seg {
		if u, err := url.PathUnescape(s); err == nil {
			seg[i] = u
		}
	}
	switch {
	case !v1 && len(seg) == 2 && seg[0] == "openid":
		c.serveExchange(w, r, seg[1])
	case len(seg) == 2 && seg[0] == "user" && seg[1] == "self":
		c.serveUserSelf(w, r)
	case len(seg) >= 3 && seg[0] == "orgs" && seg[2] == "services":
		c.manage(w, r, seg[1], func(p *principal) { c.serveServices(w, r, seg[1], seg[3:]) })
	case len(seg) >= 3 && seg[0] == "orgs" && seg[2] == "openid-connect":
		c.manage(w, r, seg[1], func(p *principal) { c.serveProviders(w, r, seg[1], seg[3:]) })
	case len(seg) == 3 && seg[0] == "files":
		c.serveFilesCreate(w, r, seg[1], seg[2])
	case len(seg) == 5 && seg[0] == "packages" && seg[3] == "upload":
		c.servePackageUpload(w, r, seg[1], seg[2], seg[4])
	case !v1 && len(seg) == 2 && seg[0] == "_upload":
		c.serveUploadTarget(w, r, seg[1])
	default:
		writeDetail(w, http.StatusNotFound, msgNotFound)
	}
}

// requireAuth authenticates an API call, writing DRF's 401 when it fails.
func (c *Cloudsmith) requireAuth(w http.ResponseWriter, r *http.Request) *principal {
	p, present, reason := c.authenticate(r)
	if p == nil {
		noteFailure(r, reason)
		if !present {
			writeDetail(w, http.StatusUnauthorized, msgNoCredentials)
		} else {
			writeDetail(w, http.StatusUnauthorized, msgInvalidToken)
		}
		return nil
	}
	noteAuth(r, p.kind)
	return p
}

// requireAPI authenticates an API call (401) before running next.
func (c *Cloudsmith) requireAPI(w http.ResponseWriter, r *http.Request, next func(*principal)) {
	if p := c.requireAuth(w, r); p != nil {
		next(p)
	}
}

// manage authenticates a management call (401), finds the org (404) and
// checks the caller may manage it (403) before running next.
func (c *Cloudsmith) manage(w http.ResponseWriter, r *http.Request, org string, next func(*principal)) {
	p := c.requireAuth(w, r)
	if p == nil {
		return
	}
	c.mu.Lock()
	_, exists := c.orgs[org]
	c.mu.Unlock()
	if !exists || !p.inOrg(org) {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	if !p.canManage(org) {
		noteFailure(r, fmt.Sprintf("service %q has role %q, management needs Manager", p.service, p.role))
		writeDetail(w, http.StatusForbidden, msgForbidden)
		return
	}
	next(p)
}

// serveUserSelf answers GET /user/self/ (UserBrief), which clients use to
// check that a token works.
func (c *Cloudsmith) serveUserSelf(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	p := c.requireAuth(w, r)
	if p == nil {
		return
	}
	slug, name := ownerUser, "Emulator Owner"
	if p.service != "" {
		slug, name = p.service, p.service
	}
	base := baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"authenticated": true,
		"email":         slug + "@example.invalid",
		"name":          name,
		"slug":          slug,
		"slug_perm":     slug,
		"profile_url":   base + "/users/profile/" + slug + "/",
		"self_url":      base + "/user/self/",
	})
}

// baseURL is the scheme and host a request came to, for absolute links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// page applies Cloudsmith's page/page_size query parameters to n items,
// setting the X-Pagination-* headers. ok is false when the page does not
// exist and a 404 was written.
func (c *Cloudsmith) page(w http.ResponseWriter, r *http.Request, n int) (lo, hi int, ok bool) {
	q := r.URL.Query()
	size := c.cfg.pageSize
	if v, err := strconv.Atoi(q.Get("page_size")); err == nil && v > 0 {
		size = min(v, 1000)
	}
	page := 1
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			writeDetail(w, http.StatusNotFound, "Invalid page.")
			return 0, 0, false
		}
		page = p
	}
	total := max(1, (n+size-1)/size)
	if page > total {
		writeDetail(w, http.StatusNotFound, "Invalid page.")
		return 0, 0, false
	}
	h := w.Header()
	h.Set("X-Pagination-Count", strconv.Itoa(n))
	h.Set("X-Pagination-Page", strconv.Itoa(page))
	h.Set("X-Pagination-PageSize", strconv.Itoa(size))
	h.Set("X-Pagination-PageTotal", strconv.Itoa(total))
	// RFC 8288 links to the neighbouring pages, as Cloudsmith sends them.
	var links []string
	link := func(p int, rel string) {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("page_size", strconv.Itoa(size))
		u.RawQuery = q.Encode()
		links = append(links, fmt.Sprintf("<%s%s>; rel=%q", baseURL(r), u.RequestURI(), rel))
	}
	if page < total {
		link(page+1, "next")
	}
	if page > 1 {
		link(page-1, "prev")
	}
	link(1, "first")
	link(total, "last")
	h.Set("Link", strings.Join(links, ", "))
	lo = min((page-1)*size, n)
	return lo, min(lo+size, n), true
}
