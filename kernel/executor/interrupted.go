package executor

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"time"

	"github.com/traefik/yaegi/interp"
)

// interruptWait bounds how long an interrupted cell waits for the toolkit call it was
// in to return: toolkit loops watch the cell's context and return within a batch or
// an iteration, with a partial result. Another compiled call (a sleep, a channel
// receive, a lock, reading stdin, an external command) most often ignores the
// interrupt: it is waited for only interruptGrace, so that pressing Interrupt on
// time.Sleep answers at once, and one that was about to return still lands its
// result. A call left running is not waited for again; the supervisor ends a
// session that ignores an interrupt for its own grace (5 s).
var (
	interruptWait  = 2 * time.Second
	interruptGrace = 300 * time.Millisecond
)

// toolkitFrame marks a goroutine inside the toolkit, in runtime.Stack's output.
var toolkitFrame = []byte("\ngithub.com/goinv/goinv/stdlib/")

// execute runs prog as yaegi's ExecuteWithContext does, but when ctx is cancelled it
// also waits, up to interruptWait, for the goroutine that ran prog to end.
//
// ExecuteWithContext returns as soon as ctx is done, while its goroutine may still be
// inside a compiled call: interpreted code stops at once, a compiled call only when it
// returns. The toolkit returns partial results on interrupt (a History marked
// interrupted, the finished runs of an experiment), and yaegi assigns them when the
// call returns, so an interrupted `gen, hist, err := munit.Train(...)` keeps its
// results; the next cell, started before that, read nil variables, and then ran
// alongside the old goroutine, which assigned them under its feet.
func (s *session) execute(ctx context.Context, prog *interp.Program) (reflect.Value, error) {
	v, err := s.i.ExecuteWithContext(ctx, prog)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		s.awaitInterrupted()
	}
	return v, err
}

// awaitInterrupted waits until no goroutine runs an interpreted program, other than
// those that outlived an earlier wait (a call that ignores interrupts: it is not
// waited for again).
func (s *session) awaitInterrupted() {
	start := time.Now()
	for {
		running := programGoroutines()
		for id := range s.ignoredInterrupt {
			if _, ok := running[id]; !ok {
				delete(s.ignoredInterrupt, id)
			}
		}
		waiting, patient := false, false
		for id, inToolkit := range running {
			if !s.ignoredInterrupt[id] {
				waiting = true
				patient = patient || inToolkit
			}
		}
		if !waiting {
			return
		}
		limit := interruptGrace
		if patient {
			limit = interruptWait
		}
		if time.Since(start) > limit {
			if s.ignoredInterrupt == nil {
				s.ignoredInterrupt = map[int]bool{}
			}
			for id := range running {
				s.ignoredInterrupt[id] = true
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// programCreator is the frame that starts the goroutine an interpreted program runs
// on. Goroutines a cell starts (go f()) are created by yaegi's run loop instead, and
// are not waited for.
var programCreator = []byte("\ncreated by github.com/traefik/yaegi/interp.(*Interpreter).ExecuteWithContext")

// programGoroutines returns the IDs of the goroutines running an interpreted program,
// each with whether it is inside the toolkit.
func programGoroutines() map[int]bool {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	ids := map[int]bool{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if !bytes.Contains(g, programCreator) {
			continue
		}
		// Each trace starts "goroutine 42 [running]:".
		f := bytes.Fields(g)
		if len(f) > 1 {
			if id, err := strconv.Atoi(string(f[1])); err == nil {
				ids[id] = bytes.Contains(g, toolkitFrame)
			}
		}
	}
	return ids
}
