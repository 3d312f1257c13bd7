// Package supervisor runs user code out of process: it starts a `goinv executor`,
// talks to it over the frames of package ipc, reads everything the executor prints,
// and survives whatever the executor does.
//
// A Session is one supervised executor at a time. Its API is what both the Jupyter
// kernel (package kernel) and the headless notebook runner (`goinv run`) use:
//
//	s, err := supervisor.Start(supervisor.Options{})       // spawns the executor
//	reply, err := s.Execute(ipc.Request{Code: "1 + 1"}, out) // runs a cell; out gets streams and events
//	reply, err = s.Request(ipc.Request{Kind: ipc.KindComplete, Code: "fmt.Pr", Cursor: 6})
//	s.Interrupt()   // from any goroutine: cancel the running cell
//	s.InputReply(v) // answer an input_request event
//	s.Restart()     // fresh executor, all variables gone
//	s.Close()
//
// Requests run one at a time (Execute and Request serialise on a mutex); Interrupt
// and InputReply may be called concurrently with them.
//
// Output order. The executor's fd 1 and fd 2 and its event pipe (fd 4) are read by
// one goroutine that polls all three and drains stdout/stderr before it handles each
// event, so text printed before a display or a reply arrives before it. A display
// (or clear_output) holds the code that published it until the supervisor acks it,
// which it does right after that drain: text printed after a display is still
// unwritten during the drain and arrives after the display (see package ipc).
// Text is delivered through Outputs.Stream at least every FlushInterval while a cell
// runs, in chunks that never split a UTF-8 character.
//
// Crash isolation. When the executor dies (a panic in a goroutine, a stack overflow,
// os.Exit, the OOM killer, a kill after an ignored interrupt) the request in flight is
// answered with an error reply whose ename is "SessionLost" and whose evalue says how
// the process ended, its last stderr lines and that the variables were lost. The next
// request starts a fresh executor. Execute returns an error only when no executor can
// be started at all.
//
// Interrupt. Interrupt sends an interrupt request; interpreted code stops within
// microseconds. If the cell has not replied within Options.InterruptGrace (default
// 5 s, or $GOINV_INTERRUPT_GRACE as a Go duration or seconds), the executor is
// killed and the cell's reply says so.
package supervisor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/goinv/goinv/kernel/internal/jsonscan"
	"github.com/goinv/goinv/kernel/ipc"
)

// EnameSessionLost is the ename of the error reply sent when the executor dies.
const EnameSessionLost = "SessionLost"

// Options configure a Session. The zero value runs `os.Executable() executor`.
type Options struct {
	// Path is the executable to start; empty means os.Executable().
	Path string
	// Args are the arguments after the program name; nil means ["executor"].
	Args []string
	// Env is the executor's environment; nil means os.Environ().
	Env []string
	// Dir is the executor's working directory; empty means the current one.
	Dir string
	// InterruptGrace is how long an interrupted cell may take to reply before the
	// executor is killed. Zero means $GOINV_INTERRUPT_GRACE or 5 s.
	InterruptGrace time.Duration
	// FlushInterval bounds how long printed text waits before Outputs.Stream sees
	// it. Zero means 50 ms.
	FlushInterval time.Duration
	// Log receives the supervisor's own diagnostics; nil means os.Stderr.
	Log io.Writer
}

// Outputs receive what a request produces besides its reply.
type Outputs struct {
	// Sent, if not nil, is called by Execute on its own goroutine as soon as the
	// request has been handed to the executor, before it waits for the reply: work
	// that need not precede the cell (publishing status messages) can overlap it.
	// Stream and Event may be called before Sent returns.
	Sent func()
	// Stream receives text printed on "stdout" or "stderr".
	Stream func(name, text string)
	// Event receives display, clear_output, execute_result and input_request events.
	Event func(ev ipc.Event)
	// Result, if not nil, receives the execute_result events instead of Event,
	// with the MIME bundle and the metadata as the JSON objects the executor sent
	// (each nil when it sent none): a caller that forwards them (the kernel) need
	// not decode and encode them again.
	Result func(data, metadata json.RawMessage)
}

