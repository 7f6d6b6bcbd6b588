package jenkinstest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Credential classes the emulator knows.
const (
	ClassIDTokenString  = "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials"
	ClassIDTokenFile    = "io.jenkins.plugins.oidc_provider.IdTokenFileCredentials"
	ClassSecretText     = "org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl"
	ClassSecretFile     = "org.jenkinsci.plugins.plaincredentials.impl.FileCredentialsImpl"
	ClassUsernamePasswd = "com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl"
)

type credClass struct {
	plugin   string
	typeName string
}

var credClasses = map[string]credClass{
	ClassIDTokenString:  {"oidc-provider", "OpenID Connect id token"},
	ClassIDTokenFile:    {"oidc-provider", "OpenID Connect id token as file"},
	ClassSecretText:     {"plain-credentials", "Secret text"},
	ClassSecretFile:     {"plain-credentials", "Secret file"},
	ClassUsernamePasswd: {"credentials", "Username with password"},
}

// store is one credentials store's global domain ("_"); other domains are
// not emulated (the oidc-provider plugin ignores them anyway).
type store struct {
	id    string // "system" or "folder"
	creds []*credential
	// saved is set once a change saved the folder holding the store: its
	// config.xml is in XStream's form from then on.
	saved bool
}

func newStore(id string) *store { return &store{id: id} }

