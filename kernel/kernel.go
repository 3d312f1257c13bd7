package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/goinv/goinv/kernel/internal/memrelease"
	"github.com/goinv/goinv/kernel/ipc"
	"github.com/goinv/goinv/kernel/supervisor"
)

var trace = os.Getenv("GOINV_TRACE") != ""

// Version is goinv's version, reported in kernel_info_reply.
var Version = "0.1.0"

// Executor is what the kernel needs from the process that runs cells; a
// *supervisor.Session implements it.
type Executor interface {
	Execute(req ipc.Request, out supervisor.Outputs) (map[string]any, error)
	Request(req ipc.Request) (map[string]any, error)
	Interrupt()
	InputReply(value string)
	Restart() error
	Close() error
}

// Options configure a Kernel.
type Options struct {
	// Executor runs the cells; nil starts a supervisor.Session with Supervisor.
	Executor Executor
	// Supervisor configures the session started when Executor is nil (its zero
	// value runs `goinv executor` from this process's own executable).
	Supervisor supervisor.Options
	// HistoryPath is the JSONL history file; empty means $GOINV_HISTORY or
	// goinv/history.jsonl under the Jupyter data directory.
	HistoryPath string
	// Log receives diagnostics; nil means os.Stderr.
	Log io.Writer
	// SocketTimeout bounds every socket send (a ROUTER send to a vanished peer would
	// otherwise block for minutes). Zero means 2 s.
	SocketTimeout time.Duration
}

// iopubHWM is how many messages the iopub socket queues before it drops new ones.
const iopubHWM = 1000

// Kernel is a running Jupyter kernel.
type Kernel struct {
	conn    ConnectionInfo
	signer  *Signer
	session string
	exec    Executor
	hist    *History
	log     *log.Logger

	shell, control, stdin       *routerSocket
	hb                          zmq4.Socket
	iopub                       *pubSocket
	shellMu, controlMu, stdinMu sync.Mutex
	iopubMu                     sync.Mutex // keeps each publisher's messages in order
	topics                      sync.Map   // msg_type → iopub topic

	queue   chan *Message
	ctx     context.Context
	cancel  context.CancelFunc
	exitErr error
	logw    io.Writer
	sup     supervisor.Options

	mu             sync.Mutex
	executionCount int
	abortBefore    time.Time // execute requests sent before this are aborted (stop_on_error)
	stdinFor       *Message  // the execute request that may ask for input

	held *Message // taken from queue by abortReceived, handled next (shell worker only)
}

// New prepares a kernel for conn; Run binds the sockets.
func New(conn ConnectionInfo, opts Options) (*Kernel, error) {
	if conn.Key != "" && conn.SignatureScheme != "hmac-sha256" {
		return nil, fmt.Errorf("unsupported signature_scheme %q: goinv signs with hmac-sha256 only", conn.SignatureScheme)
	}
	logw := opts.Log
	if logw == nil {
		logw = os.Stderr
	}
	k := &Kernel{
		conn: conn, signer: NewSigner(conn.Key), session: newID(),
		log: log.New(logw, "goinv: ", log.Ltime|log.Lmicroseconds), queue: make(chan *Message, 1024),
	}
	hp := opts.HistoryPath
	if hp == "" {
		hp = DefaultHistoryPath()
	}
	k.hist = LoadHistory(hp)
	go func() {
		if err := k.hist.Err(); err != nil {
			k.log.Printf("history not saved: %v", err)
		}
	}()
	k.exec = opts.Executor
	k.logw = logw
	k.sup = opts.Supervisor
	if k.sup.Log == nil {
		k.sup.Log = logw
	}
	to := opts.SocketTimeout
	if to == 0 {
		to = 2 * time.Second
	}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	o := zmq4.WithTimeout(to)
	// Messages are decoded on the connection's goroutine: shell requests queue
	// for the shell worker; control requests are handled at once (interrupt and
	// shutdown while a cell runs); stdin carries input replies.
	k.shell = newRouterSocket(to, k.receiver("shell", func(m *Message) { k.queue <- m }))
	k.control = newRouterSocket(to, k.receiver("control", func(m *Message) { k.dispatch(k.control, &k.controlMu, m) }))
	k.stdin = newRouterSocket(to, k.receiver("stdin", k.onStdin))
	// A subscriber that does not read (a client that never reads iopub, or a
	// stuck one) must not make the kernel's memory grow with every message:
	// libzmq, and so ipykernel, drops beyond 1,000 queued messages by default;
	// so does goinv, per subscriber (see pubSocket).
	k.iopub = newPubSocket(iopubHWM)
	k.hb = zmq4.NewRep(k.ctx, o)
	return k, nil
}

