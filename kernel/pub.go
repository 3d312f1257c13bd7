package kernel

import (
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"github.com/go-zeromq/zmq4"
)

// pubSocket is the iopub socket: a ZeroMQ PUB socket (ZMTP 3.0, NULL security) of
// its own, which publishes on the caller's goroutine.
//
// zmq4's PUB socket hands every message to a goroutine of its own through a queue
// that allocates an 8 KB chunk whenever it has drained (so on nearly every message),
// and that goroutine writes to one subscriber after the other: a subscriber that
// stops reading stalls the others. An execute round trip publishes five messages,
// and those hand-offs and allocations were a large part of the kernel's own work
// per cell. Here a message is encoded once and written to each subscriber's
// connection at once with a non-blocking write; only what a subscriber cannot take
// now is queued for that subscriber's own writer goroutine, at most hwm messages
// (then new messages are dropped for it, as libzmq's PUB does). The handshake and
// the subscriptions are read with zmq4's Conn.
type pubSocket struct {
	hwm int

	mu     sync.Mutex
	ln     net.Listener
	subs   []*pubConn
	closed bool
}

func newPubSocket(hwm int) *pubSocket { return &pubSocket{hwm: hwm} }

// Listen binds endpoint (tcp://host:port or ipc://path) and accepts subscribers.
func (p *pubSocket) Listen(endpoint string) error {
	ln, err := listen(endpoint)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go acceptLoop(ln, p.open)
	return nil
}