func (s *store) get(id string) *credential {
	for _, c := range s.creds {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (s *store) index(id string) int {
	for i, c := range s.creds {
		if c.id == id {
			return i
		}
	}
	return -1
}

// credential is one stored credential.
type credential struct {
	class       string
	scope       string
	id          string
	description string
	// IdToken*Credentials
	key      *rsa.PrivateKey
	issuer   string
	audience string
	// secret text / username+password / file
	secret         string
	username       string
	password       string
	usernameSecret bool
	fileName       string
	secretBytes    []byte
}

func (c *credential) isIDToken() bool {
	return c.class == ClassIDTokenString || c.class == ClassIDTokenFile
}

// storeOf returns the store of a context; call with j.mu held.
func (j *Jenkins) storeOf(ctx *item) *store {
	if ctx.kind == kindRoot {
		return j.system
	}
	return ctx.store
}

// serveCredentials serves {context}/credentials/store/{id}/domain/_/...
func (j *Jenkins) serveCredentials(q *request, ctx *item, segs []string) {
	if !j.pluginActive("credentials") || ctx.kind == kindFolder && !j.pluginActive("cloudbees-folder") {
		notFound(q)
		return
	}
	// ViewCredentialsAction hides stores from users without View.
	if !j.require(q, CredentialsView) {
		return
	}
	j.mu.Lock()
	st := j.storeOf(ctx)
	j.mu.Unlock()
	if len(segs) == 0 {
		page(q, http.StatusOK, "Credentials")
		return
	}
	// store/<id>/domain/_/..., each level with its own page.
	for _, level := range [][3]string{{"store", st.id, "Credentials store"}, {"domain", "_", "Global credentials (unrestricted)"}} {
		if len(segs) < 2 || segs[0] != level[0] || segs[1] != level[1] {
			notFound(q)
			return
		}
		if segs = segs[2:]; len(segs) == 0 {
			page(q, http.StatusOK, level[2])
			return
		}
	}
	switch segs[0] {
	case "api":
		if len(segs) != 2 || segs[1] != "json" {
			notFound(q)
			return
		}
		j.mu.Lock()
		n := j.domainModel(ctx, st)
		j.mu.Unlock()
		j.writeAPI(q, n)
	case "createCredentials":
		if requirePOST(q) && j.require(q, CredentialsCreate) {
			j.createCredentials(q, ctx, st)
		}
	case "credential", "credentials":
		if len(segs) < 2 {
			notFound(q)
			return
		}
		j.mu.Lock()
		c := st.get(segs[1])
		j.mu.Unlock()
		if c == nil {
			notFound(q)
			return
		}
		j.serveCredential(q, ctx, st, c, segs[2:])
	default:
		notFound(q)
	}
}

// storeName is a store's full name: "system" or "<folder>/folder".
func storeName(ctx *item) string {
	if ctx.kind == kindRoot {
		return "system"
	}
	return ctx.fullName() + "/folder"
}

func (j *Jenkins) domainModel(ctx *item, st *store) *node {
	display := "System"
	if ctx.kind != kindRoot {
		display = j.displayPath(ctx)
	}
	n := newNode("com.cloudbees.plugins.credentials.CredentialsStoreAction$DomainWrapper")
	list := []*node{}
	for _, c := range st.creds {
		list = append(list, credModel(storeName(ctx), c))
	}
	n.add("credentials", list)
	n.add("description", "Credentials that should be available irrespective of domain specification to requirements matching.")
	n.add("displayName", "Global credentials (unrestricted)")
	n.add("fullDisplayName", display+" » Global credentials (unrestricted)")
	n.add("fullName", storeName(ctx)+"/_")
	n.add("global", true)
	n.add("urlName", "_")
	return n
}

// credModel is CredentialsWrapper's exported bean (its declared type is
// exact, so no _class).
func credModel(storeName string, c *credential) *node {
	display := c.id
	if c.description != "" {
		display = c.description
	}
	if c.class == ClassUsernamePasswd {
		display = c.username + "/****** "
		if c.description != "" {
			display += "(" + c.description + ")"
		}
	}
	return newNode("").add("description", c.description).add("displayName", display).add("fingerprint", nil).
		add("fullName", storeName+"/_/"+rawEncode(c.id)).add("id", c.id).add("typeName", credClasses[c.class].typeName)
}

// credentialsJSONAnswers is the credentials plugin release (1488.v9049e8c8b_d98,
// "New credentials dialog", jenkinsci/credentials-plugin#992) from which
// the form actions answer JSON to Accept: application/json; before it they
// always redirect, a duplicate id included.
const credentialsJSONAnswers = "1488"

// wantsJSON reports whether the client asked for the JSON answers and the
// installed credentials plugin gives them instead of redirects.
func (j *Jenkins) wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") && j.pluginAtLeast("credentials", credentialsJSONAnswers)
}

func writeNotification(q *request, msg, kind string) {
	q.w.Header().Set("Content-Type", "application/json;charset=utf-8")
	q.w.WriteHeader(http.StatusOK)
	fmt.Fprintf(q.w, `{"message":%q,"notificationType":%q}`, msg, kind)
}

// redirect answers 302 with Location resolved against the request URL.
func redirect(q *request, rel string) {
	base, err := url.Parse(q.root)
	if err == nil {
		base = base.ResolveReference(&url.URL{Path: strings.TrimPrefix(q.r.URL.Path, "/")})
		if u, err := base.Parse(rel); err == nil {
			rel = u.String()
		}
	}
	q.w.Header().Set("Location", rel)
	q.w.WriteHeader(http.StatusFound)
}

// createCredentials is DomainWrapper.doCreateCredentials.
func (j *Jenkins) createCredentials(q *request, ctx *item, st *store) {
	ct := q.r.Header.Get("Content-Type")
	if ct == "" {
		failure(q, "No Content-Type header set")
		return
	}
	if strings.HasPrefix(ct, "application/xml") || strings.HasPrefix(ct, "text/xml") {
		c, ok := readBody(q, "", j.credentialFromXML)
		if !ok {
			return
		}
		if !j.addCredential(st, c) {
			q.w.WriteHeader(http.StatusConflict)
			return
		}
		q.w.WriteHeader(http.StatusOK)
		return
	}
	data, err := submittedForm(q.r)
	if err != nil {
		serverError(q, err)
		return
	}
	raw, ok := data["credentials"]
	if !ok {
		serverError(q, errors.New(`net.sf.json.JSONException: JSONObject["credentials"] is not a JSONObject (the json form field must be {"credentials":{"$class":...}})`))
		return
	}
	c, err := j.credentialFromForm(raw)
	if err != nil {
		serverError(q, err)
		return
	}
	dup := !j.addCredential(st, c)
	switch {
	case j.wantsJSON(q.r) && dup:
		writeNotification(q, "Credentials with specified ID already exist", "ERROR")
	case j.wantsJSON(q.r):
		writeNotification(q, "Credentials created", "SUCCESS")
	default:
		redirect(q, "../../domain/_")
	}
}

// addCredential is CredentialsStore.addCredentials: false when a
// credential with the same id (of any type) exists.
func (j *Jenkins) addCredential(st *store, c *credential) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if st.get(c.id) != nil {
		return false
	}
	st.creds = append(st.creds, c)
	st.saved = true
	return true
}

