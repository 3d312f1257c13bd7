// Package executor is the goinv executor process: one yaegi session that runs cells
// on behalf of the supervisor.
//
// The supervisor starts `goinv executor` with requests on fd 3 and events on fd 4 (see
// package ipc) and reads fd 1 and 2. Requests are read by their own goroutine, so an
// interrupt cancels the running cell's context within microseconds; cells run one at
// a time on another goroutine. All event writes go through one mutex: a pipe write
// larger than 4 KiB is not atomic.
package executor

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/goinv/goinv/kernel/internal/memrelease"
	"github.com/goinv/goinv/kernel/ipc"
	"github.com/goinv/goinv/stdlib/display"
)

// Main runs the executor on fds 3 and 4 until shutdown or until the requests pipe
// closes. It returns the process exit status.
func Main() int {
	// Both pipes are non-blocking and go through the runtime's poller: the
	// reading goroutine parks instead of holding a thread in read(2), so the
	// cell it hands to the worker runs on the same thread at once (a blocking
	// read made every request wake a second thread), and the reads and writes
	// are raw system calls (see rawPipe). Neither pipe belongs to the processes
	// a cell starts (`!command`).
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	req, err := newRawPipe(3, "requests")
	if err != nil {
		fmt.Fprintln(os.Stderr, "goinv executor: fds 3 and 4 must be the request and event pipes; start it through `goinv kernel`:", err)
		return 2
	}
	ev, err := newRawPipe(4, "events")
	if err != nil {
		fmt.Fprintln(os.Stderr, "goinv executor: fds 3 and 4 must be the request and event pipes; start it through `goinv kernel`:", err)
		return 2
	}
	x, err := New(ev)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goinv executor:", err)
		return 1
	}
	// Buffered: a request arrives whole, and is then read with one read(2) instead
	// of one for its length and one for its body.
	return x.Serve(bufio.NewReaderSize(req, 64<<10))
}

// Executor is one session.
type Executor struct {
	evMu  sync.Mutex
	ev    io.Writer
	evBuf []byte // encodes events, under evMu

	sess *session

	mu      sync.Mutex
	running uint64             // ID of the running execute request, 0 if none
	cancel  context.CancelFunc // cancels the running cell
	// An interrupt can arrive after an execute request was read but before its cell
	// started (the worker was still busy, or slow to be scheduled): it must still stop
	// that cell, so the interrupt is remembered against the newest execute request.
	received    uint64      // ID of the newest execute request read, 0 if none is unfinished
	interrupted uint64      // ID of a received execute request interrupted before it started
	inputWait   chan string // an input_reply is awaited

	work chan ipc.Request
	done chan struct{}

	// With acks on ($GOINV_IPC_ACK=1, set by the supervisor), a display waits until
	// the supervisor has taken it in order with the output printed before it; see
	// package ipc.
	acks    bool
	ackSeq  uint64
	pending map[uint64]chan struct{}
}

// New prepares an executor that writes events to ev.
func New(ev io.Writer) (*Executor, error) {
	x := &Executor{ev: ev, work: make(chan ipc.Request, 64), done: make(chan struct{}),
		acks: os.Getenv(ipc.AckEnv) == "1", pending: map[uint64]chan struct{}{}}
	s, err := newSession(x)
	if err != nil {
		return nil, err
	}
	x.sess = s
	display.SetSink(sinkFor(x))
	return x, nil
}

// Serve reads requests from r until shutdown or EOF.
func (x *Executor) Serve(r io.Reader) int {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	x.send(ipc.Event{Kind: ipc.EventReady})
	go x.worker()
	for {
		var q ipc.Request
		if err := readRequest(br, &q); err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "goinv executor: read request:", err)
				return 1
			}
			return 0
		}
		ipc.Tracef("executor: read %s", q.Kind)
		switch q.Kind {
		case ipc.KindInterrupt:
			x.interrupt()
		case ipc.KindAck:
			x.mu.Lock()
			if ch := x.pending[q.Seq]; ch != nil {
				delete(x.pending, q.Seq)
				close(ch)
			}
			x.mu.Unlock()
		case ipc.KindInputReply:
			x.mu.Lock()
			ch := x.inputWait
			x.mu.Unlock()
			if ch != nil {
				select {
				case ch <- q.Value:
				default:
				}
			}
		case ipc.KindShutdown:
			x.interrupt()
			x.reply(q.ID, map[string]any{"status": "ok", "restart": false})
			return 0
		default:
			if q.Kind == ipc.KindExecute {
				x.mu.Lock()
				x.received = q.ID
				x.mu.Unlock()
			}
			x.work <- q
		}
	}
}

