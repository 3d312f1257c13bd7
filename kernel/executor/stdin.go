package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/goinv/goinv/kernel/ipc"
)

// stdinPipe makes os.Stdin a pipe the executor feeds. A pipe gives no signal when
// someone reads it, so while a cell runs a watcher looks for a thread blocked in
// read(2) on the pipe (/proc/self/task/*/syscall) and then asks the frontend for a
// line. The pipe is in blocking mode on purpose: Go then reads it with a plain
// read(2) on the reading goroutine's thread, which is what the watcher can see.
type stdinPipe struct {
	mu sync.Mutex
	r  *os.File
	w  *os.File
	fd int
	// eof: the watcher closed w to give a reader end of file; the next stop
	// opens a fresh pipe.
	eof bool
}

// fd0Files keeps every *os.File that was ever fd 0 alive, for the life of the
// process: a collected one's finalizer would close fd 0, which by then is the
// current stdin pipe (a second executor in one process, as in tests, made the
// first one's files garbage and lost its stdin).
var (
	fd0Mu    sync.Mutex
	fd0Files []*os.File
)

func newStdinPipe() (*stdinPipe, error) {
	p := &stdinPipe{}
	if err := p.open(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *stdinPipe) open() error {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return fmt.Errorf("stdin pipe: %w", err)
	}
	// Put the read end at fd 0 so child processes and os.Stdin agree.
	if fds[0] == 0 { // fd 0 was closed: the pipe got it
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, 0, syscall.F_SETFD, 0); e != 0 {
			return fmt.Errorf("stdin pipe: %w", e)
		}
	} else {
		if err := syscall.Dup3(fds[0], 0, 0); err != nil {
			return fmt.Errorf("stdin pipe: %w", err)
		}
		syscall.Close(fds[0])
	}
	fd0Mu.Lock()
	if p.r != nil {
		fd0Files = append(fd0Files, p.r)
	} else {
		fd0Files = append(fd0Files, os.Stdin) // the original fd-0 File
	}
	fd0Mu.Unlock()
	p.r = os.NewFile(0, "/dev/stdin")
	p.w = os.NewFile(uintptr(fds[1]), "stdin-writer")
	p.fd = 0
	os.Stdin = p.r
	return nil
}

// pending returns the number of unread bytes in the pipe.
func (p *stdinPipe) pending() int {
	var n int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(p.fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return 0
	}
	return int(n)
}

// blockedReader reports whether some thread of this process is blocked reading the pipe.
func (p *stdinPipe) blockedReader() bool {
	tasks, _ := filepath.Glob("/proc/self/task/*/syscall")
	want := fmt.Sprintf("0 0x%x ", p.fd)
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err == nil && strings.HasPrefix(string(b), want) {
			return true
		}
	}
	return false
}

// watchAfter is how long a cell runs before stdin is watched, and how often the
// watcher looks after that.
const watchAfter = 15 * time.Millisecond

// watch serves reads of stdin during one cell, until the returned stop is called.
//
// The watcher starts only once the cell has run for watchAfter (nothing can be
// waiting for input earlier than its first look anyway): a short cell then costs a
// timer, not a goroutine to start and to wake up and wait for at its end, which
// were two cross-thread hand-offs on every cell's reply path.
func (p *stdinPipe) watch(ctx context.Context, x *Executor, id uint64, allow bool) (stop func()) {
	done := make(chan struct{})
	var (
		mu      sync.Mutex
		stopped bool
		wg      sync.WaitGroup
	)
	t := time.AfterFunc(watchAfter, func() {
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		wg.Add(1)
		mu.Unlock()
		defer wg.Done()
		p.serve(ctx, done, x, id, allow)
	})
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
		close(done)
		wg.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.eof {
			// A closed writer gave a reader EOF: open a fresh pipe for later cells.
			p.eof = false
			p.open()
		}
	}
}

// serve answers reads of stdin until done or ctx ends: every watchAfter it looks
// for a reader blocked on the empty pipe and asks the frontend for a line.
func (p *stdinPipe) serve(ctx context.Context, done <-chan struct{}, x *Executor, id uint64, allow bool) {
	tick := time.NewTicker(watchAfter)
	defer tick.Stop()
	for {
		if p.pending() == 0 && p.blockedReader() {
			if !allow {
				fmt.Fprintln(os.Stderr, "goinv: the cell reads standard input, but this frontend does not accept input (allow_stdin is false): it reads end of file")
				p.mu.Lock()
				p.w.Close() // the reader sees EOF
				p.eof = true
				p.mu.Unlock()
				return
			}
			ch := make(chan string, 1)
			x.mu.Lock()
			x.inputWait = ch
			x.mu.Unlock()
			x.send(ipc.Event{ID: id, Kind: ipc.EventInputRequest, Prompt: ""})
			var v string
			select {
			case v = <-ch:
			case <-ctx.Done():
			case <-done:
			}
			x.mu.Lock()
			x.inputWait = nil
			x.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			p.mu.Lock()
			p.w.Write([]byte(v + "\n"))
			p.mu.Unlock()
		}
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
