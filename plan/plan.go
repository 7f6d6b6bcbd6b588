// Package plan compares what a spec wants (the rendered jobs, folders and
// OIDC credential, and optionally the Cloudsmith provider) with what a
// Jenkins controller holds, and lists the changes that would make them
// match, in the order they must be made.
//
// Reading is cheap on purpose: one request lists every item, one config.xml
// GET per desired job that exists, one read of the credential and one of the
// plugins. Nothing here writes; package apply does.
package plan

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Jenkins is what planning reads from a controller. *jenkins.Client
// satisfies it.
type Jenkins interface {
	CredentialLister
	Info(ctx context.Context) (*jenkins.Info, error)
	ListJobs(ctx context.Context) ([]jenkins.Item, error)
	JobConfig(ctx context.Context, fullName string) ([]byte, error)
	GetCredential(ctx context.Context, folder, id string) (*jenkins.IDTokenCredential, error)
}

// Action is what a change does to its resource.
type Action string

// Actions, in the words the plan prints.
const (
	Install Action = "install"
	Create  Action = "create"
	Update  Action = "update"
	// Replace deletes then creates: Jenkins cannot change a job's type or a
	// credential's kind in place.
	Replace Action = "replace"
	Delete  Action = "delete"
)

// Kind is the kind of resource a change touches.
type Kind string

// Resource kinds.
const (
	KindPlugin     Kind = "plugin"
	KindFolder     Kind = "folder"
	KindCredential Kind = "credential"
	KindJob        Kind = "job"
	KindService    Kind = "cloudsmith-service"
	KindProvider   Kind = "cloudsmith-provider"
	KindPrivilege  Kind = "cloudsmith-privilege"
)

// Change is one write apply would make.
type Change struct {
	Action Action `json:"action"`
	Kind   Kind   `json:"kind"`
	// Name is the resource's name: a plugin short name, an item's full name,
	// a credential id, a Cloudsmith slug or provider name.
	Name string `json:"name"`
	// Folder is the folder whose store holds a credential ("" = system).
	Folder string `json:"folder,omitempty"`
	// RotatesKey is set when Jenkins will generate a new OIDC signing key:
	// every relying party must fetch the new JWKS (and a custom issuer's
	// published JWKS must be re-published).
	RotatesKey bool `json:"rotates_key,omitempty"`
	// Refused is set on a change apply will not make as planned, saying why
	// and what to run instead: replacing the signing key of an existing
	// credential in place (see Options.ReplaceKey).
	Refused string `json:"refused,omitempty"`
	// Reason says in words why the change is needed.
	Reason string `json:"reason,omitempty"`
	// Diff is a unified diff of normalised job XML (Jenkins → spec), with
	// any secret value of the spec masked.
	Diff string `json:"diff,omitempty"`

	// Config is the desired payload: job or folder config.xml, or the
	// credential's form JSON. Never printed.
	Config []byte `json:"-"`
	// Credential is the desired OIDC credential (no secret in it).
	Credential *CredentialSettings `json:"credential,omitempty"`
	// Provider, Service and Privilege carry Cloudsmith payloads.
	Provider  *ProviderSettings `json:"provider,omitempty"`
	Service   *ServiceSettings  `json:"service,omitempty"`
	Privilege *PrivilegeGrant   `json:"privilege,omitempty"`
}

// Plan is the ordered list of changes: plugins, folders (parents first),
// the credential, jobs, then Cloudsmith.
type Plan struct {
	Changes []Change
	// UnchangedJobs counts desired jobs already as the spec wants them.
	UnchangedJobs int
	// UnchangedFolders counts desired folders that already exist.
	UnchangedFolders int
	// Jenkins is the controller's URL, for messages.
	Jenkins string
	// Issuer is the issuer URL tokens will carry, for messages.
	Issuer string
	// Warnings are checks that could not run, with how to let them run.
	Warnings []string
	// CustomIssuer is set when the issuer is not Jenkins itself: its
	// discovery documents are published elsewhere and must be updated
	// when the key rotates.
	CustomIssuer bool
	// Spec and Output are what the plan was computed for: the input's, or
	// after a `rotate` the input's re-rendered for the active successor
	// credential (see Input.Render).
	Spec   *spec.Spec     `json:"-"`
	Output *render.Output `json:"-"`
}

