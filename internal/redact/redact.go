// Package redact keeps secrets out of anything a person or a log can read.
//
// Writer masks every occurrence of registered secrets in a byte stream, even
// when a secret is split across two Write calls, which is how a child
// process's output usually arrives.
package redact

import (
	"bytes"
	"io"
	"regexp"
	"sort"
	"sync"
)

// Mask is what a secret is replaced with, as Jenkins' credentials-binding
// plugin does in the console.
const Mask = "****"

// Writer replaces every registered secret in what is written through it with
// Mask before passing it on. It holds back at most the longest secret's
// length minus one byte, so call Close (or Flush) to emit the tail.
// It is safe for concurrent use, so stdout and stderr may share one.
type Writer struct {
	mu      sync.Mutex
	dst     io.Writer
	secrets [][]byte // longest first, so a secret containing another is masked whole
	pending []byte
}

// NewWriter returns a Writer that masks secrets on the way to dst. Empty
// secrets are ignored.
func NewWriter(dst io.Writer, secrets ...string) *Writer {
	w := &Writer{dst: dst}
	w.Add(secrets...)
	return w
}

// Add registers more secrets to mask from now on.
func (w *Writer) Add(secrets ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range secrets {
		if len(s) > 0 {
			w.secrets = append(w.secrets, []byte(s))
		}
	}
	sort.SliceStable(w.secrets, func(i, j int) bool { return len(w.secrets[i]) > len(w.secrets[j]) })
}

// Write masks p and forwards every byte that can no longer be the start of
// a secret. It reports len(p) on success, as io.Writer requires.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, p...)
	out, keep := w.scan(false)
	w.pending = append(w.pending[:0], keep...)
	if len(out) > 0 {
		if _, err := w.dst.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes whatever is held back, masked.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	out, _ := w.scan(true)
	w.pending = w.pending[:0]
	if len(out) == 0 {
		return nil
	}
	_, err := w.dst.Write(out)
	return err
}

// Close flushes the held-back tail. It does not close the destination.
func (w *Writer) Close() error { return w.Flush() }

// scan masks pending and splits it into what is safe to emit and a tail that
// might still grow into a secret.
func (w *Writer) scan(final bool) (out, keep []byte) {
	buf := w.pending
	var res bytes.Buffer
	i := 0
outer:
	for i < len(buf) {
		for _, s := range w.secrets {
			if bytes.HasPrefix(buf[i:], s) {
				res.WriteString(Mask)
				i += len(s)
				continue outer
			}
		}
		if !final {
			rest := buf[i:]
			for _, s := range w.secrets {
				if len(rest) < len(s) && bytes.HasPrefix(s, rest) {
					return res.Bytes(), rest
				}
			}
		}
		res.WriteByte(buf[i])
		i++
	}
	return res.Bytes(), nil
}

// String returns s with every secret replaced by Mask.
func String(s string, secrets ...string) string {
	var b bytes.Buffer
	w := NewWriter(&b, secrets...)
	_, _ = w.Write([]byte(s))
	_ = w.Flush()
	return b.String()
}

// JWTShape is the project's one pattern for a JWT in text: a compact JWS
// whose header is a JSON object ("eyJ" is Base64URL for `{"`), as ID
// tokens and Cloudsmith tokens are, with or without a signature. Masking,
// leak checks and validate's pasted-secret check all use it, so what one
// of them calls a token the others do too. Nothing this project prints
// legitimately looks like that.
var JWTShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// JWTs replaces every JWT-shaped substring of s with Mask. Use it on text
// that should never hold a token but may quote what a user typed (an
// error naming a bad argument): the token there is unknown, its shape is
// not.
func JWTs(s string) string { return JWTShape.ReplaceAllString(s, Mask) }
