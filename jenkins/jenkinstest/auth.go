package jenkinstest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// Permission is a Jenkins permission id, as sent in X-Required-Permission.
type Permission string

// Permissions the emulator checks. Generic* ones are the abstract
// permissions the concrete ones are implied by.
const (
	Administer        Permission = "hudson.model.Hudson.Administer"
	Manage            Permission = "hudson.model.Hudson.Manage"
	SystemRead        Permission = "hudson.model.Hudson.SystemRead"
	OverallRead       Permission = "hudson.model.Hudson.Read"
	ItemCreate        Permission = "hudson.model.Item.Create"
	ItemConfigure     Permission = "hudson.model.Item.Configure"
	ItemRead          Permission = "hudson.model.Item.Read"
	ItemDelete        Permission = "hudson.model.Item.Delete"
	ItemExtendedRead  Permission = "hudson.model.Item.ExtendedRead"
	ItemBuild         Permission = "hudson.model.Item.Build"
	CredentialsCreate Permission = "com.cloudbees.plugins.credentials.CredentialsProvider.Create"
	CredentialsUpdate Permission = "com.cloudbees.plugins.credentials.CredentialsProvider.Update"
	CredentialsView   Permission = "com.cloudbees.plugins.credentials.CredentialsProvider.View"
	CredentialsDelete Permission = "com.cloudbees.plugins.credentials.CredentialsProvider.Delete"
	GenericRead       Permission = "hudson.security.Permission.GenericRead"
	GenericWrite      Permission = "hudson.security.Permission.GenericWrite"
	GenericCreate     Permission = "hudson.security.Permission.GenericCreate"
	GenericUpdate     Permission = "hudson.security.Permission.GenericUpdate"
	GenericDelete     Permission = "hudson.security.Permission.GenericDelete"
	GenericConfigure  Permission = "hudson.security.Permission.GenericConfigure"
)

// ReadOnly is what a typical read-only account holds.
var ReadOnly = []Permission{OverallRead, ItemRead, ItemExtendedRead}

// impliedBy is each permission's Permission.impliedBy, from core's
// Permission, Jenkins, Item and the credentials plugin's CredentialsProvider.
var impliedBy = map[Permission]Permission{
	OverallRead:       GenericRead,
	GenericRead:       Administer,
	Manage:            Administer,
	SystemRead:        Administer,
	GenericWrite:      Administer,
	GenericCreate:     GenericWrite,
	GenericUpdate:     GenericWrite,
	GenericDelete:     GenericWrite,
	GenericConfigure:  GenericUpdate,
	ItemCreate:        GenericCreate,
	ItemDelete:        GenericDelete,
	ItemConfigure:     GenericConfigure,
	ItemRead:          GenericRead,
	ItemExtendedRead:  ItemConfigure,
	ItemBuild:         GenericUpdate,
	CredentialsCreate: GenericCreate,
	CredentialsUpdate: GenericUpdate,
	CredentialsView:   GenericRead,
	CredentialsDelete: GenericDelete,
}

// User is a Jenkins account. Token is an API token (exempt from crumbs),
// Password the account password (needs a crumb and its session cookie on
// POST).
type User struct {
	Name        string
	Password    string
	Token       string
	Permissions []Permission
}

func (u *User) holds(p Permission) bool {
	for _, have := range u.Permissions {
		if have == p {
			return true
		}
	}
	return false
}

// principal is who a request runs as.
type principal struct {
	user     *User // nil: anonymous
	apiToken bool  // authenticated with an API token (crumb exempt)
}

func (p principal) name() string {
	if p.user == nil {
		return "anonymous"
	}
	return p.user.Name
}