// Empty reports whether there is nothing to do.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Refused returns the changes apply will not make (see Change.Refused).
func (p *Plan) Refused() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Refused != "" {
			out = append(out, c)
		}
	}
	return out
}

// RotatesKey reports whether applying the plan rotates the signing key.
func (p *Plan) RotatesKey() bool {
	for _, c := range p.Changes {
		if c.RotatesKey {
			return true
		}
	}
	return false
}

// Filter returns a copy of p holding only the changes keep accepts.
func (p *Plan) Filter(keep func(Change) bool) *Plan {
	q := *p
	q.Changes = nil
	for _, c := range p.Changes {
		if keep(c) {
			q.Changes = append(q.Changes, c)
		}
	}
	return &q
}

// Options shape a plan.
type Options struct {
	// Prune plans deleting managed jobs the spec no longer lists.
	Prune bool
	// Adopt takes over unmanaged jobs (and an unmanaged OIDC credential)
	// that occupy a desired name instead of refusing to touch them. It
	// never takes what another spec owns.
	Adopt bool
	// AdoptFrom names specs (by id) whose jobs at names this spec defines
	// are taken over: how a job moves from one spec to another.
	AdoptFrom []string
	// ReplaceKey lets apply re-save an existing OIDC credential whose
	// description, audience, issuer or kind changed, which makes Jenkins
	// generate a new key under the same kid: builds then fail until every
	// verifier's cached JWKS expires. Without it such a change is planned
	// as Refused, and `rotate` makes it without downtime.
	ReplaceKey bool
	// InstallPlugins plans installing missing required plugins instead of
	// failing.
	InstallPlugins bool
	// Parallel bounds concurrent config.xml reads (default 8).
	Parallel int
	// PruneOnly plans deletions and nothing else (the prune command): no
	// plugin, credential, folder, job content or Cloudsmith reads, and no
	// conflict over desired names stops it.
	PruneOnly bool
}

// Input is the desired and actual state to compare.
type Input struct {
	Spec   *spec.Spec
	Output *render.Output
	// Jenkins is read for the actual state.
	Jenkins Jenkins
	// Cloudsmith is read for the provider and service; nil skips them
	// (the spec has no cloudsmith.api_key).
	Cloudsmith Cloudsmith
	// Required are the plugins the controller must have (default: what
	// Output's jobs, folders and credential use, Output.RequiredPlugins).
	Required []string
	// Render renders a copy of Spec for another credential generation.
	// Compute needs it only to follow a rotation (the spec's credential
	// replaced by its successor); without it that case is an error.
	Render func(*spec.Spec) (*render.Output, error)
}

// Compute reads the controller and returns the changes that would make it
// match the spec. A conflict (an unmanaged job in the way, a missing plugin
// without InstallPlugins) is an error that says how to resolve it. After a
// `rotate` it plans for the active successor credential instead of the
// spec's (see Plan.Spec).
func Compute(ctx context.Context, in Input, opt Options) (*Plan, error) {
	if opt.Parallel <= 0 {
		opt.Parallel = 8
	}
	p, err := compute(ctx, in, opt)
	if err != nil || opt.PruneOnly {
		return p, err
	}
	if !p.Filter(func(c Change) bool { return c.Kind == KindPlugin }).Empty() {
		// Plugins are to be installed first (the credential store may not
		// exist yet); apply plans again on the controller that has them.
		return p, nil
	}
	next, followed, err := followRotation(ctx, in, p)
	if err != nil || !followed {
		return p, err
	}
	return compute(ctx, next, opt)
}

