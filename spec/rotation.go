package spec

import (
	"slices"
	"strconv"
	"strings"
)

// The oidc-provider plugin uses the credential id as the JWT kid and never
// changes a credential's key except by re-creating it, so a rotation
// without downtime needs a second credential (a second kid) that signs
// while the first one's key is still published. Its id is derived from the
// spec's: generation 1 is the spec's own id, generation n ≥ 2 is
// "<id>--r<n>". Only characters the credential id rule allows are added, so
// a valid id stays valid.

// successorSep separates a base credential id from its generation.
const successorSep = "--r"

// SuccessorID is the id of generation gen of the credential base: base
// itself for gen ≤ 1, else "<base>--r<gen>" (e.g. oidc-token--r2).
func SuccessorID(base string, gen int) string {
	if gen <= 1 {
		return base
	}
	return base + successorSep + strconv.Itoa(gen)
}

// CredentialGeneration reports which generation of base id is: 1 for base
// itself, n for SuccessorID(base, n), and false for any other id.
func CredentialGeneration(id, base string) (int, bool) {
	if id == base {
		return 1, true
	}
	rest, ok := strings.CutPrefix(id, base+successorSep)
	if !ok || rest == "" || rest[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 2 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

// Generation is one existing credential of a base id's family.
type Generation struct {
	ID  string
	Gen int
}

// Generations picks from ids the generations of base, oldest first.
func Generations(ids []string, base string) []Generation {
	var out []Generation
	for _, id := range ids {
		if g, ok := CredentialGeneration(id, base); ok {
			out = append(out, Generation{ID: id, Gen: g})
		}
	}
	slices.SortFunc(out, func(a, b Generation) int { return a.Gen - b.Gen })
	return slices.CompactFunc(out, func(a, b Generation) bool { return a.Gen == b.Gen })
}

// WithCredential returns a copy of s whose oidc.credential is id, for
// rendering jobs and the credential form of another generation. Jobs and
// other slices are shared with s, not copied: do not modify them.
// Its identity stays s's: a generation belongs to the spec that made it.
func (s *Spec) WithCredential(id string) *Spec {
	c := *s
	c.ID = s.Identity()
	c.OIDC.Credential = id
	return &c
}
