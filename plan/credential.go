package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// CredentialSettings is what the spec asks of the OIDC credential, in the
// fields Jenkins lets us read back (the key itself is never readable).
type CredentialSettings struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Audience    string `json:"audience"`
	Issuer      string `json:"issuer,omitempty"`
	Folder      string `json:"folder,omitempty"`
}

// FieldDiff is one setting in which a credential differs from the spec.
type FieldDiff struct {
	Field, Have, Want string
}

// String says it in words: audience "old" → "new".
func (d FieldDiff) String() string { return fmt.Sprintf("%s %q → %q", d.Field, d.Have, d.Want) }

// Compare lists the settings in which have differs from c; none means the
// credential is as wanted and must not be touched. It is the one
// comparison plan, doctor and rotate share. Every field listed is one the
// plugin only changes by re-instantiating the credential, i.e. with a new
// key. The ownership marker at the end of the description is not a
// setting: writing it alone would replace the key for nothing.
func (c CredentialSettings) Compare(have *jenkins.IDTokenCredential) []FieldDiff {
	var diffs []FieldDiff
	field := func(name, old, new string) {
		if old != new {
			diffs = append(diffs, FieldDiff{name, old, new})
		}
	}
	kind := c.Kind
	if kind == "" {
		kind = spec.KindString
	}
	field("kind", have.Kind, kind)
	field("audience", have.Audience, c.Audience)
	field("issuer", have.Issuer, c.Issuer)
	field("description", render.WithoutMarker(have.Description), render.WithoutMarker(c.Description))
	// The form always asks for GLOBAL: a SYSTEM-scoped credential of the
	// system store is invisible to builds (credentials-plugin
	// SystemCredentialsProvider.getCredentialsInItem: not(withScope(SYSTEM))),
	// so every binding would fail "Could not find credentials entry".
	if have.Scope != "" {
		field("scope", have.Scope, "GLOBAL")
	}
	return diffs
}

// Diff is Compare in words.
func (c CredentialSettings) Diff(have *jenkins.IDTokenCredential) []string {
	var out []string
	for _, d := range c.Compare(have) {
		out = append(out, d.String())
	}
	return out
}

// DesiredCredential is the credential the spec asks for, with the
// description (marker included) the renderer puts in the form.
func DesiredCredential(s *spec.Spec, out *render.Output) CredentialSettings {
	return desiredCredential(Input{Spec: s, Output: out})
}

// desiredCredential reads the desired fields from render's form JSON, so
// that any default render fills in is compared too, and falls back to the
// spec for fields the form leaves out.
func desiredCredential(in Input) CredentialSettings {
	o := in.Spec.OIDC
	w := CredentialSettings{ID: o.Credential, Kind: o.Kind, Description: o.Description,
		Audience: o.Audience, Issuer: o.Issuer, Folder: o.Folder}
	if w.Kind == "" {
		w.Kind = spec.KindString
	}
	var form struct {
		Credentials map[string]any `json:"credentials"`
	}
	if in.Output == nil || json.Unmarshal(in.Output.Credential.FormJSON, &form) != nil || form.Credentials == nil {
		return w
	}
	str := func(key string, dst *string) {
		if v, ok := form.Credentials[key].(string); ok {
			*dst = v
		}
	}
	str("id", &w.ID)
	str("description", &w.Description)
	str("audience", &w.Audience)
	str("issuer", &w.Issuer)
	for _, key := range []string{"$class", "stapler-class"} {
		if v, ok := form.Credentials[key].(string); ok {
			if strings.HasSuffix(v, "IdTokenFileCredentials") {
				w.Kind = spec.KindFile
			} else if strings.HasSuffix(v, "IdTokenStringCredentials") {
				w.Kind = spec.KindString
			}
		}
	}
	return w
}

// planCredential compares the credential field by field. The key cannot be
// compared (Jenkins never returns it) and must not be touched when the
// rest matches: every re-save through the form makes the plugin generate a
// new key, so a no-op must plan nothing.
//
// Like a job, a credential someone made by hand (the manual guide's
// oidc-token-cred) is only taken over with --adopt, and one another spec
// owns never without --adopt-from. Credentials made before markers existed
// carry none: one counts as this spec's when jobs the spec defines already
// carry its (or the owner-less) marker, the trace an earlier apply left.
func planCredential(ctx context.Context, in Input, opt Options, p *Plan, actual map[string]jenkins.Item) ([]Change, []string, error) {
	w := desiredCredential(in)
	where := spec.StoreName(w.Folder)
	have, err := in.Jenkins.GetCredential(ctx, w.Folder, w.ID)
	switch {
	case errors.Is(err, jenkins.ErrNotFound):
		return []Change{{Action: Create, Kind: KindCredential, Name: w.ID, Folder: w.Folder,
			RotatesKey: true, Config: in.Output.Credential.FormJSON, Credential: &w,
			Reason: fmt.Sprintf("new OIDC %s credential in %s: Jenkins generates its signing key", w.Kind, where)}}, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("read credential %q in %s on %s: %w", w.ID, where, in.Spec.Jenkins.URL, err)
	}
	me := in.Spec.Identity()
	o, owner := ownershipOf(have.Description, me)
	if o == handMade && appliedBefore(in, me, actual) {
		o = ownerless
	}
	what := fmt.Sprintf("credential %q in %s", w.ID, where)
	if ok, conflict := takeOver(o, owner, opt, what); !ok {
		return nil, []string{conflict}, nil
	}
	if o == handMade {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s was made by hand: --adopt manages it as it is, keeping its key (writing the ownership marker into its description would make Jenkins generate a new one)", what))
	}
	diffs := w.Diff(have)
	if len(diffs) == 0 {
		return nil, nil, nil
	}
	action := Update
	if have.Kind != w.Kind {
		// The credentials plugin keeps a credential's class on update;
		// changing kind means a new credential under the same id.
		action = Replace
	}
	c := Change{Action: action, Kind: KindCredential, Name: w.ID, Folder: w.Folder,
		RotatesKey: true, Config: in.Output.Credential.FormJSON, Credential: &w,
		Reason: strings.Join(diffs, ", ")}
	if !opt.ReplaceKey {
		c.Refused = KeyReplacementRefusal(w.ID)
	}
	return []Change{c}, nil, nil
}

// VerifierCache is how long a verifier may keep a key set it fetched: the
// Cloudsmith emulator keeps one for 5 minutes (cloudsmithtest's
// WithJWKSCacheTTL default) and only refetches early for a kid it has not
// seen; Cloudsmith documents no figure, so the emulator's is assumed.
const VerifierCache = 5 * time.Minute

// KeyReplacementRefusal says why apply does not re-save credential id in
// place, and the two ways forward.
func KeyReplacementRefusal(id string) string {
	return fmt.Sprintf("re-saving credential %s makes Jenkins generate a new signing key under the same kid %q, and verifiers that cached the old one (Cloudsmith does, for about %s) fail every build meanwhile: "+
		"run `jenkins-cloudsmith rotate` to move to a successor credential with these settings without a failed build, "+
		"or apply with --replace-key-with-downtime to accept the failures", id, id, VerifierCache)
}

// appliedBefore reports whether a job the spec defines already carries
// this spec's marker or the owner-less one.
func appliedBefore(in Input, me string, actual map[string]jenkins.Item) bool {
	for _, j := range in.Output.Jobs {
		if it, ok := actual[j.Name]; ok && !it.Folder {
			if o, _ := ownershipOf(it.Description, me); o == ours || o == ownerless {
				return true
			}
		}
	}
	return false
}