// Session is a supervised executor. Its methods are safe for concurrent use.
type Session struct {
	opts Options

	reqMu sync.Mutex // one request at a time

	mu      sync.Mutex
	proc    *process
	nextID  uint64
	outputs Outputs // the latest execute's: receives ID-0 events and stray output
	closed  bool
}

// Start starts a session and its first executor. It does not wait for the executor
// to be ready: the first request does.
func Start(opts Options) (*Session, error) {
	if opts.InterruptGrace == 0 {
		opts.InterruptGrace = 5 * time.Second
		if v := os.Getenv("GOINV_INTERRUPT_GRACE"); v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				opts.InterruptGrace = d
			} else if f, err := strconv.ParseFloat(v, 64); err == nil {
				opts.InterruptGrace = time.Duration(f * float64(time.Second))
			}
		}
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 50 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if opts.Path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("supervisor: find own executable: %w", err)
		}
		opts.Path = exe
	}
	if opts.Args == nil {
		opts.Args = []string{"executor"}
	}
	s := &Session{opts: opts}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.spawn()
	if err != nil {
		return nil, err
	}
	s.proc = p
	return s, nil
}

// Execute runs req as a cell (req.Kind is set to "execute") and returns the
// execute_reply content. out receives the cell's output; it also receives output
// that arrives later without a request (goroutines outliving their cell) until the
// next Execute.
func (s *Session) Execute(req ipc.Request, out Outputs) (map[string]any, error) {
	return decodeContent(s.ExecuteRaw(req, out))
}

// ExecuteRaw is Execute returning the execute_reply content as the JSON object the
// executor sent: a caller that forwards it (the kernel) need not decode and encode
// it again.
func (s *Session) ExecuteRaw(req ipc.Request, out Outputs) (json.RawMessage, error) {
	req.Kind = ipc.KindExecute
	return s.do(req, &out)
}

// Request sends a non-execute request (complete, inspect, is_complete) and returns
// its reply content. Output produced meanwhile goes to the latest execute's Outputs.
func (s *Session) Request(req ipc.Request) (map[string]any, error) {
	return decodeContent(s.do(req, nil))
}

// decodeContent decodes a reply content; one that is not a JSON object (which the
// executor never sends) reads as an error reply saying so.
func decodeContent(raw json.RawMessage, err error) (map[string]any, error) {
	if err != nil {
		return nil, err
	}
	var content map[string]any
	if err := json.Unmarshal(raw, &content); err != nil || content == nil {
		msg := fmt.Sprintf("the executor's reply content does not decode: %v", err)
		return map[string]any{"status": "error", "ename": "ExecutorError", "evalue": msg, "traceback": []string{msg}}, nil
	}
	return content, nil
}

func (s *Session) do(req ipc.Request, out *Outputs) (json.RawMessage, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	p, err := s.running()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.nextID++
	req.ID = s.nextID
	if out != nil {
		s.outputs = *out
	}
	s.mu.Unlock()
	call := &call{id: req.ID, kind: req.Kind, out: out, done: make(chan json.RawMessage, 1)}
	if out == nil {
		call.out = nil
	}
	p.setCall(call)
	ipc.Tracef("supervisor: sending %s", req.Kind)
	if err := p.send(req); err != nil {
		// The process is dying; its reader will answer the call.
		fmt.Fprintf(s.opts.Log, "goinv: send %s request: %v\n", req.Kind, err)
	}
	if out != nil && out.Sent != nil {
		out.Sent()
	}
	return <-call.done, nil
}

// running returns a live executor, starting a fresh one if the last one died.
func (s *Session) running() (*process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("supervisor: session closed")
	}
	if s.proc != nil && !s.proc.isDead() {
		return s.proc, nil
	}
	p, err := s.spawn()
	if err != nil {
		return nil, err
	}
	s.proc = p
	return p, nil
}

// Interrupt cancels the running cell. If it does not reply within the grace
// period, the executor is killed.
func (s *Session) Interrupt() {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil || p.isDead() {
		return
	}
	p.interrupt(s.opts.InterruptGrace)
}

// InputReply answers the executor's pending input_request with value.
func (s *Session) InputReply(value string) {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p != nil && !p.isDead() {
		p.send(ipc.Request{Kind: ipc.KindInputReply, Value: value})
	}
}

