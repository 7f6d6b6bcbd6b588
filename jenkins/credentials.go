package jenkins

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// XML root elements of the oidc-provider credential classes (XStream
// writes "_" in a class name as "__").
const (
	StringCredentialsElement = "io.jenkins.plugins.oidc__provider.IdTokenStringCredentials"
	FileCredentialsElement   = "io.jenkins.plugins.oidc__provider.IdTokenFileCredentials"
)

// IDTokenCredential is the non-secret part of an oidc-provider credential.
// Jenkins never returns the key, so it is not here.
type IDTokenCredential struct {
	ID string
	// Kind is "string" (IdTokenStringCredentials), "file"
	// (IdTokenFileCredentials), or "" for any other credential type
	// holding this id (then Class says which).
	Kind        string
	Description string
	Audience    string
	Issuer      string
	// Folder is the folder whose store holds it; "" for the system store.
	Folder string
	// Class is the Java class, e.g. io.jenkins.plugins.oidc_provider.IdTokenStringCredentials.
	Class string
	// Scope is "GLOBAL" or "SYSTEM" as config.xml says ("" if absent).
	// Builds see only GLOBAL credentials of the system store
	// (SystemCredentialsProvider.getCredentialsInItem).
	Scope string
}

// storePath is the global domain of the system store or a folder's store.
func storePath(folder string) (string, error) {
	if strings.Trim(folder, "/") == "" {
		return "credentials/store/system/domain/_/", nil
	}
	p, err := itemPath(folder)
	if err != nil {
		return "", fmt.Errorf("credential folder: %w", err)
	}
	return p + "credentials/store/folder/domain/_/", nil
}

func credentialPath(folder, id string) (string, error) {
	if id == "" {
		return "", errors.New("empty credential id")
	}
	sp, err := storePath(folder)
	if err != nil {
		return "", err
	}
	return sp + "credential/" + url.PathEscape(id) + "/", nil
}

// GetCredential reads credential id from the folder's store ("" = system)
// through its config.xml (secrets come back redacted). A missing
// credential is an error matching ErrNotFound.
func (c *Client) GetCredential(ctx context.Context, folder, id string) (*IDTokenCredential, error) {
	p, err := credentialPath(folder, id)
	if err != nil {
		return nil, err
	}
	r, err := c.do(ctx, request{method: http.MethodGet, path: p + "config.xml", accept: "application/xml"})
	if err != nil {
		return nil, fmt.Errorf("read credential %q: %w", id, err)
	}
	var v struct {
		XMLName     xml.Name
		ID          string `xml:"id"`
		Scope       string `xml:"scope"`
		Description string `xml:"description"`
		Issuer      string `xml:"issuer"`
		Audience    string `xml:"audience"`
	}
	if err := xml.Unmarshal(StripDeclaration(r.body), &v); err != nil {
		return nil, fmt.Errorf("read credential %q: Jenkins answered config.xml that does not parse: %w", id, err)
	}
	cred := &IDTokenCredential{ID: v.ID, Description: v.Description, Audience: v.Audience, Issuer: v.Issuer,
		Folder: strings.Trim(folder, "/"), Class: strings.ReplaceAll(v.XMLName.Local, "__", "_"), Scope: v.Scope}
	switch v.XMLName.Local {
	case StringCredentialsElement:
		cred.Kind = "string"
	case FileCredentialsElement:
		cred.Kind = "file"
	}
	if cred.ID == "" {
		cred.ID = id
	}
	return cred, nil
}