// serveCredential serves .../credential/{id}/...
func (j *Jenkins) serveCredential(q *request, ctx *item, st *store, c *credential, segs []string) {
	if len(segs) == 0 {
		page(q, http.StatusOK, c.id)
		return
	}
	switch segs[0] {
	case "api":
		if len(segs) != 2 || segs[1] != "json" {
			notFound(q)
			return
		}
		j.mu.Lock()
		n := credModel(storeName(ctx), c)
		j.mu.Unlock()
		n.class = "com.cloudbees.plugins.credentials.CredentialsStoreAction$CredentialsWrapper"
		j.writeAPI(q, n)
	case "config.xml":
		switch q.r.Method {
		case http.MethodGet:
			if !j.require(q, CredentialsView) {
				return
			}
			j.mu.Lock()
			body := j.credentialXML(c)
			j.mu.Unlock()
			writeBody(q, "application/xml;charset=UTF-8", body)
		case http.MethodPost:
			if !j.require(q, CredentialsUpdate) {
				return
			}
			nc, ok := readBody(q, "java.io.IOException: Failed to parse credential", j.credentialFromXML)
			if !ok {
				return
			}
			if err := j.replaceCredential(st, c, nc); err != nil {
				serverError(q, err)
				return
			}
			q.w.WriteHeader(http.StatusOK)
		case http.MethodDelete:
			if !j.require(q, CredentialsDelete) {
				return
			}
			if !j.removeCredential(st, c) {
				q.w.WriteHeader(http.StatusConflict)
				return
			}
			q.w.WriteHeader(http.StatusOK)
		default:
			q.w.WriteHeader(http.StatusBadRequest)
		}
	case "doDelete":
		if !requirePOST(q) || !j.require(q, CredentialsDelete) {
			return
		}
		removed := j.removeCredential(st, c)
		switch {
		case j.wantsJSON(q.r) && removed:
			writeNotification(q, "Credentials deleted", "SUCCESS")
		case j.wantsJSON(q.r):
			writeNotification(q, "Failed to delete credentials", "ERROR")
		case removed:
			redirect(q, "../..")
		default:
			redirect(q, ".")
		}
	case "updateSubmit":
		if !requirePOST(q) || !j.require(q, CredentialsUpdate) {
			return
		}
		data, err := submittedForm(q.r)
		if err != nil {
			serverError(q, err)
			return
		}
		raw, err := json.Marshal(data)
		if err != nil {
			serverError(q, err)
			return
		}
		nc, err := j.credentialFromForm(raw)
		if err != nil {
			serverError(q, err)
			return
		}
		if err := j.replaceCredential(st, c, nc); err != nil {
			serverError(q, err)
			return
		}
		if j.wantsJSON(q.r) {
			writeNotification(q, "Credentials updated", "SUCCESS")
			return
		}
		redirect(q, ".")
	default:
		notFound(q)
	}
}

// replaceCredential is CredentialsStore.updateCredentials: ids must match.
func (j *Jenkins) replaceCredential(st *store, old, nc *credential) error {
	if old.id != nc.id {
		return javaError("java.lang.IllegalArgumentException: Credentials' IDs do not match, will not update.")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	i := st.index(old.id)
	if i < 0 {
		return errors.New("java.io.IOException: credentials were removed concurrently")
	}
	st.creds[i] = nc
	st.saved = true
	return nil
}

func (j *Jenkins) removeCredential(st *store, c *credential) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	i := st.index(c.id)
	if i < 0 {
		return false
	}
	st.creds = append(st.creds[:i], st.creds[i+1:]...)
	st.saved = true
	return true
}

// submittedForm is StaplerRequest.getSubmittedForm: the "json" form field.
func submittedForm(r *http.Request) (map[string]json.RawMessage, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return nil, fmt.Errorf("javax.servlet.ServletException: %w", err)
	}
	js := r.PostForm.Get("json")
	if js == "" {
		return nil, errors.New("javax.servlet.ServletException: This page expects a form submission but had only {}")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &data); err != nil {
		return nil, fmt.Errorf("net.sf.json.JSONException: %w", err)
	}
	return data, nil
}

