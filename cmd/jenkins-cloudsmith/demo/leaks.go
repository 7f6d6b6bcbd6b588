package demo

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// leaks lists what in text looks like a secret: any of the known secrets
// (named by label), or a JWT (the demo never learns the ID token and the
// Cloudsmith token: they live only inside the build, so it looks for their
// shape). It describes each find without repeating it.
func leaks(where string, text []byte, known map[string]string) []string {
	var found []string
	for label, secret := range known {
		if secret != "" && bytes.Contains(text, []byte(secret)) {
			found = append(found, fmt.Sprintf("%s appears in %s", label, where))
		}
	}
	if n := len(redact.JWTShape.FindAll(text, -1)); n > 0 {
		found = append(found, fmt.Sprintf("%d JWT-shaped string(s) (an OIDC or Cloudsmith token) appear in %s", n, where))
	}
	return found
}

// recorder is the demo's own output: what it writes goes to the terminal
// through a masking writer, and a raw copy is kept so the final check sees
// what would have been printed had masking not been there.
type recorder struct {
	mu  sync.Mutex
	raw bytes.Buffer
	dst *redact.Writer
}

func newRecorder(dst io.Writer, secrets ...string) *recorder {
	return &recorder{dst: redact.NewWriter(dst, secrets...)}
}

// Write records p and passes it on masked. Masking holds back a possible
// secret's prefix until the next write, so callers Flush at line ends.
func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw.Write(p)
	if _, err := r.dst.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes out what masking held back.
func (r *recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dst.Flush()
}

// Raw returns everything written so far, unmasked (never printed).
func (r *recorder) Raw() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.raw.Bytes())
}

// indent returns a writer that prefixes every line written to w.
func indent(w io.Writer, prefix string) io.Writer { return &indenter{w: w, prefix: prefix, bol: true} }

type indenter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func (d *indenter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for _, c := range p {
		if d.bol {
			b.WriteString(d.prefix)
			d.bol = false
		}
		b.WriteByte(c)
		d.bol = c == '\n'
	}
	if _, err := d.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
