// Package plantest provides an in-memory Jenkins for testing plan and
// apply without HTTP: it keeps items, their config.xml and one store of
// OIDC credentials, counts calls, and can fail any call before or after
// applying it (the "applied but the response was lost" case).
package plantest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// Item is a stored job or folder.
type Item struct {
	Folder bool
	Config []byte
}

// Fake is an in-memory controller. The zero value is not usable; call New.
type Fake struct {
	mu          sync.Mutex
	Items       map[string]*Item
	Credentials map[string]*jenkins.IDTokenCredential // key: folder + "\x00" + id
	// KeyGen counts how many keys each credential has had (every
	// constructor path generates one).
	KeyGen  map[string]int
	Plugins map[string]jenkins.Plugin
	calls   map[string]int
	// Fault, when set, is consulted around every call: before=true before
	// anything happens, before=false after a write was applied. A non-nil
	// error is returned to the caller.
	Fault func(method, name string, before bool) error
}

// New returns a controller with every required plugin active and nothing
// else.
func New() *Fake {
	f := &Fake{Items: map[string]*Item{}, Credentials: map[string]*jenkins.IDTokenCredential{},
		KeyGen: map[string]int{}, Plugins: map[string]jenkins.Plugin{}, calls: map[string]int{}}
	for _, p := range jenkins.RequiredPlugins() {
		f.Plugins[p] = jenkins.Plugin{ShortName: p, Version: "1.0", Active: true, Enabled: true}
	}
	return f
}

// Calls returns how many times method was called.
func (f *Fake) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Writes returns how many write calls were made.
func (f *Fake) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for m, c := range f.calls {
		switch m {
		case "Info", "ListJobs", "JobConfig", "GetCredential", "CredentialIDs":
		default:
			n += c
		}
	}
	return n
}

// ResetCalls zeroes the call counters.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}

func (f *Fake) enter(method, name string) error {
	f.mu.Lock()
	f.calls[method]++
	fault := f.Fault
	f.mu.Unlock()
	if fault != nil {
		return fault(method, name, true)
	}
	return nil
}

func (f *Fake) leave(method, name string) error {
	f.mu.Lock()
	fault := f.Fault
	f.mu.Unlock()
	if fault != nil {
		return fault(method, name, false)
	}
	return nil
}