// compute is Compute for the credential in.Spec names.
func compute(ctx context.Context, in Input, opt Options) (*Plan, error) {
	var service *ServiceSettings
	if in.Cloudsmith != nil && !opt.PruneOnly {
		// First: the slug Cloudsmith assigned goes into every job.
		var err error
		if in, service, err = resolveService(ctx, in); err != nil {
			return nil, err
		}
	}
	p := &Plan{Jenkins: in.Spec.Jenkins.URL, Issuer: in.Spec.IssuerURL(), CustomIssuer: in.Spec.OIDC.Issuer != "",
		Spec: in.Spec, Output: in.Output}
	secrets := secretValues(in.Spec)
	if opt.PruneOnly {
		items, err := in.Jenkins.ListJobs(ctx)
		if err != nil {
			return nil, fmt.Errorf("list jobs on %s: %w", in.Spec.Jenkins.URL, err)
		}
		p.Changes, p.Warnings = planPrune(in, items)
		return p, nil
	}

	plugins, err := planPlugins(ctx, in, opt, p)
	if err != nil {
		return nil, err
	}
	p.Changes = append(p.Changes, plugins...)

	items, err := in.Jenkins.ListJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list jobs on %s: %w", in.Spec.Jenkins.URL, err)
	}
	actual := make(map[string]jenkins.Item, len(items))
	for _, it := range items {
		actual[it.FullName] = it
	}

	var conflicts []string
	folders, unchangedFolders, fc := planFolders(in, actual)
	conflicts = append(conflicts, fc...)
	p.Changes = append(p.Changes, folders...)
	p.UnchangedFolders = unchangedFolders

	cred, cc, err := planCredential(ctx, in, opt, p, actual)
	if err != nil {
		return nil, err
	}
	conflicts = append(conflicts, cc...)
	p.Changes = append(p.Changes, cred...)

	jobs, unchanged, jc, err := planJobs(ctx, in, opt, p, actual, secrets)
	if err != nil {
		return nil, err
	}
	conflicts = append(conflicts, jc...)
	if len(conflicts) > 0 {
		return nil, &ConflictError{Conflicts: conflicts}
	}
	p.Changes = append(p.Changes, jobs...)
	p.UnchangedJobs = unchanged

	if in.Cloudsmith != nil {
		cs, err := planCloudsmith(ctx, in, service)
		if err != nil {
			return nil, err
		}
		p.Changes = append(p.Changes, cs...)
	}
	return p, nil
}

// ConflictError lists items in Jenkins that stand in the spec's way.
type ConflictError struct {
	Conflicts []string
}

// Error lists every conflict with its fix.
func (e *ConflictError) Error() string {
	return "jenkins holds items the spec cannot take over:\n  " + strings.Join(e.Conflicts, "\n  ")
}

func planPlugins(ctx context.Context, in Input, opt Options, p *Plan) ([]Change, error) {
	required, uses := in.Required, map[string]string(nil)
	if required == nil && in.Output != nil {
		var err error
		if required, uses, err = in.Output.RequiredPlugins(); err != nil {
			return nil, err
		}
	}
	if required == nil {
		required = jenkins.RequiredPlugins()
	}
	info, err := in.Jenkins.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read controller %s: %w", in.Spec.Jenkins.URL, err)
	}
	if problem := info.RootURLProblem(in.Spec.Jenkins.URL, in.Spec.OIDC.Issuer != ""); problem != "" {
		p.Warnings = append(p.Warnings, problem)
	}
	p.Warnings = append(p.Warnings, info.VersionWarnings()...)
	if want, ok := in.Spec.Cloudsmith.Provider.Claims["aud"]; ok {
		if array, _ := jenkins.AudIsArray(info.Plugins["oidc-provider"].Version); array {
			p.Warnings = append(p.Warnings, fmt.Sprintf("cloudsmith.provider.claims requires aud %q, but the controller's oidc-provider writes aud as a JSON array (since 212.v7657c4d…); Cloudsmith does not document how it compares a string with an array, and compared exactly no build could exchange its token: leave claims out (apply then requires a sub prefix of this controller's jobs) or require sub instead", want))
		}
	}
	if info.PluginsHidden {
		p.Warnings = append(p.Warnings, jenkins.PluginsHiddenHint)
		return nil, nil
	}
	missing, disabled := MissingPlugins(info, required)
	// An installed plugin that cannot load for a missing dependency is
	// fixed by installing the dependency (and restarting), not itself.
	for _, dep := range info.MissingDependencies(missing) {
		if !slices.Contains(missing, dep) {
			missing = append(missing, dep)
			if uses == nil {
				uses = map[string]string{}
			}
			uses[dep] = "installed plugins that cannot load without it"
		}
	}
	sort.Strings(missing)
	if len(disabled) > 0 {
		return nil, &jenkins.PluginsError{URL: in.Spec.Jenkins.URL, Disabled: disabled, Missing: missing, Uses: uses}
	}
	if len(missing) > 0 && !opt.InstallPlugins {
		return nil, fmt.Errorf("%w; --install-plugins installs them through the update center (and safely restarts Jenkins if it cannot load them without)",
			&jenkins.PluginsError{URL: in.Spec.Jenkins.URL, Missing: missing, Uses: uses})
	}
	var out []Change
	for _, name := range missing {
		reason := "required plugin not installed"
		if u := uses[name]; u != "" {
			reason += "; used by " + u
		}
		out = append(out, Change{Action: Install, Kind: KindPlugin, Name: name, Reason: reason})
	}
	return out, nil
}