// CreateCredential creates a credential through the form path
// (POST createCredentials, field json=formJSON), the one path on which
// the oidc-provider plugin generates the signing key. An id that is taken
// is an error matching ErrAlreadyExists. As with jobs, a create whose
// outcome is unknown is checked before it is sent again.
//
// Credentials plugins before 1488.v9049e8c8b_d98 answer every form post
// with a 302, a duplicate id included, whatever Accept says: after a
// redirect the credential is read back, and one that is missing or is not
// what was posted is reported instead of "created".
func (c *Client) CreateCredential(ctx context.Context, folder string, formJSON []byte) error {
	sp, err := storePath(folder)
	if err != nil {
		return err
	}
	id := formCredentialID(formJSON)
	send := func(ctx context.Context, attempt int) error {
		redirected, err := c.postForm(ctx, sp+"createCredentials", formJSON)
		if attempt > 1 && errors.Is(err, ErrAlreadyExists) {
			return nil
		}
		if err == nil && redirected {
			err = c.verifyCreated(ctx, folder, sp, formJSON)
		}
		return err
	}
	landed := func(ctx context.Context) (bool, error) {
		if id == "" {
			return false, nil
		}
		_, err := c.GetCredential(ctx, folder, id)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	if err := c.retryUnsafe(ctx, send, landed); err != nil {
		return fmt.Errorf("create credential %q: %w", id, err)
	}
	return nil
}

// UpdateCredential re-submits credential id through the form
// (POST updateSubmit). For an oidc-provider credential this generates a
// new signing key: callers compare fields first and only update when
// something differs. formJSON may be the create form ({"credentials":{…}})
// or the credential object itself. Replaying it only rotates the key
// again, so it is retried like a GET.
func (c *Client) UpdateCredential(ctx context.Context, folder, id string, formJSON []byte) error {
	p, err := credentialPath(folder, id)
	if err != nil {
		return err
	}
	var wrapped struct {
		Credentials json.RawMessage `json:"credentials"`
	}
	if json.Unmarshal(formJSON, &wrapped) == nil && len(wrapped.Credentials) > 0 && wrapped.Credentials[0] == '{' {
		formJSON = wrapped.Credentials
	}
	if _, err := c.postForm(httpx.WithRetryable(ctx), p+"updateSubmit", formJSON); err != nil {
		return fmt.Errorf("update credential %q: %w", id, err)
	}
	return nil
}

// DeleteCredential deletes credential id (HTTP DELETE of its config.xml).
// A missing credential is ErrNotFound unless a retry of this call found
// it already deleted by the earlier attempt.
func (c *Client) DeleteCredential(ctx context.Context, folder, id string) error {
	p, err := credentialPath(folder, id)
	if err != nil {
		return err
	}
	ctx, attempts := countAttempts(ctx)
	_, err = c.do(ctx, request{method: http.MethodDelete, path: p + "config.xml"})
	if err != nil && !(errors.Is(err, ErrNotFound) && attempts.Load() > 1) {
		return fmt.Errorf("delete credential %q: %w", id, err)
	}
	return nil
}

// verifyCreated reads back the credential a form create answered with a
// redirect (credentials plugin before 1488.v9049e8c8b_d98): it must exist
// and carry the posted class and fields, or the id was already taken.
func (c *Client) verifyCreated(ctx context.Context, folder, storePath string, formJSON []byte) error {
	want := formCredential(formJSON)
	got, err := c.GetCredential(ctx, folder, want.ID)
	if errors.Is(err, ErrNotFound) {
		return &HTTPError{Method: http.MethodPost, URL: httpx.SafeURL(c.resolve(storePath + "createCredentials")), Status: http.StatusFound,
			XError: fmt.Sprintf("Jenkins redirected as if credential %q was created, but it is not there (credentials plugins before 1488.v9049e8c8b_d98 redirect on failure too; see the controller's log)", want.ID)}
	}
	if err != nil {
		return fmt.Errorf("read back credential %q after creating it: %w", want.ID, err)
	}
	if got.Class != want.Class || got.Description != want.Description || got.Audience != want.Audience || got.Issuer != want.Issuer {
		return &HTTPError{Method: http.MethodPost, URL: httpx.SafeURL(c.resolve(storePath + "createCredentials")), Status: http.StatusFound,
			XError: "Credentials with specified ID already exist", Exists: true}
	}
	return nil
}

// postForm posts json=<formJSON> the way the Jenkins UI does, asking for
// the JSON answer credentials plugins from 1488.v9049e8c8b_d98 give; a
// 302 (older plugins, or no Accept support) is reported as redirected and
// is an error only when it points at concurrentModification.
func (c *Client) postForm(ctx context.Context, path string, formJSON []byte) (redirected bool, err error) {
	body := []byte(url.Values{"json": {string(formJSON)}}.Encode())
	r, err := c.do(ctx, request{method: http.MethodPost, path: path, body: body,
		ctype: "application/x-www-form-urlencoded", accept: "application/json", noFollow: true,
		ok: []int{http.StatusOK, http.StatusFound, http.StatusSeeOther}})
	if err != nil {
		return false, err
	}
	if r.status != http.StatusOK {
		if strings.Contains(r.header.Get("Location"), "concurrentModification") {
			return true, &HTTPError{Method: http.MethodPost, URL: httpx.SafeURL(c.resolve(path)), Status: r.status,
				XError: "Jenkins reports a concurrent modification of the credential; run again"}
		}
		return true, nil
	}
	var msg struct {
		Message          string `json:"message"`
		NotificationType string `json:"notificationType"`
	}
	if json.Unmarshal(bytes.TrimSpace(r.body), &msg) != nil || !strings.EqualFold(msg.NotificationType, "ERROR") {
		return false, nil
	}
	return false, &HTTPError{Method: http.MethodPost, URL: httpx.SafeURL(c.resolve(path)), Status: r.status,
		XError: msg.Message, Exists: strings.Contains(strings.ToLower(msg.Message), "already exist")}
}

// formFields are the non-secret fields of a create form's credential.
type formFields struct {
	Class       string `json:"$class"`
	StaplerCls  string `json:"stapler-class"`
	ID          string `json:"id"`
	Description string `json:"description"`
	Audience    string `json:"audience"`
	Issuer      string `json:"issuer"`
}

// formCredential reads a create form's JSON ({"credentials":{…}} or the
// credential object itself).
func formCredential(formJSON []byte) formFields {
	var v struct {
		formFields
		Credentials *formFields `json:"credentials"`
	}
	_ = json.Unmarshal(formJSON, &v)
	f := v.formFields
	if v.Credentials != nil {
		f = *v.Credentials
	}
	if f.Class == "" {
		f.Class = f.StaplerCls
	}
	return f
}

// formCredentialID finds the id in a create form's JSON, for the
// did-it-land check.
func formCredentialID(formJSON []byte) string { return formCredential(formJSON).ID }