// Info implements plan.Jenkins.
func (f *Fake) Info(ctx context.Context) (*jenkins.Info, error) {
	if err := f.enter("Info", ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	pl := make(map[string]jenkins.Plugin, len(f.Plugins))
	for k, v := range f.Plugins {
		pl[k] = v
	}
	return &jenkins.Info{Version: "2.999", User: "admin", Plugins: pl}, nil
}

// ListJobs implements plan.Jenkins.
func (f *Fake) ListJobs(ctx context.Context) ([]jenkins.Item, error) {
	if err := f.enter("ListJobs", ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []jenkins.Item
	for name, it := range f.Items {
		root, desc := rootAndDescription(it.Config)
		class := map[string]string{
			"project":         "hudson.model.FreeStyleProject",
			"flow-definition": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
			"com.cloudbees.hudson.plugins.folder.Folder": "com.cloudbees.hudson.plugins.folder.Folder",
		}[root]
		out = append(out, jenkins.Item{FullName: name, Class: class, Description: desc, Folder: it.Folder})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FullName < out[j].FullName })
	return out, nil
}

// JobConfig implements plan.Jenkins.
func (f *Fake) JobConfig(ctx context.Context, name string) ([]byte, error) {
	if err := f.enter("JobConfig", name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.Items[name]
	if !ok {
		return nil, fmt.Errorf("job %q: %w", name, jenkins.ErrNotFound)
	}
	// Jenkins adds plugin attributes and a declaration on save.
	return append([]byte("<?xml version='1.1' encoding='UTF-8'?>\n"), it.Config...), nil
}

func (f *Fake) parentOK(name string) error {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		p, ok := f.Items[name[:i]]
		if !ok || !p.Folder {
			return fmt.Errorf("parent folder %q: %w", name[:i], jenkins.ErrNotFound)
		}
	}
	return nil
}

func (f *Fake) create(method, name string, config []byte, folder bool) error {
	if err := f.enter(method, name); err != nil {
		return err
	}
	f.mu.Lock()
	if _, ok := f.Items[name]; ok {
		f.mu.Unlock()
		return fmt.Errorf("400: A job already exists with the name ‘%s’", name)
	}
	if err := f.parentOK(name); err != nil {
		f.mu.Unlock()
		return err
	}
	f.Items[name] = &Item{Folder: folder, Config: bytes.Clone(config)}
	f.mu.Unlock()
	return f.leave(method, name)
}

// CreateJob implements apply.Jenkins.
func (f *Fake) CreateJob(ctx context.Context, name string, config []byte) error {
	return f.create("CreateJob", name, config, false)
}

// CreateFolder implements apply.Jenkins.
func (f *Fake) CreateFolder(ctx context.Context, name string, config []byte) error {
	return f.create("CreateFolder", name, config, true)
}

// UpdateJob implements apply.Jenkins; like Jenkins it refuses to change a
// job's type.
func (f *Fake) UpdateJob(ctx context.Context, name string, config []byte) error {
	if err := f.enter("UpdateJob", name); err != nil {
		return err
	}
	f.mu.Lock()
	it, ok := f.Items[name]
	if !ok {
		f.mu.Unlock()
		return fmt.Errorf("job %q: %w", name, jenkins.ErrNotFound)
	}
	oldRoot, _ := rootAndDescription(it.Config)
	newRoot, _ := rootAndDescription(config)
	if oldRoot != newRoot {
		f.mu.Unlock()
		return fmt.Errorf("500: Expecting %s but got %s", oldRoot, newRoot)
	}
	it.Config = bytes.Clone(config)
	f.mu.Unlock()
	return f.leave("UpdateJob", name)
}

// DeleteJob implements apply.Jenkins.
func (f *Fake) DeleteJob(ctx context.Context, name string) error {
	if err := f.enter("DeleteJob", name); err != nil {
		return err
	}
	f.mu.Lock()
	if _, ok := f.Items[name]; !ok {
		f.mu.Unlock()
		return fmt.Errorf("job %q: %w", name, jenkins.ErrNotFound)
	}
	for k := range f.Items {
		if k == name || strings.HasPrefix(k, name+"/") {
			delete(f.Items, k)
		}
	}
	f.mu.Unlock()
	return f.leave("DeleteJob", name)
}

// credentialForm is the part of the form JSON the fake reads.
type credentialForm struct {
	Credentials struct {
		Class       string `json:"$class"`
		ID          string `json:"id"`
		Description string `json:"description"`
		Audience    string `json:"audience"`
		Issuer      string `json:"issuer"`
	} `json:"credentials"`
}

func (f *Fake) putCredential(method, folder, id string, form []byte, mustExist bool) error {
	if err := f.enter(method, folder+"/"+id); err != nil {
		return err
	}
	var cf credentialForm
	if err := json.Unmarshal(form, &cf); err != nil {
		return fmt.Errorf("400: bad form: %w", err)
	}
	if id == "" {
		id = cf.Credentials.ID
	}
	kind := "string"
	if strings.HasSuffix(cf.Credentials.Class, "IdTokenFileCredentials") {
		kind = "file"
	}
	key := folder + "\x00" + id
	f.mu.Lock()
	if _, ok := f.Credentials[key]; ok != mustExist {
		f.mu.Unlock()
		if mustExist {
			return fmt.Errorf("credential %q: %w", id, jenkins.ErrNotFound)
		}
		return fmt.Errorf("credentials with specified ID already exist")
	}
	f.Credentials[key] = &jenkins.IDTokenCredential{ID: id, Kind: kind, Description: cf.Credentials.Description,
		Audience: cf.Credentials.Audience, Issuer: cf.Credentials.Issuer, Folder: folder}
	f.KeyGen[key]++
	f.mu.Unlock()
	return f.leave(method, folder+"/"+id)
}

// GetCredential implements plan.Jenkins.
func (f *Fake) GetCredential(ctx context.Context, folder, id string) (*jenkins.IDTokenCredential, error) {
	if err := f.enter("GetCredential", folder+"/"+id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.Credentials[folder+"\x00"+id]
	if !ok {
		return nil, fmt.Errorf("credential %q: %w", id, jenkins.ErrNotFound)
	}
	cp := *c
	return &cp, nil
}

// CredentialIDs implements plan.Jenkins: the ids in folder's store, sorted.
func (f *Fake) CredentialIDs(ctx context.Context, folder string) ([]string, error) {
	if err := f.enter("CredentialIDs", folder); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for k := range f.Credentials {
		if fo, id, _ := strings.Cut(k, "\x00"); fo == folder {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// CreateCredential implements apply.Jenkins.
func (f *Fake) CreateCredential(ctx context.Context, folder string, form []byte) error {
	return f.putCredential("CreateCredential", folder, "", form, false)
}

// UpdateCredential implements apply.Jenkins.
func (f *Fake) UpdateCredential(ctx context.Context, folder, id string, form []byte) error {
	return f.putCredential("UpdateCredential", folder, id, form, true)
}

// DeleteCredential implements apply.Jenkins.
func (f *Fake) DeleteCredential(ctx context.Context, folder, id string) error {
	if err := f.enter("DeleteCredential", folder+"/"+id); err != nil {
		return err
	}
	f.mu.Lock()
	key := folder + "\x00" + id
	if _, ok := f.Credentials[key]; !ok {
		f.mu.Unlock()
		return fmt.Errorf("credential %q: %w", id, jenkins.ErrNotFound)
	}
	delete(f.Credentials, key)
	f.mu.Unlock()
	return f.leave("DeleteCredential", folder+"/"+id)
}

// InstallPlugins implements apply.Jenkins: plugins become active after
// SafeRestart, as on a real controller.
func (f *Fake) InstallPlugins(ctx context.Context, specs ...string) error {
	if err := f.enter("InstallPlugins", strings.Join(specs, ",")); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range specs {
		name, _, _ := strings.Cut(s, "@")
		f.Plugins[name] = jenkins.Plugin{ShortName: name, Version: "1.0", Enabled: true}
	}
	return nil
}

// SafeRestart implements apply.Jenkins.
func (f *Fake) SafeRestart(ctx context.Context) error {
	if err := f.enter("SafeRestart", ""); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, p := range f.Plugins {
		p.Active = p.Enabled
		f.Plugins[k] = p
	}
	return nil
}

// WaitReady implements apply.Jenkins.
func (f *Fake) WaitReady(ctx context.Context) error { return f.enter("WaitReady", "") }

// rootAndDescription returns the document element's name and its
// <description> child's text.
func rootAndDescription(doc []byte) (root, desc string) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth := 0
	inDesc := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return root, desc
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				root = t.Name.Local
			}
			inDesc = depth == 2 && t.Name.Local == "description"
		case xml.EndElement:
			depth--
			inDesc = false
		case xml.CharData:
			if inDesc {
				desc += string(t)
			}
		}
	}
}
