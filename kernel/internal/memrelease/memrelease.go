// Package memrelease returns a process's free heap memory to the operating system
// once the process has been idle for a while.
//
// The Go runtime keeps freed heap pages resident up to about its next GC goal (twice
// the live heap, at least 4 MB) and hands the rest back only gradually, so a kernel
// that ran many small cells shows a few MB more resident memory than it needs. A
// forced collection with debug.FreeOSMemory returns them at once, but costs a full
// GC: cheap for a small heap, seconds of CPU for a large one. A Releaser therefore
// releases only after the process has been idle for After (a user reading output,
// not a notebook being executed cell after cell), only if at least MinAllocated
// bytes were allocated since its last release (an idle kernel is not collected
// again and again), and only while the live heap is at most MaxLive (a session
// holding a large dataset is left to the runtime's own, gradual scavenger).
package memrelease

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Releaser releases memory after idle periods. The zero value is not usable; use New.
type Releaser struct {
	opts Options

	mu        sync.Mutex
	gen       uint64 // counts Busy and Idle calls
	armed     uint64 // gen of the last Idle: the timer fires for it only
	busy      bool
	t         *time.Timer
	allocated uint64 // cumulative heap allocation at the last release
}

// Options configure a Releaser.
type Options struct {
	// After is how long the process must stay idle; zero means 1 s.
	After time.Duration
	// MaxLive is the largest live heap, in bytes, that is still collected; zero
	// means 64 MB.
	MaxLive uint64
	// MinAllocated is how much must have been allocated since the last release;
	// zero means 1 MB.
	MinAllocated uint64
	// Release, if not nil, replaces debug.FreeOSMemory (for tests).
	Release func()
}

// New returns a Releaser.
func New(opts Options) *Releaser {
	if opts.After == 0 {
		opts.After = time.Second
	}
	if opts.MaxLive == 0 {
		opts.MaxLive = 64 << 20
	}
	if opts.MinAllocated == 0 {
		opts.MinAllocated = 1 << 20
	}
	if opts.Release == nil {
		opts.Release = debug.FreeOSMemory
	}
	return &Releaser{opts: opts}
}

// Busy says that work has started: no release happens until the next Idle.
func (r *Releaser) Busy() {
	r.mu.Lock()
	r.gen++
	r.busy = true
	r.mu.Unlock()
}

// Idle says that work has ended: a release may happen After from now, unless Busy
// is called first.
func (r *Releaser) Idle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.busy = false
	r.armed = r.gen
	// One timer, reset at every idle period: a kernel goes idle after every
	// request, and a fresh timer each time was garbage each time.
	if r.t == nil {
		r.t = time.AfterFunc(r.opts.After, r.fire)
	} else {
		r.t.Reset(r.opts.After)
	}
}

func (r *Releaser) fire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != r.armed || r.busy {
		return // Busy came since (or a stale firing of an earlier period)
	}
	live, allocated := heapStats()
	if allocated-r.allocated < r.opts.MinAllocated || live > r.opts.MaxLive {
		return
	}
	r.opts.Release()
	_, r.allocated = heapStats()
}

// heapStats returns the live heap (as of the last GC) and the bytes allocated so far.
func heapStats() (live, allocated uint64) {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(samples)
	for i, s := range samples {
		if s.Value.Kind() != metrics.KindUint64 {
			continue
		}
		if i == 0 {
			live = s.Value.Uint64()
		} else {
			allocated = s.Value.Uint64()
		}
	}
	return live, allocated
}