// MissingPlugins splits the required plugins info lacks into those not
// installed (or installed but not yet active, awaiting a restart) and those
// installed but disabled.
func MissingPlugins(info *jenkins.Info, required []string) (missing, disabled []string) {
	for _, name := range required {
		pl, ok := info.Plugins[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case !pl.Enabled:
			disabled = append(disabled, name)
		case !pl.Active:
			missing = append(missing, name)
		}
	}
	return missing, disabled
}

// planFolders returns the folders to create, parents first. Existing
// folders are never rewritten: a folder's config.xml also holds its
// credential store, which a POST would replace.
func planFolders(in Input, actual map[string]jenkins.Item) (changes []Change, unchanged int, conflicts []string) {
	for _, f := range desiredFolders(in) {
		it, ok := actual[f.Path]
		switch {
		case !ok:
			changes = append(changes, Change{Action: Create, Kind: KindFolder, Name: f.Path, Config: f.ConfigXML})
		case !it.Folder:
			conflicts = append(conflicts, fmt.Sprintf("%q is a job (%s) but the spec needs a folder there: delete or rename the job",
				f.Path, shortClass(it.Class)))
		default:
			unchanged++
		}
	}
	return changes, unchanged, conflicts
}

// desiredFolders is render's folder list, sorted parents first.
func desiredFolders(in Input) []render.Folder {
	fs := append([]render.Folder(nil), in.Output.Folders...)
	sort.SliceStable(fs, func(i, j int) bool {
		return strings.Count(fs[i].Path, "/") < strings.Count(fs[j].Path, "/")
	})
	return fs
}

func shortClass(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

// Managed reports whether a job's description carries render's marker,
// i.e. some spec (or an older, owner-less jenkins-cloudsmith) created it.
func Managed(description string) bool {
	_, ok := render.Owner(description)
	return ok
}

// ownership is how an item found in Jenkins relates to the spec planned.
type ownership int

const (
	// handMade: no marker; only --adopt takes it over.
	handMade ownership = iota
	// ours: the marker names this spec.
	ours
	// ownerless: the marker of versions before spec ids. The spec that
	// defines the name claims it; no spec prunes it.
	ownerless
	// theirs: the marker names another spec.
	theirs
)

// ownershipOf classifies description's marker for the spec id me, and
// returns the owner it names.
func ownershipOf(description, me string) (ownership, string) {
	owner, managed := render.Owner(description)
	switch {
	case !managed:
		return handMade, ""
	case owner == me:
		return ours, owner
	case owner == "":
		return ownerless, ""
	}
	return theirs, owner
}

// takeOver reports whether the spec may write an item it finds at a name it
// defines, and if not, the conflict to report (what, e.g. `job "x"`).
func takeOver(o ownership, owner string, opt Options, what string) (ok bool, conflict string) {
	switch o {
	case ours, ownerless:
		return true, ""
	case handMade:
		if opt.Adopt {
			return true, ""
		}
		return false, fmt.Sprintf("%s exists but was not created by jenkins-cloudsmith (made by hand, e.g. following the manual guide): delete or rename it in Jenkins, or re-run with --adopt to take it over", what)
	}
	if slices.Contains(opt.AdoptFrom, owner) {
		return true, ""
	}
	return false, fmt.Sprintf("%s is managed by another spec (id %q): remove it from that spec and re-run with --adopt-from %s to move it here, or rename it in this spec", what, owner, owner)
}

func secretValues(s *spec.Spec) []string {
	var out []string
	for _, sec := range []spec.Secret{s.Jenkins.Token, s.Cloudsmith.APIKey} {
		if v := sec.Value(); v != "" {
			out = append(out, v)
		}
	}
	return out
}
