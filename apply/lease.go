package apply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// Jenkins has no lock API, so two applies of one spec on one controller
// are kept apart by a lease the tool keeps in Jenkins itself, built on the
// one write a controller makes atomically and refuses to repeat: creating
// an item (createItem answers 400 "A job already exists" to the second
// caller, ItemGroupMixIn.createProjectFromXML under the item group's lock).
//
// A lease is a disabled freestyle job at the top level named
// "jenkins-cloudsmith-lease.<spec id>.<n>", its description saying who
// holds it and until when. Generations n only grow: an apply takes
// generation n+1 when generation n is released or expired, so exactly one
// of two applies that saw the same n creates n+1, and the loser is told
// who won. The newest generation is never deleted (releasing rewrites its
// description), so a later apply cannot mistake an empty list for a free
// lease; after taking n+1 the winner checks no newer generation appeared
// (an apply that listed long ago) and deletes the older ones. A crashed
// holder's lease expires after LeaseTTL (the holder renews it while it
// runs), and the next apply takes the next generation.

// LeaseTTL is how long a lease lasts without renewal: a crashed apply
// blocks the next one for at most this long.
const LeaseTTL = 2 * time.Minute

// leasePrefix starts every lease item's name.
const leasePrefix = "jenkins-cloudsmith-lease."

// LeaseJenkins is what leasing needs from a controller.
type LeaseJenkins interface {
	ListJobs(ctx context.Context) ([]jenkins.Item, error)
	CreateJob(ctx context.Context, fullName string, xml []byte) error
	UpdateJob(ctx context.Context, fullName string, xml []byte) error
	DeleteJob(ctx context.Context, fullName string) error
}

// LeaseOptions tune Acquire.
type LeaseOptions struct {
	// TTL is the lease's lifetime between renewals (default LeaseTTL).
	TTL time.Duration
	// Holder says who holds it, for the message another apply prints
	// (default host name and process id).
	Holder string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Lease is a held lease. Release it when done.
type Lease struct {
	j      LeaseJenkins
	name   string
	spec   string
	info   leaseInfo
	o      LeaseOptions
	stop   chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex
	cancel context.CancelCauseFunc
}

// leaseInfo is what a lease item's description says.
type leaseInfo struct {
	Holder   string
	Nonce    string
	Started  time.Time
	Expires  time.Time
	Released bool
}

func (l leaseInfo) text() string {
	state := "held"
	if l.Released {
		state = "released"
	}
	return fmt.Sprintf("jenkins-cloudsmith apply lease: state=%s holder=%s nonce=%s started=%s expires=%s",
		state, strings.ReplaceAll(l.Holder, " ", "_"), l.Nonce, l.Started.UTC().Format(time.RFC3339), l.Expires.UTC().Format(time.RFC3339))
}

func parseLease(desc string) (leaseInfo, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(desc), "jenkins-cloudsmith apply lease:")
	if !ok {
		return leaseInfo{}, false
	}
	var l leaseInfo
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "state":
			l.Released = v == "released"
		case "holder":
			l.Holder = v
		case "nonce":
			l.Nonce = v
		case "started":
			l.Started, _ = time.Parse(time.RFC3339, v)
		case "expires":
			l.Expires, _ = time.Parse(time.RFC3339, v)
		}
	}
	return l, !l.Expires.IsZero()
}

func leaseConfig(l leaseInfo) []byte {
	return []byte("<?xml version='1.1' encoding='UTF-8'?>\n<project>\n  <description>" + html.EscapeString(l.text()) +
		"</description>\n  <keepDependencies>false</keepDependencies>\n  <properties/>\n  <scm class=\"hudson.scm.NullSCM\"/>\n" +
		"  <canRoam>true</canRoam>\n  <disabled>true</disabled>\n  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>\n" +
		"  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>\n  <triggers/>\n  <concurrentBuild>false</concurrentBuild>\n" +
		"  <builders/>\n  <publishers/>\n  <buildWrappers/>\n</project>\n")
}

// LeaseName is the item of generation gen of spec id's lease. A '/' in the
// id would make a folder path, so it becomes '.'.
func LeaseName(specID string, gen int) string {
	return leasePrefix + strings.ReplaceAll(specID, "/", ".") + "." + strconv.Itoa(gen)
}

// LeaseHeldError says another apply holds the lease.
type LeaseHeldError struct {
	Spec, Item string
	Holder     string
	Started    time.Time
	Expires    time.Time
}

// Error names the holder, until when it holds the lease, and what to do.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("another apply of spec %s is running on this controller (held by %s since %s, lease item %q): nothing was changed; "+
		"run again when it has finished. If it crashed, its lease expires at %s; or delete the job %q in Jenkins once you are sure it is not running",
		e.Spec, e.Holder, e.Started.UTC().Format(time.RFC3339), e.Item, e.Expires.UTC().Format(time.RFC3339), e.Item)
}

// ErrLeaseLost is the cause of the context of a lease that another apply
// took over (it expired because this process stalled).
var ErrLeaseLost = errors.New("the apply lease was taken over by another apply after it expired")

type leaseItem struct {
	name string
	gen  int
	info leaseInfo
	ok   bool
}