// Restart ends the current executor (all variables are lost) and starts a fresh one.
func (s *Session) Restart() error {
	s.mu.Lock()
	old := s.proc
	s.proc = nil
	s.mu.Unlock()
	if old != nil {
		old.stop(500 * time.Millisecond)
	}
	_, err := s.running()
	return err
}

// Close ends the executor and the session.
func (s *Session) Close() error {
	s.mu.Lock()
	s.closed = true
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop(500 * time.Millisecond)
	}
	return nil
}

// Pid returns the process ID of the current executor, 0 if none.
func (s *Session) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.isDead() {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

func (s *Session) currentOutputs() Outputs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outputs
}

// call is a request in flight.
type call struct {
	id   uint64
	kind string
	out  *Outputs
	done chan json.RawMessage // the reply's content
}

// process is one executor.
type process struct {
	s   *Session
	cmd *exec.Cmd

	wmu sync.Mutex
	req *os.File // fd 3 of the child, our write end

	crash *os.File // the child's crash report (fd 5 of the child), nil if none

	mu          sync.Mutex
	call        *call
	dead        bool
	killReason  string
	ready       chan struct{}
	readyClosed bool
	exited      chan struct{}
}

func (s *Session) spawn() (*process, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("supervisor: pipe: %w", err)
	}
	var fds [3][2]int // stdout, stderr, events: [read, write]
	for i := range fds {
		if err := unix.Pipe2(fds[i][:], unix.O_CLOEXEC); err != nil {
			return nil, fmt.Errorf("supervisor: pipe: %w", err)
		}
		// Bigger pipes: fewer wake-ups under heavy output.
		unix.FcntlInt(uintptr(fds[i][0]), unix.F_SETPIPE_SZ, 1<<20)
	}
	outW := os.NewFile(uintptr(fds[0][1]), "stdout")
	errW := os.NewFile(uintptr(fds[1][1]), "stderr")
	evW := os.NewFile(uintptr(fds[2][1]), "events")
	cmd := exec.Command(s.opts.Path, s.opts.Args...)
	env := s.opts.Env
	if env == nil {
		env = os.Environ()
	}
	// Displays wait for an ack, which this supervisor sends (see package ipc).
	cmd.Env = append(env[:len(env):len(env)], ipc.AckEnv+"=1")
	// The crash report file: unlinked at once, so nothing is left behind; the child
	// writes through fd 5, this process reads through crash when the child dies.
	crash, err := os.CreateTemp("", "goinv-crash-*")
	if err == nil {
		os.Remove(crash.Name())
		cmd.Env = append(cmd.Env, ipc.CrashFDEnv+"=5")
	}
	cmd.Dir = s.opts.Dir
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.ExtraFiles = []*os.File{reqR, evW}
	if crash != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, crash) // fd 5
	}
	// Own process group: a SIGINT sent to the kernel's group (Ctrl-C in a terminal)
	// must not kill the executor behind the supervisor's back.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	reqR.Close()
	if err != nil && crash != nil {
		crash.Close()
	}
	outW.Close()
	errW.Close()
	evW.Close()
	if err != nil {
		reqW.Close()
		for i := range fds {
			unix.Close(fds[i][0])
		}
		return nil, fmt.Errorf("supervisor: start %s: %w", s.opts.Path, err)
	}
	p := &process{s: s, cmd: cmd, req: reqW, crash: crash, ready: make(chan struct{}), exited: make(chan struct{})}
	go p.readLoop(fds[0][0], fds[1][0], fds[2][0])
	return p, nil
}

func (p *process) isDead() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead
}

func (p *process) setCall(c *call) {
	p.mu.Lock()
	dead := p.dead
	if !dead {
		p.call = c
	}
	p.mu.Unlock()
	if dead {
		c.done <- lostReply(c, "the executor was not running")
	}
}

func (p *process) send(req ipc.Request) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return ipc.WriteFrame(p.req, req)
}

