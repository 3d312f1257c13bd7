package memrelease

import (
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

var sink []byte

func TestReleaser(t *testing.T) {
	var n atomic.Int32
	r := New(Options{After: 20 * time.Millisecond, Release: func() { n.Add(1) }})
	// wait lets an idle period pass; until polls for an expected release (a
	// loaded machine may run the timer late).
	wait := func() { time.Sleep(150 * time.Millisecond) }
	until := func(want int32) {
		for deadline := time.Now().Add(5 * time.Second); n.Load() < want && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		wait() // and no second release
	}
	alloc := func() {
		for i := 0; i < 64; i++ {
			sink = make([]byte, 64<<10) // 4 MB in all
		}
	}

	alloc()
	r.Busy()
	r.Idle()
	until(1)
	if got := n.Load(); got != 1 {
		t.Fatalf("after an idle period: %d releases, want 1", got)
	}

	r.Busy()
	r.Idle()
	wait()
	if got := n.Load(); got != 1 {
		t.Errorf("idle again with nothing allocated: %d releases, want still 1", got)
	}

	alloc()
	r.Idle()
	r.Busy() // work resumed before the idle period ended
	wait()
	if got := n.Load(); got != 1 {
		t.Errorf("busy again before the release: %d releases, want still 1", got)
	}
	r.Idle()
	until(2)
	if got := n.Load(); got != 2 {
		t.Errorf("idle after that: %d releases, want 2", got)
	}

	big := New(Options{After: 20 * time.Millisecond, MaxLive: 1, Release: func() { n.Add(1) }})
	alloc()
	big.Idle()
	wait()
	if got := n.Load(); got != 2 {
		t.Errorf("live heap above MaxLive: %d releases, want still 2", got)
	}
}

// The real release returns memory: after 16 MB of garbage and an idle period, at
// least 2 MB more has been returned to the OS (measured: 4-5 MB; without the
// release, 0-0.2 MB: the runtime alone returns freed pages only gradually).
func TestReleaseReturnsMemory(t *testing.T) {
	r := New(Options{After: 10 * time.Millisecond})
	for i := 0; i < 256; i++ {
		sink = make([]byte, 64<<10)
	}
	sink = nil
	before := released()
	r.Idle()
	after := released()
	for deadline := time.Now().Add(5 * time.Second); after < before+2<<20 && time.Now().Before(deadline); after = released() {
		time.Sleep(10 * time.Millisecond)
	}
	if after < before+2<<20 {
		t.Errorf("heap returned to the OS: %d bytes before the idle release, %d 5 s after", before, after)
	}
}

func released() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
