package kernel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// routerSocket is a ZeroMQ ROUTER socket (ZMTP 3.0, NULL security, bind side) of
// goinv's own, for shell, control and stdin.
//
// zmq4's ROUTER hands each received message from the connection's goroutine to
// Recv through a channel, and sends each message from a goroutine started for it
// (an errgroup per Send) while the caller waits: three goroutine hand-offs, with
// their allocations, on every request and reply. Here each connection's reader
// goroutine decodes a message and hands it straight to the socket's handler, and
// Send writes the message to the peer's connection on the caller's goroutine, in
// one write. A peer's routing identity is the Identity property of its handshake;
// a peer that sets none (pyzmq's and jupyter_client's default) gets one made up for
// its connection, as libzmq's ROUTER does, so that two frontends attached to one
// kernel (a notebook and `jupyter console --existing`, two browser tabs) each get
// only their own replies. A message goes to every connection with its identity.
type routerSocket struct {
	timeout time.Duration         // bounds each write
	handle  func(frames [][]byte) // the peer's identity, then the message's frames
	anon    uint32                // the last identity made up for an anonymous peer

	hmu sync.Mutex // handle runs for one message at a time

	mu     sync.Mutex
	ln     net.Listener
	conns  []*routerConn
	closed bool
}

type routerConn struct {
	c   net.Conn
	id  []byte
	wmu sync.Mutex
}

// newRouterSocket returns a ROUTER socket whose received messages go to handle.
func newRouterSocket(timeout time.Duration, handle func(frames [][]byte)) *routerSocket {
	return &routerSocket{timeout: timeout, handle: handle}
}

// Listen binds endpoint (tcp://host:port or ipc://path) and accepts peers.
func (r *routerSocket) Listen(endpoint string) error {
	ln, err := listen(endpoint)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go acceptLoop(ln, r.serve)
	return nil
}

// acceptLoop serves each connection ln accepts on a goroutine of its own, until ln
// is closed.
func acceptLoop(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		go serve(c)
	}
}

// listen binds a tcp:// or ipc:// endpoint as zmq4 does.
func listen(endpoint string) (net.Listener, error) {
	network, addr, ok := strings.Cut(endpoint, "://")
	if !ok {
		return nil, fmt.Errorf("invalid endpoint %q", endpoint)
	}
	if network == "ipc" {
		network = "unix"
	}
	tr := transport.New(network)
	addr, err := tr.Addr(addr)
	if err != nil {
		return nil, err
	}
	return tr.Listen(context.Background(), addr)
}

// serve does the handshake with a new peer and reads its messages until it goes.
func (r *routerSocket) serve(c net.Conn) {
	zc, err := zmq4.Open(c, nullSecurity{}, zmq4.Router, nil, true, nil)
	if err != nil {
		c.Close()
		return
	}
	rc := &routerConn{c: c, id: []byte(zc.Peer.Meta["Identity"])}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		c.Close()
		return
	}
	if len(rc.id) == 0 {
		// libzmq's form: a zero byte, which ZeroMQ reserves (a peer's own identity
		// cannot start with it), then a counter.
		r.anon++
		rc.id = binary.BigEndian.AppendUint32([]byte{0}, r.anon)
	}
	r.conns = append(r.conns, rc)
	r.mu.Unlock()
	defer r.remove(rc)
	// The handshake read exactly its own bytes: the buffer starts at the first
	// message.
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		frames, cmd, err := readZMTP(br)
		if err != nil {
			return
		}
		if cmd {
			continue // no commands after the handshake matter here (PING needs heartbeat options)
		}
		r.hmu.Lock()
		r.handle(append([][]byte{rc.id}, frames...))
		r.hmu.Unlock()
	}
}

// maxFrame bounds a received frame, so that a corrupt size cannot exhaust memory.
const maxFrame = 1 << 30

// readZMTP reads one ZMTP 3 message (or command) from br.
func readZMTP(br *bufio.Reader) (frames [][]byte, cmd bool, err error) {
	for {
		flags, err := br.ReadByte()
		if err != nil {
			return nil, false, err
		}
		var size uint64
		if flags&flagLong != 0 {
			var b [8]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return nil, false, err
			}
			size = binary.BigEndian.Uint64(b[:])
		} else {
			s, err := br.ReadByte()
			if err != nil {
				return nil, false, err
			}
			size = uint64(s)
		}
		if size > maxFrame {
			return nil, false, fmt.Errorf("ZMTP frame of %d bytes", size)
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, false, err
		}
		if flags&flagCommand != 0 {
			return [][]byte{body}, true, nil
		}
		frames = append(frames, body)
		if flags&flagMore == 0 {
			return frames, false, nil
		}
	}
}

// Send sends a message whose first frame is the peer's identity to the peers with
// that identity, on the caller's goroutine. A peer that cannot take it within the
// timeout is dropped.
func (r *routerSocket) Send(frames ...[]byte) error {
	if len(frames) < 2 {
		return errors.New("router: a message needs an identity and a frame")
	}
	return r.SendWire(frames[0], encodeZMTP(frames[1:]))
}

// SendWire sends a message already in wire form (without the identity) to the
// peers with identity id. wire is not kept.
func (r *routerSocket) SendWire(id, wire []byte) error {
	r.mu.Lock()
	var toA [2]*routerConn
	to := toA[:0]
	for _, c := range r.conns {
		if bytes.Equal(c.id, id) {
			to = append(to, c)
		}
	}
	r.mu.Unlock()
	var first error
	for _, c := range to {
		c.wmu.Lock()
		c.c.SetWriteDeadline(time.Now().Add(r.timeout))
		_, err := c.c.Write(wire)
		c.wmu.Unlock()
		if err != nil {
			c.c.Close() // its reader ends and removes it
			if first == nil {
				first = err
			}
		}
	}
	return first // nil for a peer that is gone, as ZeroMQ does
}

func (r *routerSocket) remove(c *routerConn) {
	c.c.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, t := range r.conns {
		if t == c {
			r.conns = append(r.conns[:i], r.conns[i+1:]...)
			return
		}
	}
}

// Close stops accepting and closes every connection.
func (r *routerSocket) Close() error {
	r.mu.Lock()
	r.closed = true
	ln, conns := r.ln, r.conns
	r.conns = nil
	r.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.c.Close()
	}
	return nil
}