func (p *process) interrupt(grace time.Duration) {
	p.mu.Lock()
	c := p.call
	p.mu.Unlock()
	p.send(ipc.Request{Kind: ipc.KindInterrupt})
	if c == nil || c.kind != ipc.KindExecute {
		return
	}
	go func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.exited:
			return
		}
		p.mu.Lock()
		still := p.call == c && !p.dead
		if still {
			p.killReason = fmt.Sprintf("the cell ignored the interrupt for %v, so the session was ended", grace)
		}
		p.mu.Unlock()
		if still {
			p.cmd.Process.Kill()
		}
	}()
}

// stop asks the executor to shut down and kills it after wait.
func (p *process) stop(wait time.Duration) {
	p.mu.Lock()
	if p.killReason == "" {
		p.killReason = "the session was restarted"
	}
	p.mu.Unlock()
	p.send(ipc.Request{Kind: ipc.KindShutdown})
	p.req.Close()
	select {
	case <-p.exited:
	case <-time.After(wait):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// streamBuf accumulates one output stream between flushes.
type streamBuf struct {
	name string
	buf  []byte
	tail []byte // last bytes of stderr, for crash reports

	// fatal is the last "fatal error: …" line seen on stderr: the runtime writes it
	// to stderr only, not to the crash report file (see ipc.CrashFDEnv), and a stack
	// overflow's trace pushes it out of tail. fatalOpen: its end has not arrived yet
	// (the runtime writes "fatal error: " and the message separately, and a read may
	// fall between them).
	fatal     string
	fatalOpen bool
}

// noteFatal remembers the last "fatal error: " line on the stream; before is what
// preceded chunk on the stream (to see a line start at chunk's first byte).
func (b *streamBuf) noteFatal(before, chunk []byte) {
	const marker = "fatal error: "
	if b.fatalOpen {
		end := bytes.IndexByte(chunk, '\n')
		if end < 0 {
			end = len(chunk)
		} else {
			b.fatalOpen = false
		}
		if len(b.fatal) < 512 {
			b.fatal += strings.ToValidUTF8(string(chunk[:end]), "\uFFFD")
		}
	}
	i := bytes.LastIndex(chunk, []byte(marker))
	if i < 0 || (i > 0 && chunk[i-1] != '\n') || (i == 0 && len(before) > 0 && before[len(before)-1] != '\n') {
		return
	}
	line := chunk[i:]
	b.fatalOpen = true
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
		b.fatalOpen = false
	}
	b.fatal = strings.ToValidUTF8(string(line), "\uFFFD")
}

// take returns the buffered text up to the last complete UTF-8 character; with all
// set, everything (at process end nothing more can complete a character).
func (b *streamBuf) take(all bool) string {
	n := len(b.buf)
	if !all {
		n = completeUTF8(b.buf)
	}
	if n == 0 {
		return ""
	}
	text := string(b.buf[:n])
	b.buf = append(b.buf[:0], b.buf[n:]...)
	return text
}

// completeUTF8 returns the length of the longest prefix of b that does not end in
// the middle of a UTF-8 encoded character.
func completeUTF8(b []byte) int {
	n := len(b)
	// Look back at most 3 bytes for the start of the last character.
	for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
		c := b[i]
		if c < utf8.RuneSelf {
			return n // ASCII: complete
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[i:]) {
				return n
			}
			return i
		}
	}
	return n // not UTF-8 at all: pass the bytes on rather than hold them forever
}

const tailBytes = 4096