func (x *Executor) worker() {
	// After a second without requests, freed heap pages go back to the OS, unless
	// the session holds more than 64 MB (see package memrelease for the trade-off).
	idle := memrelease.New(memrelease.Options{})
	for q := range x.work {
		idle.Busy()
		ipc.Tracef("executor: start %s", q.Kind)
		var content map[string]any
		var result *ipc.Event
		switch q.Kind {
		case ipc.KindExecute:
			content, result = x.run(q)
		case ipc.KindComplete:
			content = unpanicked(func() map[string]any { return x.sess.complete(q.Code, q.Cursor) })
		case ipc.KindInspect:
			content = unpanicked(func() map[string]any { return x.sess.inspect(q.Code, q.Cursor, q.DetailLevel) })
		case ipc.KindIsComplete:
			content = isComplete(q.Code)
		default:
			content = map[string]any{"status": "error", "ename": "UnknownRequest", "evalue": "unknown request kind " + q.Kind, "traceback": []string{}}
		}
		ipc.Tracef("executor: done %s", q.Kind)
		if result != nil {
			// The result and the reply leave in one write: the supervisor wakes
			// once for both.
			x.send(*result, ipc.Event{ID: q.ID, Kind: ipc.EventReply, Content: content})
		} else {
			x.reply(q.ID, content)
		}
		ipc.Tracef("executor: replied")
		if len(x.work) == 0 {
			idle.Idle()
		}
	}
}

func (x *Executor) interrupt() {
	x.mu.Lock()
	if x.cancel != nil {
		x.cancel()
	} else if x.received != 0 {
		x.interrupted = x.received
	}
	x.mu.Unlock()
}

// send writes events, in one write; safe for concurrent use.
func (x *Executor) send(evs ...ipc.Event) {
	x.evMu.Lock()
	defer x.evMu.Unlock()
	buf := x.evBuf[:0]
	var err error
	for _, e := range evs {
		if buf, err = appendEvent(buf, e); err != nil {
			fmt.Fprintln(os.Stderr, "goinv executor: write event:", err)
			return
		}
	}
	if _, err := x.ev.Write(buf); err != nil {
		fmt.Fprintln(os.Stderr, "goinv executor: write event:", err)
	}
	if cap(buf) <= 64<<10 {
		x.evBuf = buf // reused; a large display's buffer is let go
	}
}

func (x *Executor) reply(id uint64, content map[string]any) {
	x.send(ipc.Event{ID: id, Kind: ipc.EventReply, Content: content})
}

// current returns the ID of the running execute request (0 if none).
func (x *Executor) current() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.running
}

// encodeBundle turns binary data into base64 strings, as Jupyter expects.
func encodeBundle(b display.MIMEBundle) map[string]any {
	out := make(map[string]any, len(b))
	for k, v := range b {
		if bs, ok := v.([]byte); ok {
			out[k] = base64.StdEncoding.EncodeToString(bs)
		} else {
			out[k] = v
		}
	}
	return out
}

type sink struct{ x *Executor }

func sinkFor(x *Executor) display.Sink { return sink{x} }

func (s sink) Display(data display.MIMEBundle, md map[string]any, id string, update bool) {
	if md == nil {
		md = map[string]any{}
	}
	s.x.sendInOrder(ipc.Event{ID: s.x.current(), Kind: ipc.EventDisplay, Data: encodeBundle(data), Metadata: md, DisplayID: id, Update: update})
}

func (s sink) ClearOutput(wait bool) {
	s.x.sendInOrder(ipc.Event{ID: s.x.current(), Kind: ipc.EventClearOutput, Wait: wait})
}

// ackTimeout bounds the wait for an ack, so that a supervisor that never answers
// costs order, not progress.
const ackTimeout = 5 * time.Second

// sendInOrder sends e and, with acks on, returns only when the supervisor has taken
// it: output printed afterwards then cannot overtake it.
func (x *Executor) sendInOrder(e ipc.Event) {
	if !x.acks {
		x.send(e)
		return
	}
	ch := make(chan struct{})
	x.mu.Lock()
	x.ackSeq++
	e.Seq = x.ackSeq
	x.pending[e.Seq] = ch
	x.mu.Unlock()
	x.send(e)
	t := time.NewTimer(ackTimeout)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		x.mu.Lock()
		delete(x.pending, e.Seq)
		x.mu.Unlock()
	}
}
