package render

import (
	"encoding/json"
	"strings"
	"time"
)

// ManagedMarker is the owner-less marker that versions before spec ids
// wrote. It is still recognised: such jobs stay manageable (the spec that
// defines them claims them on its next apply) but no spec prunes them.
const ManagedMarker = "<!-- Managed by jenkins-cloudsmith -->"

// markerPrefix starts every marker, with or without an owner.
const markerPrefix = "<!-- Managed by jenkins-cloudsmith"

// ownerKey introduces the owning spec's id inside the marker.
const ownerKey = " spec="

// Marker is the marker that ends the description of every job, folder and
// OIDC credential a spec creates (as Jenkins Job Builder marks its jobs
// with "<!-- Managed by Jenkins Job Builder -->"): it names the spec id
// that owns the item, so prune, plan and --adopt of another spec can tell
// the item is not theirs. An empty owner gives the owner-less ManagedMarker.
func Marker(owner string) string {
	if owner == "" {
		return ManagedMarker
	}
	return markerPrefix + ownerKey + owner + " -->"
}

// Owner reads the marker at the end of a description: managed reports
// whether there is one, owner the spec id it names ("" for ManagedMarker).
func Owner(description string) (owner string, managed bool) {
	d := strings.TrimSpace(description)
	if !strings.HasSuffix(d, "-->") {
		return "", false
	}
	i := strings.LastIndex(d, markerPrefix)
	if i < 0 {
		return "", false
	}
	rest := strings.TrimSuffix(d[i+len(markerPrefix):], "-->")
	if strings.TrimSpace(rest) == "" {
		return "", true
	}
	o, ok := strings.CutPrefix(rest, ownerKey)
	if !ok || !strings.HasSuffix(o, " ") || strings.Contains(o, "-->") {
		return "", false
	}
	o = strings.TrimSuffix(o, " ")
	if i := strings.LastIndex(o, keyKey); i >= 0 {
		if _, err := time.Parse(time.RFC3339, o[i+len(keyKey):]); err == nil {
			o = o[:i]
		}
	}
	return o, true
}

// keyKey introduces, in a credential's marker, when Jenkins generated its
// signing key (apply and rotate stamp it as they create or re-save it).
const keyKey = " key="

// KeyTime reads when the signing key of a credential was generated from
// its description's marker; ok is false without a stamp (a credential made
// by hand, or by an older version).
func KeyTime(description string) (t time.Time, ok bool) {
	owner, managed := Owner(description)
	if !managed || owner == "" {
		return time.Time{}, false
	}
	d := strings.TrimSuffix(strings.TrimSpace(description), " -->")
	i := strings.LastIndex(d, keyKey)
	if i < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, d[i+len(keyKey):])
	return t, err == nil
}

// StampKeyTime returns the credential form JSON with its marker stamped
// with the time t the key it makes Jenkins generate is born, for doctor to
// say until when verifiers may still hold the previous key of the same kid.
// A form without an owner marker is returned unchanged.
func StampKeyTime(form []byte, t time.Time) []byte {
	var m map[string]any
	if json.Unmarshal(form, &m) != nil {
		return form
	}
	c, ok := m["credentials"].(map[string]any)
	if !ok {
		return form
	}
	desc, _ := c["description"].(string)
	owner, managed := Owner(desc)
	if !managed || owner == "" {
		return form
	}
	user := WithoutMarker(desc)
	stamped := markerPrefix + ownerKey + owner + keyKey + t.UTC().Format(time.RFC3339) + " -->"
	if user != "" {
		stamped = user + "\n" + stamped
	}
	c["description"] = stamped
	b, err := json.Marshal(m)
	if err != nil {
		return form
	}
	return b
}

// WithoutMarker is description without its trailing marker (the text a
// person or the spec wrote).
func WithoutMarker(description string) string {
	if _, ok := Owner(description); !ok {
		return description
	}
	// Only what follows the marker is trimmed: the text before it is the
	// user's, byte for byte.
	d := strings.TrimRight(description, " \t\r\n")
	return strings.TrimSuffix(d[:strings.LastIndex(d, markerPrefix)], "\n")
}

// withMarker appends owner's marker to the user's description, refusing
// one that already carries a marker (it would make an unmanaged item look
// managed to prune, or forge its owner).
func withMarker(user, owner string) (string, error) {
	if strings.Contains(user, markerPrefix) {
		return "", &reservedError{}
	}
	if user == "" {
		return Marker(owner), nil
	}
	return user + "\n" + Marker(owner), nil
}

type reservedError struct{}

func (*reservedError) Error() string {
	return "description contains \"" + markerPrefix + "\", which jenkins-cloudsmith reserves to mark what it manages: remove it"
}