// credentialFromForm is Descriptor.bindJSON: the @DataBoundConstructor
// runs, so IdToken credentials get a fresh RSA key pair.
func (j *Jenkins) credentialFromForm(raw json.RawMessage) (*credential, error) {
	var f map[string]any
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("net.sf.json.JSONException: %w", err)
	}
	str := func(k string) string {
		if v, ok := f[k].(string); ok {
			return v
		}
		return ""
	}
	class := str("$class")
	if class == "" {
		class = str("stapler-class")
	}
	if class == "" {
		return nil, errors.New("java.lang.InstantiationException: com.cloudbees.plugins.credentials.Credentials is abstract (no $class or stapler-class in the form)")
	}
	cc, ok := credClasses[class]
	if !ok || !j.pluginActive(cc.plugin) {
		return nil, fmt.Errorf("java.lang.ClassNotFoundException: %s", class)
	}
	c := &credential{class: class, scope: str("scope"), id: str("id"), description: str("description")}
	if c.scope == "" {
		c.scope = "GLOBAL"
	}
	if c.id == "" {
		c.id = newUUID() // IdCredentials.Helpers.fixEmptyId
	}
	switch class {
	case ClassIDTokenString, ClassIDTokenFile:
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		c.key = key
		// setIssuer/setAudience apply Util.fixEmpty, which does not trim.
		c.issuer = str("issuer")
		c.audience = str("audience")
	case ClassSecretText:
		c.secret = str("secret")
	case ClassUsernamePasswd:
		c.username, c.password = str("username"), str("password")
		c.usernameSecret, _ = f["usernameSecret"].(bool)
	case ClassSecretFile:
		c.fileName = str("fileName")
		b, err := base64.StdEncoding.DecodeString(str("secretBytes"))
		if err != nil {
			return nil, fmt.Errorf("java.lang.IllegalArgumentException: secretBytes: %w", err)
		}
		c.secretBytes = b
	}
	return c, nil
}

// credentialFromXML is Items.XSTREAM.unmarshal: no constructor runs, so an
// IdToken credential needs its key in <privateKey> (plaintext Base64 PKCS#8)
// and readResolve fails without one.
func (j *Jenkins) credentialFromXML(body []byte) (*credential, error) {
	dom, err := parseXML(body)
	if err != nil {
		return nil, fmt.Errorf("java.io.IOException: Failed to parse credential: %w", err)
	}
	class := xstreamClass(dom.name)
	cc, ok := credClasses[class]
	if !ok || !j.pluginActive(cc.plugin) {
		return nil, fmt.Errorf("com.thoughtworks.xstream.mapper.CannotResolveClassException: %s", dom.name)
	}
	c := &credential{class: class, scope: dom.childText("scope"), id: dom.childText("id"), description: dom.childText("description")}
	if c.id == "" {
		return nil, errors.New("java.lang.NullPointerException: credentials id is null (no <id> element)")
	}
	switch class {
	case ClassIDTokenString, ClassIDTokenFile:
		pk := dom.child("privateKey")
		if pk == nil {
			return nil, errors.New(`java.lang.NullPointerException: Cannot invoke "hudson.util.Secret.getPlainText()" because "this.privateKey" is null`)
		}
		// java.util.Base64's basic decoder refuses whitespace, so the key
		// must be the element's whole text.
		text := pk.text()
		if i := strings.IndexAny(text, " \t\r\n"); i >= 0 {
			return nil, javaError(fmt.Sprintf("java.lang.IllegalArgumentException: Illegal base64 character %x (whitespace in <privateKey>)", text[i]))
		}
		der, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("java.lang.IllegalArgumentException: Illegal base64 character in privateKey: %w", err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("java.security.spec.InvalidKeySpecException: %w", err)
		}
		key, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("java.lang.ClassCastException: privateKey is not an RSA key")
		}
		c.key = key
		c.issuer = dom.childText("issuer")
		c.audience = dom.childText("audience")
	case ClassSecretText:
		c.secret = dom.childText("secret")
	case ClassUsernamePasswd:
		c.username, c.password = dom.childText("username"), dom.childText("password")
		c.usernameSecret = dom.childText("usernameSecret") == "true"
	case ClassSecretFile:
		c.fileName = dom.childText("fileName")
		b, err := base64.StdEncoding.DecodeString(dom.childText("secretBytes"))
		if err != nil {
			return nil, fmt.Errorf("java.lang.IllegalArgumentException: secretBytes: %w", err)
		}
		c.secretBytes = b
	}
	return c, nil
}

