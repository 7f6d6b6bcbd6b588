// Package emumw is the middleware both emulators (jenkins/jenkinstest and
// cloudsmith/cloudsmithtest) share: seeded fault draws, the connection
// reset, injected latency and the request log. Each emulator keeps what
// is its own (which faults its real system's proxies produce, what a log
// entry holds, the error bodies); the mechanics live here once, so the two
// agree on the seed's type and on how a reset or a delay behaves.
package emumw

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Faults draws injected faults from a seeded generator, so a run can be
// replayed with the same seed. It is safe for concurrent use.
type Faults struct {
	mu   sync.Mutex
	rate float64
	rng  *rand.Rand
}

// NewFaults returns a generator that fails a share rate (0..1) of draws.
func NewFaults(rate float64, seed uint64) *Faults {
	return &Faults{rate: rate, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Draw returns "" for no fault, else one of kinds chosen uniformly.
func (f *Faults) Draw(kinds []string) string {
	kind, _ := f.draw(kinds, -1)
	return kind
}

// DrawLate is Draw that also says, with probability after, that the fault
// comes after the request took effect (the answer lost on the way back).
func (f *Faults) DrawLate(kinds []string, after float64) (kind string, late bool) {
	return f.draw(kinds, after)
}

// draw draws the lateness only when after >= 0, so each emulator's fault
// sequence for a seed stays what it was.
func (f *Faults) draw(kinds []string, after float64) (string, bool) {
	if f == nil || f.rate <= 0 || len(kinds) == 0 {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return "", false
	}
	kind := kinds[f.rng.IntN(len(kinds))]
	late := false
	if after >= 0 {
		late = f.rng.Float64() < after
	}
	return kind, late
}

// ResetConnection drops the client's connection with a TCP RST where
// possible, the harshest network error a client must survive. Where the
// connection cannot be taken over (HTTP/2, a test recorder) the handler
// is aborted instead.
func ResetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
}

// Delay waits d (injected latency) and reports false when the client went
// away meanwhile.
func Delay(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Log is a request log of entries T that locks itself: handlers add an
// entry when a request arrives and update it as they learn more (status,
// authentication, a fault); tests read copies.
type Log[T any] struct {
	mu      sync.Mutex
	entries []*T
}

// Add appends e and returns it, for Update.
func (l *Log[T]) Add(e *T) *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return e
}

// Update changes entry e under the lock All reads it with.
func (l *Log[T]) Update(e *T, fn func(*T)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn(e)
}

// All returns copies of the entries, oldest first.
func (l *Log[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]T, len(l.entries))
	for i, e := range l.entries {
		out[i] = *e
	}
	return out
}

// Reset empties the log.
func (l *Log[T]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = slices.Delete(l.entries, 0, len(l.entries))
}