// Run binds the sockets and serves until shutdown_request. It returns nil after a
// clean shutdown.
func (k *Kernel) Run() error {
	binds := []struct {
		s    interface{ Listen(string) error }
		port int
		name string
	}{{k.shell, k.conn.ShellPort, "shell"}, {k.control, k.conn.ControlPort, "control"}, {k.stdin, k.conn.StdinPort, "stdin"}, {k.iopub, k.conn.IOPubPort, "iopub"}, {k.hb, k.conn.HBPort, "hb"}}
	for _, b := range binds {
		ep := k.conn.Endpoint(b.port)
		if _, zmq := b.s.(zmq4.Socket); zmq {
			ep = listenEndpoint(ep)
		}
		if err := b.s.Listen(ep); err != nil {
			k.closeSockets()
			return fmt.Errorf("bind %s socket to %s: %w", b.name, k.conn.Endpoint(b.port), err)
		}
		ipc.Tracef("bound %s", b.name)
	}
	if k.exec == nil {
		// Started after binding, and in the background: kernel_info needs no
		// executor, so the client's first round trip overlaps the executor's start-up
		// (process creation, the toolkit's package initialisation, loading symbols);
		// the first request that needs the executor waits for it.
		k.exec = startExecutor(k.sup)
		ipc.Tracef("executor starting")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		for {
			select {
			case <-sigs:
				k.log.Printf("SIGINT: interrupting the running cell")
				k.exec.Interrupt()
			case <-k.ctx.Done():
				return
			}
		}
	}()
	k.publish(nil, "status", statusStarting)
	go k.heartbeat()
	go k.shellWorker()
	<-k.ctx.Done()
	time.Sleep(20 * time.Millisecond) // let the last replies leave
	k.exec.Close()
	k.closeSockets()
	return k.exitErr
}

func (k *Kernel) closeSockets() {
	for _, s := range []interface{ Close() error }{k.shell, k.control, k.stdin, k.iopub, k.hb} {
		s.Close()
	}
}

// Shutdown stops Run.
func (k *Kernel) Shutdown() { k.cancel() }

func (k *Kernel) heartbeat() {
	for {
		msg, err := k.hb.Recv()
		if err != nil {
			if k.ctx.Err() != nil {
				return
			}
			continue
		}
		if err := k.hb.Send(msg); err != nil && k.ctx.Err() == nil {
			k.log.Printf("heartbeat: %v", err)
		}
	}
}

// receiver returns a socket's handler of raw frames: it decodes them and hands
// valid messages to handle. Malformed or badly signed messages are logged and
// dropped.
func (k *Kernel) receiver(name string, handle func(*Message)) func([][]byte) {
	return func(frames [][]byte) {
		if k.ctx.Err() != nil {
			return
		}
		ipc.Tracef("%s: received", name)
		m, err := Decode(frames, k.signer)
		if err != nil {
			k.log.Printf("%s: dropped a message: %v", name, err)
			return
		}
		m.recvAt = time.Now()
		handle(m)
	}
}

func (k *Kernel) shellWorker() {
	// This process's heap is small (the cells' data lives in the executor): its
	// freed pages go back to the OS after a second without requests.
	idle := memrelease.New(memrelease.Options{})
	for {
		m := k.held
		k.held = nil
		if m == nil {
			select {
			case m = <-k.queue:
			case <-k.ctx.Done():
				return
			}
		}
		idle.Busy()
		k.dispatch(k.shell, &k.shellMu, m)
		if len(k.queue) == 0 && k.held == nil {
			idle.Idle()
		}
	}
}

// send sends m on a ROUTER socket.
func (k *Kernel) send(s *routerSocket, mu *sync.Mutex, m *Message) {
	if len(m.Identities) == 0 {
		k.log.Printf("send %s: no peer identity", m.Header.MsgType)
		return
	}
	// The routing identity is not sent: the rest of the message goes out as is.
	id := m.Identities[0]
	mm := *m
	mm.Identities = m.Identities[1:]
	bp := wireBufs.Get().(*[]byte)
	defer putWire(bp)
	wire, err := appendWire((*bp)[:0], &mm, k.signer)
	*bp = wire
	if err != nil {
		k.log.Printf("encode %s: %v", m.Header.MsgType, err)
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if err := s.SendWire(id, wire); err != nil && k.ctx.Err() == nil {
		k.log.Printf("send %s: %v", m.Header.MsgType, err)
	}
}

// wireBufs holds buffers for messages in wire form; a buffer that grew past 64 KB
// (a large output) is let go.
var wireBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putWire(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		wireBufs.Put(bp)
	}
}