// authenticate applies BasicHeaderProcessor: an API token first, then the
// password. Wrong credentials get 401 with WWW-Authenticate; no
// Authorization header means anonymous (or the session's user).
func (j *Jenkins) authenticate(w http.ResponseWriter, r *http.Request) (principal, bool) {
	name, secret, ok := r.BasicAuth()
	j.mu.Lock()
	defer j.mu.Unlock()
	if !ok {
		if c, err := r.Cookie(j.cookieName); err == nil {
			if u := j.users[j.sessions[c.Value]]; u != nil {
				return principal{user: u}, true
			}
		}
		return principal{}, true
	}
	u := j.users[name]
	if u != nil && u.Token != "" && subtle.ConstantTimeCompare([]byte(u.Token), []byte(secret)) == 1 {
		return principal{user: u, apiToken: true}, true
	}
	if u != nil && u.Password != "" && subtle.ConstantTimeCompare([]byte(u.Password), []byte(secret)) == 1 {
		return principal{user: u}, true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="Jenkins"`)
	w.Header().Set("Content-Type", "text/html;charset=iso-8859-1")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, "<html><head><title>Error 401 Invalid password/token for user: %s</title></head><body><h2>HTTP ERROR 401 Invalid password/token for user: %s</h2></body></html>\n",
		html.EscapeString(name), html.EscapeString(name))
	return principal{}, false
}

// has reports whether p holds perm or a permission implying it.
func (j *Jenkins) has(p principal, perm Permission) bool {
	var held func(Permission) bool
	if p.user == nil {
		held = func(x Permission) bool {
			return j.o.anonymousRead && (x == OverallRead || x == ItemRead)
		}
	} else {
		held = p.user.holds
	}
	for x := perm; x != ""; x = impliedBy[x] {
		if held(x) {
			return true
		}
	}
	return false
}

// require checks perm and, when missing, answers 403 the way
// AccessDeniedHandlerImpl / HudsonAuthenticationEntryPoint do.
func (j *Jenkins) require(q *request, perm Permission) bool {
	if j.has(q.p, perm) {
		return true
	}
	h := q.w.Header()
	j.advertiseHeaders(q.w)
	h.Set("X-You-Are-Authenticated-As", j.headerValue(q.p.name()))
	h.Set("X-You-Are-In-Group-Disabled", "JENKINS-39402: use -Dhudson.security.AccessDeniedException2.REPORT_GROUP_HEADERS=true or use /whoAmI to diagnose")
	h.Set("X-Required-Permission", string(perm))
	for x := impliedBy[perm]; x != ""; x = impliedBy[x] {
		h.Add("X-Permission-Implied-By", string(x))
	}
	if q.r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		q.w.WriteHeader(http.StatusForbidden)
		return false
	}
	h.Set("Content-Type", "text/html;charset=utf-8")
	q.w.WriteHeader(http.StatusForbidden)
	if q.p.user == nil {
		from := url.QueryEscape(q.r.URL.RequestURI())
		fmt.Fprintf(q.w, "<html><head><meta http-equiv='refresh' content='1;url=/login?from=%s'/><script id='redirect' data-redirect-url='/login?from=%s' src='/static/redirect.js'></script></head><body style='background-color:white; color:white;'>\nAuthentication required\n<!--\n-->\n</body></html>\n", from, from)
		return false
	}
	fmt.Fprintf(q.w, "<!DOCTYPE html><html><head><title>Access Denied [Jenkins]</title></head><body><h1>Access Denied</h1><p>%s is missing the %s permission</p></body></html>\n",
		html.EscapeString(q.p.name()), html.EscapeString(permTitle(perm)))
	return false
}

// permTitle renders "Overall/Read" style names for the access-denied page.
func permTitle(p Permission) string {
	s := string(p)
	i := strings.LastIndexByte(s, '.')
	group := s[:i]
	group = group[strings.LastIndexByte(group, '.')+1:]
	switch group {
	case "Hudson":
		group = "Overall"
	case "Item":
		group = "Job"
	case "CredentialsProvider":
		group = "Credentials"
	}
	return group + "/" + s[i+1:]
}

// crumbFor is DefaultCrumbIssuer's crumb: SHA-256 over user and session id
// (client IP is no longer included since 2.543) and a per-instance salt.
func (j *Jenkins) crumbFor(user, session string) string {
	sum := sha256.Sum256([]byte(user + ";" + session + string(j.salt)))
	return hex.EncodeToString(sum[:])
}

// serveCrumb serves /crumbIssuer/api/json, creating a session as
// req.getSession() does, so the crumb is bound to its cookie.
func (j *Jenkins) serveCrumb(q *request, segs []string) {
	if !j.o.csrf {
		notFound(q)
		return
	}
	doubled := len(segs) == 4 && segs[2] == "api" && segs[3] == "json"
	xpath := len(segs) == 2 && segs[1] == "xml" && q.r.URL.Query().Get("xpath") == `concat(//crumbRequestField,":",//crumb)`
	if !(len(segs) == 2 || doubled && j.o.doubledCrumbPath) || segs[0] != "api" || segs[1] != "json" && !xpath {
		notFound(q)
		return
	}
	j.mu.Lock()
	sid := ""
	if c, err := q.r.Cookie(j.cookieName); err == nil {
		if _, ok := j.sessions[c.Value]; ok {
			sid = c.Value
		}
	}
	if sid == "" {
		sid = "node0" + randHex(10) + ".node0"
		j.sessions[sid] = ""
		http.SetCookie(q.w, &http.Cookie{Name: j.cookieName, Value: sid, Path: "/", HttpOnly: true})
	}
	if q.p.user != nil {
		j.sessions[sid] = q.p.user.Name
	}
	crumb := j.crumbFor(q.p.name(), sid)
	j.mu.Unlock()
	if xpath {
		// The documented shell idiom gets "Jenkins-Crumb:<crumb>" as text.
		j.apiHeaders(q.w)
		q.w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		fmt.Fprintf(q.w, "Jenkins-Crumb:%s", crumb)
		return
	}
	n := newNode("hudson.security.csrf.DefaultCrumbIssuer").add("crumb", crumb).add("crumbRequestField", "Jenkins-Crumb")
	j.writeAPI(q, n)
}

// checkCrumb is CrumbFilter for POSTs: API-token requests are exempt
// (ApiCrumbExclusion); everything else needs the crumb of its session.
func (j *Jenkins) checkCrumb(q *request) bool {
	if !j.o.csrf || q.p.apiToken {
		return true
	}
	crumb := q.r.Header.Get("Jenkins-Crumb")
	if crumb == "" && strings.HasPrefix(q.r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// ParseForm keeps the body in r.PostForm for the handler.
		if err := q.r.ParseForm(); err == nil {
			crumb = q.r.PostForm.Get("Jenkins-Crumb")
		}
	}
	if crumb == "" {
		crumb = q.r.URL.Query().Get("Jenkins-Crumb")
	}
	j.mu.Lock()
	ok := false
	if c, err := q.r.Cookie(j.cookieName); err == nil {
		if _, known := j.sessions[c.Value]; known && crumb != "" {
			want := j.crumbFor(q.p.name(), c.Value)
			ok = subtle.ConstantTimeCompare([]byte(want), []byte(crumb)) == 1
		}
	}
	j.mu.Unlock()
	if ok {
		return true
	}
	q.w.Header().Set("Content-Type", "text/html;charset=iso-8859-1")
	q.w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(q.w, "<html><head><title>Error 403 No valid crumb was included in the request</title></head><body><h2>HTTP ERROR 403 No valid crumb was included in the request</h2></body></html>\n")
	return false
}