// open does the ZMTP handshake with a new subscriber, then reads its
// subscriptions until it goes away.
func (p *pubSocket) open(c net.Conn) {
	zc, err := zmq4.Open(c, nullSecurity{}, zmq4.Pub, nil, true, nil)
	if err != nil {
		c.Close()
		return
	}
	sc := &pubConn{p: p, c: c, topics: map[string]bool{}, wake: make(chan struct{}, 1)}
	if raw, ok := c.(syscall.Conn); ok {
		sc.raw, _ = raw.SyscallConn()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.subs = append(p.subs, sc)
	p.mu.Unlock()
	go sc.writer()
	for {
		m, err := zc.RecvMsg()
		if err != nil {
			sc.close()
			return
		}
		// ZMTP 3.0 subscriptions: a one-frame message, 1 or 0 then the topic.
		if len(m.Frames) == 1 && len(m.Frames[0]) > 0 && m.Frames[0][0] <= 1 {
			sc.mu.Lock()
			if m.Frames[0][0] == 1 {
				sc.topics[string(m.Frames[0][1:])] = true
			} else {
				delete(sc.topics, string(m.Frames[0][1:]))
			}
			sc.mu.Unlock()
		}
	}
}

// Send publishes messages, each a list of frames whose first is its topic, to
// every subscriber of a prefix of their topics. Messages sent together leave in one
// write where a subscriber can take them (one wake-up of the client for all). It
// never blocks on a subscriber.
func (p *pubSocket) Send(msgs ...[][]byte) error {
	var b []byte
	ends := make([]int, 0, len(msgs))
	topics := make([][]byte, 0, len(msgs))
	for _, frames := range msgs {
		if len(frames) > 0 {
			b = append(b, encodeZMTP(frames)...)
			ends = append(ends, len(b))
			topics = append(topics, frames[0])
		}
	}
	p.SendWire(b, ends, topics)
	return nil
}

// SendWire publishes messages already in wire form: wire holds them back to back,
// message i ending at ends[i], with topics[i] its topic. wire is not kept: the
// caller may reuse it once SendWire returns.
func (p *pubSocket) SendWire(wire []byte, ends []int, topics [][]byte) {
	p.mu.Lock()
	subs := p.subs
	p.mu.Unlock()
	for _, s := range subs {
		s.send(wire, ends, topics)
	}
}

// Close stops accepting and closes every subscriber's connection.
func (p *pubSocket) Close() error {
	p.mu.Lock()
	p.closed = true
	ln, subs := p.ln, p.subs
	p.subs = nil
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, s := range subs {
		s.close()
	}
	return nil
}

func (p *pubSocket) remove(s *pubConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, t := range p.subs {
		if t == s {
			// A fresh slice: Send may be ranging over the old one.
			p.subs = append(append([]*pubConn(nil), p.subs[:i]...), p.subs[i+1:]...)
			return
		}
	}
}

// encodeZMTP returns the ZMTP 3 wire form of a message's frames.
func encodeZMTP(frames [][]byte) []byte {
	n := 0
	for _, f := range frames {
		n += 9 + len(f)
	}
	b := make([]byte, 0, n)
	for i, f := range frames {
		b = appendZMTPFrame(b, f, i < len(frames)-1)
	}
	return b
}

// pubConn is one subscriber.
type pubConn struct {
	p   *pubSocket
	c   net.Conn
	raw syscall.RawConn // nil: every message goes through the writer

	mu      sync.Mutex
	topics  map[string]bool
	pending []byte // whole messages (or the rest of one) the writer has still to write
	queued  int    // messages in pending
	writing bool   // the writer owns the connection's writes
	dead    bool
	wake    chan struct{}
}

func (s *pubConn) subscribed(topic []byte) bool {
	for t := range s.topics {
		if len(t) <= len(topic) && string(topic[:len(t)]) == t {
			return true
		}
	}
	return false
}

func (s *pubConn) send(wire []byte, ends []int, topics [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return
	}
	// out: the messages this subscriber takes (all of them, usually: Jupyter
	// clients subscribe to every topic).
	out, n := wire, len(ends)
	for i := range ends {
		if !s.subscribed(topics[i]) {
			out, n = nil, 0
			start := 0
			for j, end := range ends {
				if s.subscribed(topics[j]) {
					out = append(out, wire[start:end]...)
					n++
				}
				start = end
			}
			break
		}
	}
	if n == 0 {
		return
	}
	if s.writing || s.raw == nil {
		if s.queued+n > s.p.hwm {
			return // dropped, as libzmq's PUB drops beyond its high-water mark
		}
		s.pending = append(s.pending, out...)
		s.queued += n
		s.writing = true
		s.signal()
		return
	}
	// Nothing is queued: write now, without blocking. The socket is in
	// non-blocking mode (the runtime's poller owns it).
	done := 0
	var werr error
	cerr := s.raw.Control(func(fd uintptr) {
		for done < len(out) {
			k, err := syscall.Write(int(fd), out[done:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				if err != syscall.EAGAIN {
					werr = err
				}
				return
			}
			done += k
		}
	})
	if cerr != nil || werr != nil {
		s.dead = true
		go s.close()
		return
	}
	if done == len(out) {
		return
	}
	// The subscriber is slow: the rest goes through the writer.
	s.pending = append(s.pending, out[done:]...)
	s.queued = n
	s.writing = true
	s.signal()
}

func (s *pubConn) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// writer writes what send queued, blocking as long as the subscriber needs.
func (s *pubConn) writer() {
	var spare []byte
	for range s.wake {
		for {
			s.mu.Lock()
			if s.dead || len(s.pending) == 0 {
				s.writing = false
				dead := s.dead
				s.mu.Unlock()
				if dead {
					return
				}
				break
			}
			buf := s.pending
			s.pending, s.queued = spare[:0], 0
			s.mu.Unlock()
			if _, err := s.c.Write(buf); err != nil {
				s.close()
				return
			}
			spare = nil
			if cap(buf) <= 64<<10 {
				spare = buf // reused; a large backlog's buffer is let go
			}
		}
	}
}

func (s *pubConn) close() {
	s.mu.Lock()
	s.dead = true
	s.pending = nil
	s.mu.Unlock()
	s.signal()
	s.c.Close()
	s.p.remove(s)
}

// nullSecurity is ZMTP's NULL mechanism (zmq4 does not export its own): both peers
// send READY with their metadata.
type nullSecurity struct{}

func (nullSecurity) Type() zmq4.SecurityType { return zmq4.NullSecurity }

func (nullSecurity) Handshake(c *zmq4.Conn, server bool) error {
	raw, err := c.Meta.MarshalZMTP()
	if err != nil {
		return fmt.Errorf("marshal metadata: %w", err)
	}
	if err := c.SendCmd(zmq4.CmdReady, raw); err != nil {
		return fmt.Errorf("send READY: %w", err)
	}
	cmd, err := c.RecvCmd()
	if err != nil {
		return fmt.Errorf("receive READY: %w", err)
	}
	if cmd.Name != zmq4.CmdReady {
		return zmq4.ErrBadCmd
	}
	return c.Peer.Meta.UnmarshalZMTP(cmd.Body)
}

func (nullSecurity) Encrypt(w io.Writer, data []byte) (int, error) { return w.Write(data) }
func (nullSecurity) Decrypt(w io.Writer, data []byte) (int, error) { return w.Write(data) }