func (l *Lease) items(ctx context.Context) ([]leaseItem, error) {
	all, err := l.j.ListJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the apply lease: %w", err)
	}
	prefix := strings.TrimSuffix(LeaseName(l.spec, 0), "0")
	var out []leaseItem
	for _, it := range all {
		rest, ok := strings.CutPrefix(it.FullName, prefix)
		if !ok || it.Folder {
			continue
		}
		gen, err := strconv.Atoi(rest)
		if err != nil || gen < 1 || strconv.Itoa(gen) != rest {
			continue
		}
		info, ok := parseLease(it.Description)
		out = append(out, leaseItem{name: it.FullName, gen: gen, info: info, ok: ok})
	}
	return out, nil
}

func newest(items []leaseItem) (leaseItem, bool) {
	var m leaseItem
	for _, it := range items {
		if it.gen > m.gen {
			m = it
		}
	}
	return m, m.gen > 0
}

func (l *Lease) held(it leaseItem) *LeaseHeldError {
	now := l.o.Now()
	if !it.ok || it.info.Released || !now.Before(it.info.Expires) {
		return nil
	}
	return &LeaseHeldError{Spec: l.spec, Item: it.name, Holder: it.info.Holder, Started: it.info.Started, Expires: it.info.Expires}
}

// Acquire takes the apply lease of spec specID on j, or returns a
// *LeaseHeldError naming the apply that holds it. The returned context is
// ctx, cancelled with ErrLeaseLost should the lease be taken over while
// held; Release stops renewing and frees the lease.
func Acquire(ctx context.Context, j LeaseJenkins, specID string, o LeaseOptions) (*Lease, context.Context, error) {
	if o.TTL <= 0 {
		o.TTL = LeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s/pid-%d", host, os.Getpid())
	}
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	l := &Lease{j: j, spec: specID, o: o, stop: make(chan struct{})}
	now := o.Now()
	l.info = leaseInfo{Holder: o.Holder, Nonce: hex.EncodeToString(nonce), Started: now, Expires: now.Add(o.TTL)}

	items, err := l.items(ctx)
	if err != nil {
		return nil, nil, err
	}
	gen := 1
	if m, ok := newest(items); ok {
		if h := l.held(m); h != nil {
			return nil, nil, h
		}
		gen = m.gen + 1
	}
	l.name = LeaseName(specID, gen)
	if err := j.CreateJob(ctx, l.name, leaseConfig(l.info)); err != nil {
		if errors.Is(err, jenkins.ErrAlreadyExists) {
			return nil, nil, l.loser(ctx)
		}
		return nil, nil, fmt.Errorf("take the apply lease (create job %q at the top level; needs Job/Create there): %w", l.name, err)
	}
	// Ours for sure (the create may have been retried after a lost answer),
	// and still the newest?
	if items, err = l.items(ctx); err != nil {
		return nil, nil, err
	}
	m, _ := newest(items)
	for _, it := range items {
		if it.name == l.name && it.info.Nonce != l.info.Nonce {
			return nil, nil, l.loser(ctx)
		}
	}
	if m.gen > gen {
		_ = j.DeleteJob(ctx, l.name)
		if h := l.held(m); h != nil {
			return nil, nil, h
		}
		return nil, nil, fmt.Errorf("another apply of spec %s took the lease at the same moment; run again", specID)
	}
	for _, it := range items {
		if it.gen < gen {
			// Superseded: only the newest generation must stay.
			_ = j.DeleteJob(ctx, it.name)
		}
	}
	lctx, cancel := context.WithCancelCause(ctx)
	l.cancel = cancel
	l.done.Add(1)
	go l.renew(lctx)
	return l, lctx, nil
}

// loser reports the lease another apply took first.
func (l *Lease) loser(ctx context.Context) error {
	items, err := l.items(ctx)
	if err == nil {
		if m, ok := newest(items); ok {
			if h := l.held(m); h != nil {
				return h
			}
		}
	}
	return &LeaseHeldError{Spec: l.spec, Item: l.name, Holder: "another apply", Started: l.info.Started, Expires: l.info.Expires}
}

// renew pushes the expiry forward every third of the TTL, and cancels the
// lease's context if a newer generation appeared (this process stalled
// past the expiry and another apply took over).
func (l *Lease) renew(ctx context.Context) {
	defer l.done.Done()
	t := time.NewTicker(l.o.TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		items, err := l.items(ctx)
		if err != nil {
			continue
		}
		if m, _ := newest(items); m.gen > 0 && m.name != l.name {
			l.cancel(ErrLeaseLost)
			return
		}
		l.mu.Lock()
		l.info.Expires = l.o.Now().Add(l.o.TTL)
		cfg := leaseConfig(l.info)
		l.mu.Unlock()
		_ = l.j.UpdateJob(ctx, l.name, cfg)
	}
}

// Release stops renewing and marks the lease released (the item stays: the
// newest generation must never disappear). It uses a fresh context so that
// an interrupted apply still frees its lease.
func (l *Lease) Release() error {
	close(l.stop)
	l.done.Wait()
	l.cancel(nil)
	l.mu.Lock()
	l.info.Released = true
	cfg := leaseConfig(l.info)
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.j.UpdateJob(ctx, l.name, cfg); err != nil {
		return fmt.Errorf("release the apply lease %q (it expires by itself within %s): %w", l.name, l.o.TTL, err)
	}
	return nil
}
