package plan

import (
	"context"
	"fmt"
	"slices"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// CredentialLister lists the credential ids of a store ("" = the system
// store, else a folder's full name). *jenkins.Client satisfies it.
type CredentialLister interface {
	CredentialIDs(ctx context.Context, folder string) ([]string, error)
}

// ActiveCredentialID is the credential that plan and apply manage for s:
// the oldest existing generation of oidc.credential, or oidc.credential
// itself when none exists yet. After `rotate` the spec's id is gone and its
// successor is the active one, so apply neither re-creates the original id
// (a needless new key) nor points the jobs back at it. While a rotation is
// under way both exist and the older one is still the active one; re-run
// rotate to finish it.
func ActiveCredentialID(ctx context.Context, l CredentialLister, s *spec.Spec) (string, error) {
	ids, err := l.CredentialIDs(ctx, s.OIDC.Folder)
	if err != nil {
		return "", fmt.Errorf("find the active generation of credential %q: %w", s.OIDC.Credential, err)
	}
	if gens := spec.Generations(ids, s.OIDC.Credential); len(gens) > 0 {
		return gens[0].ID, nil
	}
	return s.OIDC.Credential, nil
}

// followRotation returns the input to plan for instead of in when the
// spec's credential is missing because `rotate` replaced it with a
// successor (<id>--r<N>): apply must manage the successor, not re-create
// the original id (a needless new key) and point the jobs back at it. It
// costs a request only when p would create the credential, and it is an
// error, never a silent skip, when in cannot re-render for the successor.
func followRotation(ctx context.Context, in Input, p *Plan) (Input, bool, error) {
	if !slices.ContainsFunc(p.Changes, func(c Change) bool {
		return c.Kind == KindCredential && c.Action == Create
	}) {
		return in, false, nil
	}
	id, err := ActiveCredentialID(ctx, in.Jenkins, in.Spec)
	if err != nil || id == in.Spec.OIDC.Credential {
		return in, false, err
	}
	if in.Render == nil {
		return in, false, fmt.Errorf("credential %q was rotated to %q, and planning for it needs Input.Render to render the jobs for %q",
			in.Spec.OIDC.Credential, id, id)
	}
	s := in.Spec.WithCredential(id)
	out, err := in.Render(s)
	if err != nil {
		return in, false, fmt.Errorf("render for credential %s: %w", id, err)
	}
	in.Spec, in.Output = s, out
	return in, true, nil
}