// credentialXML is the SECRETS_REDACTED XStream form (XStream.toXML, so no
// XML declaration); call with j.mu held.
func (j *Jenkins) credentialXML(c *credential) []byte {
	el := func(name, text string) *xnode { return &xnode{name: name, kids: []any{text}} }
	redacted := func(name string) *xnode { return &xnode{name: name, kids: []any{&xnode{name: "secret-redacted"}}} }
	root := &xnode{name: xstreamElement(c.class)}
	scope := c.scope
	if scope == "" {
		scope = "GLOBAL"
	}
	root.kids = append(root.kids, el("scope", scope), el("id", c.id), el("description", c.description))
	switch c.class {
	case ClassIDTokenString, ClassIDTokenFile:
		root.kids = append(root.kids, redacted("privateKey"))
		if c.issuer != "" {
			root.kids = append(root.kids, el("issuer", c.issuer))
		}
		if c.audience != "" {
			root.kids = append(root.kids, el("audience", c.audience))
		}
	case ClassSecretText:
		root.kids = append(root.kids, redacted("secret"))
	case ClassUsernamePasswd:
		root.kids = append(root.kids, el("usernameSecret", fmt.Sprint(c.usernameSecret)), el("username", c.username), redacted("password"))
	case ClassSecretFile:
		root.kids = append(root.kids, el("fileName", c.fileName), redacted("secretBytes"))
	}
	return xstreamBody(root, j.versionsLocked())
}

// folderCredsProperty is the folder property holding its credential store.
const folderCredsProperty = "com.cloudbees.hudson.plugins.folder.properties.FolderCredentialsProvider_-FolderCredentialsProperty"

// folderConfigWithStore returns a folder's config.xml. A change to its
// credential store saves the folder (FolderCredentialsProvider), so from
// then on it is in XStream's form with the store in <properties>
// (secrets encrypted, here a stand-in "{AQAAAB...}" that only this
// emulator would read back as garbage). Call with j.mu held.
func (j *Jenkins) folderConfigWithStore(it *item) []byte {
	if it.store == nil || !it.store.saved {
		return it.config
	}
	dom, err := parseXML(it.config)
	if err != nil {
		return it.config
	}
	if len(it.store.creds) == 0 {
		return xstreamXML(dom, j.versionsLocked())
	}
	props := dom.child("properties")
	if props == nil {
		props = &xnode{name: "properties"}
		dom.kids = append(dom.kids, props)
	}
	if findDescendant(props, folderCredsProperty) != nil {
		return xstreamXML(dom, j.versionsLocked())
	}
	list := &xnode{name: "java.util.concurrent.CopyOnWriteArrayList"}
	for _, c := range it.store.creds {
		cd, err := parseXML(j.credentialXML(c))
		if err != nil {
			continue
		}
		for _, k := range cd.elems() {
			if r := k.child("secret-redacted"); r != nil {
				k.kids = []any{"{AQAAABAAAAAQ" + base64.StdEncoding.EncodeToString([]byte(randHex(12))) + "}"}
			}
		}
		list.kids = append(list.kids, cd)
	}
	entry := &xnode{name: "entry", kids: []any{
		&xnode{name: "com.cloudbees.plugins.credentials.domains.Domain", kids: []any{&xnode{name: "specifications"}}},
		list,
	}}
	prop := &xnode{name: folderCredsProperty, kids: []any{
		&xnode{name: "domainCredentialsMap", attrs: xmlAttrs("class", "hudson.util.CopyOnWriteMap$Hash"), kids: []any{entry}},
	}}
	props.kids = append(props.kids, prop)
	return xstreamXML(dom, j.versionsLocked())
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