func (p *process) readLoop(outFd, errFd, evFd int) {
	s := p.s
	out := &streamBuf{name: "stdout"}
	errb := &streamBuf{name: "stderr"}
	var evBuf []byte
	// Non-blocking reads: drain reads until a pipe is empty.
	for _, fd := range []int{outFd, errFd, evFd} {
		unix.SetNonblock(fd, true)
	}
	fds := []unix.PollFd{{Fd: int32(outFd), Events: unix.POLLIN}, {Fd: int32(errFd), Events: unix.POLLIN}, {Fd: int32(evFd), Events: unix.POLLIN}}
	bufs := [2]*streamBuf{out, errb}
	open := [3]bool{true, true, true}
	chunk := make([]byte, 256<<10)
	pendingSince := time.Time{}

	flush := func(all bool) {
		for _, b := range bufs {
			if text := b.take(all); text != "" {
				p.stream(b.name, text)
			}
		}
		pendingSince = time.Time{}
	}
	// read reads what is available on output pipe i; false when nothing was (the
	// pipe is empty, or at EOF, which closes it).
	read := func(i int) bool {
		b := bufs[i]
		n, err := unix.Read(int(fds[i].Fd), chunk)
		if n > 0 {
			b.buf = append(b.buf, chunk[:n]...)
			if b == errb {
				b.noteFatal(b.tail, chunk[:n])
				b.tail = append(b.tail, chunk[:n]...)
				if len(b.tail) > 2*tailBytes {
					b.tail = append(b.tail[:0], b.tail[len(b.tail)-tailBytes:]...)
				}
			}
			if pendingSince.IsZero() {
				pendingSince = time.Now()
			}
			return true
		}
		if n == 0 || (err != unix.EINTR && err != unix.EAGAIN) {
			open[i] = false
		}
		return false
	}
	// drain reads everything the output pipes hold now: the executor wrote it before
	// the event being handled. Bounded, so that a goroutine printing without pause
	// cannot hold the event back forever.
	drain := func() {
		for i := range bufs {
			for k := 0; k < 64 && open[i] && read(i); k++ {
			}
		}
		if len(out.buf)+len(errb.buf) >= 1<<20 {
			flush(false)
		}
	}
	for open[0] || open[1] || open[2] {
		timeout := -1
		if !pendingSince.IsZero() {
			left := s.opts.FlushInterval - time.Since(pendingSince)
			if left <= 0 {
				flush(false)
				continue
			}
			timeout = int(left/time.Millisecond) + 1
		}
		for i := range fds {
			fds[i].Revents = 0
			if !open[i] {
				fds[i].Fd = -1
			}
		}
		// poll(2) blocks this thread while it keeps its P: a goroutine this loop
		// just woke (the request waiting for its reply, the publisher) would wait
		// for another thread to be woken to run it. Yielding first lets them run
		// here, now: one thread hand-off less per reply.
		runtime.Gosched()
		n, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintf(s.opts.Log, "goinv: poll executor pipes: %v\n", err)
			break
		}
		if n == 0 {
			continue
		}
		readable := func(i int) bool { return open[i] && fds[i].Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) != 0 }
		for i := range bufs {
			if readable(i) {
				read(i)
			}
		}
		if len(out.buf)+len(errb.buf) >= 1<<20 {
			flush(false) // large output: keep messages around a megabyte
		}
		if !readable(2) {
			continue
		}
		k, err := unix.Read(evFd, chunk)
		if k <= 0 {
			if k == 0 || (err != unix.EINTR && err != unix.EAGAIN) {
				open[2] = false
			}
			continue
		}
		evBuf = append(evBuf, chunk[:k]...)
		drained := false
		for {
			ev, rest, ok := nextFrame(evBuf)
			if !ok {
				break
			}
			evBuf = rest
			if ev == nil {
				continue
			}
			ipc.Tracef("supervisor: event %s", ev.Kind)
			// Output written before the event goes first. For an event that waits
			// for its ack, the executor is held until the ack: what it prints next
			// is not in the pipes yet, and is read after this event is handled.
			// Events read together were all written before this read, and so was
			// the output before them: one drain serves them all (a second would
			// only pull output written after the last of them ahead of it).
			if !drained || ev.Seq != 0 {
				drain()
				drained = true
			}
			if ev.Seq != 0 {
				p.send(ipc.Request{Kind: ipc.KindAck, Seq: ev.Seq})
			}
			flush(false)
			p.event(ev)
		}
	}
	flush(true)
	unix.Close(outFd)
	unix.Close(errFd)
	unix.Close(evFd)
	werr := p.cmd.Wait()
	p.req.Close()
	var report []byte
	if p.crash != nil {
		report = make([]byte, 64<<10)
		n, _ := p.crash.ReadAt(report, 0)
		report = report[:n]
		p.crash.Close()
	}

	p.mu.Lock()
	p.dead = true
	c := p.call
	p.call = nil
	reason := p.killReason
	if !p.readyClosed {
		p.readyClosed = true
		close(p.ready)
	}
	p.mu.Unlock()
	close(p.exited)
	if c != nil {
		c.done <- lostReply(c, describeExit(werr, reason, report, errb.fatal, errb.tail))
	}
}