// reply answers req on the socket it came from.
func (k *Kernel) reply(s *routerSocket, mu *sync.Mutex, req *Message, msgType string, content any) {
	if trace {
		k.log.Printf("trace: sending %s", msgType)
	}
	k.send(s, mu, newMessage(k.session, msgType, req, content))
	ipc.Tracef("sent %s", msgType)
}

// publish sends a message on iopub with parent as its parent header.
func (k *Kernel) publish(parent *Message, msgType string, content any) {
	k.publishAll(parent, pubMsg{msgType, content})
}

// pubMsg is a message to publish: its type and content.
type pubMsg struct {
	msgType string
	content any
}

// topic returns the iopub topic of messages of msgType, made once per type.
func (k *Kernel) topic(msgType string) []byte {
	if t, ok := k.topics.Load(msgType); ok {
		return t.([]byte)
	}
	t := []byte("kernel." + k.session + "." + msgType)
	k.topics.Store(msgType, t)
	return t
}

// publishAll publishes messages with the same parent in order, together: they
// leave in one write (one wake-up of each subscriber instead of one per message).
func (k *Kernel) publishAll(parent *Message, msgs ...pubMsg) {
	bp := wireBufs.Get().(*[]byte)
	defer putWire(bp)
	wire := (*bp)[:0]
	var endsA [4]int
	var topicsA [4][]byte
	ends, topics := endsA[:0], topicsA[:0]
	for _, pm := range msgs {
		m := newMessage(k.session, pm.msgType, parent, pm.content)
		t := k.topic(pm.msgType)
		m.Identities = [][]byte{t}
		var err error
		if wire, err = appendWire(wire, m, k.signer); err != nil {
			k.log.Printf("encode %s: %v", pm.msgType, err)
			continue
		}
		ends = append(ends, len(wire))
		topics = append(topics, t)
	}
	*bp = wire
	k.iopubMu.Lock()
	defer k.iopubMu.Unlock()
	k.iopub.SendWire(wire, ends, topics)
	if ipc.Tracing() {
		for _, pm := range msgs {
			ipc.Tracef("published %s", pm.msgType)
		}
	}
}

// decode unmarshals a request's content, tolerating junk (handlers see zero values).
func decode(m *Message, v any) {
	json.Unmarshal(m.Content, v)
}

// lazyExec is an Executor whose supervisor.Session is still starting.
type lazyExec struct {
	ready chan struct{}
	e     Executor
	err   error
}

func startExecutor(opts supervisor.Options) *lazyExec {
	l := &lazyExec{ready: make(chan struct{})}
	go func() {
		defer close(l.ready)
		s, err := supervisor.Start(opts)
		if err != nil {
			l.err = err
			fmt.Fprintf(opts.Log, "goinv: %v\n", err)
			return
		}
		l.e = s
	}()
	return l
}

func (l *lazyExec) get() (Executor, error) {
	<-l.ready
	return l.e, l.err
}

// forExecute waits for the executor for an execute request. While the executor is
// still starting, what out.Sent publishes (busy) goes out at once instead of
// waiting for it.
func (l *lazyExec) forExecute(out *supervisor.Outputs) (Executor, error) {
	select {
	case <-l.ready:
	default:
		if out.Sent != nil {
			out.Sent()
			out.Sent = nil
		}
	}
	return l.get()
}

func (l *lazyExec) Execute(req ipc.Request, out supervisor.Outputs) (map[string]any, error) {
	e, err := l.forExecute(&out)
	if err != nil {
		return nil, err
	}
	return e.Execute(req, out)
}

// ExecuteRaw is Execute returning the content as the executor encoded it; see
// rawExecutor.
func (l *lazyExec) ExecuteRaw(req ipc.Request, out supervisor.Outputs) (json.RawMessage, error) {
	e, err := l.forExecute(&out)
	if err != nil {
		return nil, err
	}
	return executeRaw(e, req, out)
}

func (l *lazyExec) Request(req ipc.Request) (map[string]any, error) {
	e, err := l.get()
	if err != nil {
		return nil, err
	}
	return e.Request(req)
}

func (l *lazyExec) Interrupt() {
	if e, err := l.get(); err == nil {
		e.Interrupt()
	}
}

func (l *lazyExec) InputReply(value string) {
	if e, err := l.get(); err == nil {
		e.InputReply(value)
	}
}

func (l *lazyExec) Restart() error {
	e, err := l.get()
	if err != nil {
		return err
	}
	return e.Restart()
}

func (l *lazyExec) Close() error {
	if e, err := l.get(); err == nil {
		return e.Close()
	}
	return nil
}
