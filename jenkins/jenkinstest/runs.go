package jenkinstest

import (
	"bytes"
	"fmt"
	"sync"
	"time"
)

// build is one run of a job. It locks itself: the runner writes the
// console and the result while API readers poll them.
type build struct {
	number  int
	queueID int
	started time.Time
	cause   string

	mu       sync.Mutex
	result   string // "" while building
	duration time.Duration
	console  bytes.Buffer
}

func (b *build) building() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.result == ""
}

func (b *build) res() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.result
}

// finish records the result and how long the build took.
func (b *build) finish(result string, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.result, b.duration = result, d
}

// consoleText is a copy of the console so far.
func (b *build) consoleText() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.console.Bytes()...)
}

func (b *build) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.console.Write(p)
}

func (b *build) logf(format string, args ...any) { fmt.Fprintf(b, format, args...) }

// history is a job's builds (Job.getBuilds, nextBuildNumber) and whether
// it is queued or running. It locks itself, so reading a job's builds does
// not wait on the item tree.
type history struct {
	mu      sync.Mutex
	builds  []*build // oldest first
	next    int      // next build number
	queued  bool
	running bool
}

func newHistory() *history { return &history{next: 1} }

// all returns the builds, oldest first.
func (h *history) all() []*build {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*build(nil), h.builds...)
}

// last returns the newest build pred accepts, or nil.
func (h *history) last(pred func(*build) bool) *build {
	for _, b := range reversed(h.all()) {
		if pred(b) {
			return b
		}
	}
	return nil
}

func reversed(bs []*build) []*build {
	for i, k := 0, len(bs)-1; i < k; i, k = i+1, k-1 {
		bs[i], bs[k] = bs[k], bs[i]
	}
	return bs
}

func (h *history) nextNumber() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next
}

func (h *history) isQueued() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.queued
}

func (h *history) isRunning() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.running
}

func (h *history) setQueued() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queued = true
}

// begin starts the next build unless one is running (jobs do not run
// concurrently); it returns nil while the job is busy.
func (h *history) begin(queueID int, started time.Time, cause string) *build {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running {
		return nil
	}
	b := &build{number: h.next, queueID: queueID, started: started, cause: cause}
	h.next++
	h.builds = append(h.builds, b)
	h.running, h.queued = true, false
	return b
}

// end marks the running build as done.
func (h *history) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = false
}

// queueItem is a hudson.model.Queue item. build is set (under the queue's
// lock) once the item left the queue.
type queueItem struct {
	id    int
	job   *item
	since time.Time
	quiet time.Duration // the quiet period it waits
	build *build
	cause string
	// noNodes is the label the item waits for when no node has it: it
	// stays a BuildableItem, never starting.
	noNodes string
}

// buildQueue is hudson.model.Queue plus the count of running builds
// (what safeRestart waits for). It locks itself.
type buildQueue struct {
	mu     sync.Mutex
	items  map[int]*queueItem
	nextID int
	active int
}

func newBuildQueue() *buildQueue { return &buildQueue{items: map[int]*queueItem{}, nextID: 1} }

// schedule queues job, or returns the item already waiting for it (a job
// waiting in the queue absorbs new requests) with fresh false.
func (bq *buildQueue) schedule(job *item, since time.Time, quiet time.Duration, cause string) (qi *queueItem, fresh bool) {
	bq.mu.Lock()
	defer bq.mu.Unlock()
	if qi := bq.waitingLocked(job); qi != nil {
		return qi, false
	}
	qi = &queueItem{id: bq.nextID, job: job, since: since, quiet: quiet, cause: cause}
	bq.nextID++
	bq.items[qi.id] = qi
	return qi, true
}

func (bq *buildQueue) waitingLocked(job *item) *queueItem {
	for _, qi := range bq.items {
		if qi.job == job && qi.build == nil {
			return qi
		}
	}
	return nil
}

// view runs f with the queue locked, so a model sees one consistent state.
func (bq *buildQueue) view(f func()) {
	bq.mu.Lock()
	defer bq.mu.Unlock()
	f()
}

// left records that qi became build b, which now runs.
func (bq *buildQueue) left(qi *queueItem, b *build) {
	bq.mu.Lock()
	defer bq.mu.Unlock()
	qi.build = b
	bq.active++
}

// done records that a build finished.
func (bq *buildQueue) done() {
	bq.mu.Lock()
	defer bq.mu.Unlock()
	bq.active--
}

// busy reports whether a build runs.
func (bq *buildQueue) busy() bool {
	bq.mu.Lock()
	defer bq.mu.Unlock()
	return bq.active > 0
}

// waitForNodes marks qi as waiting for a node with label.
func (bq *buildQueue) waitForNodes(qi *queueItem, label string) {
	bq.mu.Lock()
	defer bq.mu.Unlock()
	qi.noNodes = label
}