// wireEvent is an ipc.Event as the supervisor decodes it: a reply's content, and an
// event's data and metadata, are kept as the executor encoded them (see
// Session.ExecuteRaw and Outputs.Result) and decoded only for a consumer that needs
// maps. These fields, shallower than the embedded Event's, are the ones
// encoding/json fills.
type wireEvent struct {
	ipc.Event
	Content  json.RawMessage `json:"content,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// nextFrame splits one ipc frame off buf. A frame that does not decode is skipped
// (ev nil) rather than stopping the session.
func nextFrame(buf []byte) (ev *wireEvent, rest []byte, ok bool) {
	if len(buf) < 4 {
		return nil, buf, false
	}
	n := int(uint32(buf[0])<<24 | uint32(buf[1])<<16 | uint32(buf[2])<<8 | uint32(buf[3]))
	if len(buf) < 4+n {
		return nil, buf, false
	}
	if n > ipc.MaxFrame {
		return nil, nil, true // a corrupt length: nothing after it can be framed
	}
	var e wireEvent
	if err := e.decode(buf[4 : 4+n]); err != nil {
		return nil, buf[4+n:], true
	}
	return &e, buf[4+n:], true
}

// decode fills e from an event frame's JSON as json.Unmarshal does, reading the
// fields the executor writes directly (the frame ends the round trip of every
// cell); anything unusual (a field of another type, a key this decoder does not
// know, a null where a string, number or boolean goes) is left to json.Unmarshal.
func (e *wireEvent) decode(b []byte) error {
	// The raw fields get bytes of their own: b is a read buffer that is reused.
	raw := func(v []byte) (json.RawMessage, bool) { return append(json.RawMessage(nil), v...), true }
	d, err := jsonscan.Decode(b, func(d *wireEvent, key string, v []byte) (ok bool) {
		switch key {
		case "id":
			d.ID, ok = jsonscan.Uint(v)
		case "kind":
			d.Kind, ok = jsonscan.String(v)
		case "content":
			d.Content, ok = raw(v)
		case "data":
			d.Data, ok = raw(v)
		case "metadata":
			d.Metadata, ok = raw(v)
		case "display_id":
			d.DisplayID, ok = jsonscan.String(v)
		case "update":
			d.Update, ok = jsonscan.Bool(v)
		case "wait":
			d.Wait, ok = jsonscan.Bool(v)
		case "prompt":
			d.Prompt, ok = jsonscan.String(v)
		case "password":
			d.Password, ok = jsonscan.Bool(v)
		case "seq":
			d.Seq, ok = jsonscan.Uint(v)
		}
		return ok
	})
	*e = d
	return err
}

func (p *process) outputsFor(id uint64) Outputs {
	p.mu.Lock()
	c := p.call
	p.mu.Unlock()
	if c != nil && c.out != nil && (id == 0 || id == c.id) {
		return *c.out
	}
	return p.s.currentOutputs()
}

func (p *process) stream(name, text string) {
	if o := p.outputsFor(0); o.Stream != nil {
		o.Stream(name, text)
	}
}

func (p *process) event(ev *wireEvent) {
	switch ev.Kind {
	case ipc.EventReady:
		p.mu.Lock()
		if !p.readyClosed {
			p.readyClosed = true
			close(p.ready)
		}
		p.mu.Unlock()
	case ipc.EventReply:
		p.mu.Lock()
		c := p.call
		if c != nil && c.id == ev.ID {
			p.call = nil
		} else {
			c = nil
		}
		p.mu.Unlock()
		if c != nil {
			content := ev.Content
			if len(content) == 0 || string(content) == "null" {
				content = json.RawMessage(`{"status":"ok"}`)
			}
			c.done <- content
		}
	default:
		o := p.outputsFor(ev.ID)
		if ev.Kind == ipc.EventExecuteResult && o.Result != nil {
			o.Result(ev.Data, ev.Metadata)
			return
		}
		if o.Event != nil {
			e := ev.Event
			// The whole frame decoded, so these decode too unless they are not
			// objects, which the executor never sends: then they are left out.
			if len(ev.Data) > 0 {
				json.Unmarshal(ev.Data, &e.Data)
			}
			if len(ev.Metadata) > 0 {
				json.Unmarshal(ev.Metadata, &e.Metadata)
			}
			o.Event(e)
		}
	}
}

// describeExit says how an executor ended, for the error reply: the crash report's
// start when the Go runtime wrote one, else the last lines of stderr.
func describeExit(werr error, reason string, crashReport []byte, fatal string, stderrTail []byte) string {
	var b strings.Builder
	b.WriteString("The Go session ended")
	if reason != "" {
		b.WriteString(": " + reason)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			sig := ws.Signal()
			fmt.Fprintf(&b, " (killed by signal %s", sig)
			if sig == syscall.SIGKILL && reason == "" {
				b.WriteString("; perhaps out of memory")
			}
			b.WriteString(")")
		} else {
			fmt.Fprintf(&b, " (exit status %d)", ee.ExitCode())
		}
	case werr == nil:
		b.WriteString(" (exit status 0)")
	default:
		fmt.Fprintf(&b, " (%v)", werr)
	}
	b.WriteString(". All variables were lost; the next cell runs in a fresh session.")
	if r := crashSummary(crashReport, fatal); r != "" {
		b.WriteString("\n" + r)
	} else if t := lastLines(stderrTail, 12); t != "" {
		b.WriteString("\nLast output on stderr:\n" + t)
	}
	return b.String()
}

// crashSummary keeps what a reader needs from a Go crash report: the panic or fatal
// error line(s), the goroutine, and the frames of code other than the interpreter,
// reflect and the runtime (a panic in a goroutine started by a cell shows only the
// interpreter's frames; one in compiled toolkit code shows the toolkit's).
func crashSummary(report []byte, fatal string) string {
	lines := strings.Split(strings.ToValidUTF8(string(report), "\uFFFD"), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			start = i
			break
		}
	}
	var out []string
	i := start
	switch {
	case start >= 0:
		for ; i < len(lines) && lines[i] != "" && len(out) < 8; i++ { // the message, possibly several lines
			out = append(out, lines[i])
		}
	case fatal != "" && len(report) > 0: // a throw: its message went to stderr only
		out, i = []string{fatal}, 0
	default:
		return ""
	}
	frames := 0
	for ; i < len(lines) && frames < 6; i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "goroutine ") && strings.HasSuffix(l, ":"):
			if frames == 0 && !strings.HasPrefix(out[len(out)-1], "goroutine ") {
				out = append(out, l)
			}
		case l == "" || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "created by ") || strings.HasSuffix(l, ":"):
		case strings.HasPrefix(l, "github.com/traefik/yaegi/"), strings.HasPrefix(l, "reflect."),
			strings.HasPrefix(l, "runtime."), strings.HasPrefix(l, "panic("):
		default:
			out = append(out, "  in "+l)
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
				out = append(out, "     "+strings.TrimSpace(lines[i+1]))
			}
			frames++
		}
	}
	return "Crash report:\n" + strings.Join(out, "\n")
}

func lastLines(b []byte, n int) string {
	s := strings.TrimRight(strings.ToValidUTF8(string(b), "\uFFFD"), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func lostReply(c *call, msg string) json.RawMessage {
	b, err := json.Marshal(lostContent(c, msg))
	if err != nil { // cannot happen: strings, slices and maps of them
		panic(err)
	}
	return b
}

func lostContent(c *call, msg string) map[string]any {
	switch c.kind {
	case ipc.KindExecute:
		return map[string]any{
			"status": "error", "ename": EnameSessionLost, "evalue": msg,
			"traceback": []string{EnameSessionLost + ": " + msg},
		}
	case ipc.KindComplete:
		return map[string]any{"status": "ok", "matches": []string{}, "cursor_start": 0, "cursor_end": 0, "metadata": map[string]any{}}
	case ipc.KindInspect:
		return map[string]any{"status": "ok", "found": false, "data": map[string]any{}, "metadata": map[string]any{}}
	case ipc.KindIsComplete:
		return map[string]any{"status": "unknown"}
	}
	return map[string]any{"status": "error", "ename": EnameSessionLost, "evalue": msg, "traceback": []string{msg}}
}
