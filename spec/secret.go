package spec

import "encoding/json"

// Secret is a value that came from the environment through a ${VAR}
// reference. It prints only its reference, never its value, so a Spec can be
// logged, diffed or marshalled without leaking.
type Secret struct {
	// Ref is the environment variable name, without ${}.
	Ref   string
	value string
}

// NewSecret returns a Secret holding value, as read from variable ref.
func NewSecret(ref, value string) Secret { return Secret{Ref: ref, value: value} }

// Value returns the secret itself. Call it only where the secret is sent to
// the system it belongs to.
func (s Secret) Value() string { return s.value }

// IsSet reports whether the spec named a secret.
func (s Secret) IsSet() bool { return s.Ref != "" }

// String returns the reference, never the value.
func (s Secret) String() string {
	if s.Ref == "" {
		return ""
	}
	return "${" + s.Ref + "}"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "spec.Secret{" + s.String() + "}" }

// MarshalJSON writes the reference, never the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
