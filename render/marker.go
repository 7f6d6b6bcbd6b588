package render

import "strings"

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
	return strings.TrimSuffix(o, " "), true
}

// WithoutMarker is description without its trailing marker (the text a
// person or the spec wrote).
func WithoutMarker(description string) string {
	if _, ok := Owner(description); !ok {
		return description
	}
	d := strings.TrimSpace(description)
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
