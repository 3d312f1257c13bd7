package kernel

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// zmq4 writes every ZMTP frame of a message as two separate writes (its length
// header, then its body) and reads them back with two reads each: a seven-frame
// Jupyter message costs fourteen send syscalls and fourteen TCP segments, which the
// client's libzmq must wake up for one by one. Measured with strace over 300 `1 + 1`
// cells, that was 73 writes per cell. The transports below wrap each accepted
// connection so that a whole message leaves in one write and incoming bytes are read
// in large chunks; the ZMTP protocol itself is still zmq4's.
const (
	tcpTransport = "goinv-tcp"
	ipcTransport = "goinv-ipc"
)

func init() {
	// Registering can only fail for a duplicate name, which would be a bug here.
	if err := zmq4.RegisterTransport(tcpTransport, coalescing{transport.New("tcp")}); err != nil {
		panic(err)
	}
	if err := zmq4.RegisterTransport(ipcTransport, coalescing{transport.New("unix")}); err != nil {
		panic(err)
	}
}

// listenEndpoint maps a tcp:// or ipc:// endpoint to the coalescing transport.
func listenEndpoint(ep string) string {
	switch {
	case strings.HasPrefix(ep, "tcp://"):
		return tcpTransport + ep[len("tcp"):]
	case strings.HasPrefix(ep, "ipc://"):
		return ipcTransport + ep[len("ipc"):]
	}
	return ep
}

// coalescing is a zmq4 transport whose connections are *zconn.
type coalescing struct{ transport.Transport }

func (t coalescing) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := t.Transport.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return listener{l}, nil
}

func (t coalescing) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	c, err := t.Transport.Dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	return newZconn(c), nil
}

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newZconn(c), nil
}

// zconn buffers a ZMTP connection: reads through a large buffer, writes held back
// until a message is complete. It follows the outgoing ZMTP 3 stream (a 64-byte
// greeting, then frames: flags, a 1- or 8-byte size, the body) to find where each
// message ends: after a frame without the MORE flag, or after a command.
type zconn struct {
	net.Conn
	r *bufio.Reader

	mu    sync.Mutex
	buf   []byte // bytes not yet written
	ready int    // buf[:ready] ends on a message boundary
	greet int    // greeting bytes still to pass

	// parser state for the frame being written
	state    int // 0 flags, 1 size bytes, 2 body
	flags    byte
	size     uint64
	sizeLeft int
	bodyLeft uint64
}

// flushAt is how much a message may buffer before it is written anyway: a large
// message gains nothing from being held back whole.
const flushAt = 256 << 10

const (
	flagMore    = 0x01
	flagLong    = 0x02
	flagCommand = 0x04
)

func newZconn(c net.Conn) *zconn {
	return &zconn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), greet: 64}
}

func (c *zconn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *zconn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	c.scan(p, len(c.buf)-len(p))
	n := c.ready
	if len(c.buf) >= flushAt {
		n = len(c.buf)
	}
	if n == 0 {
		return len(p), nil
	}
	_, err := c.Conn.Write(c.buf[:n])
	rest := copy(c.buf, c.buf[n:])
	c.buf = c.buf[:rest]
	c.ready = 0
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// scan advances the parser over p, which starts at buf[off], and moves ready to the
// end of the last complete message.
func (c *zconn) scan(p []byte, off int) {
	i := 0
	for i < len(p) {
		if c.greet > 0 {
			k := min(c.greet, len(p)-i)
			c.greet -= k
			i += k
			if c.greet == 0 {
				c.ready = off + i
			}
			continue
		}
		switch c.state {
		case 0:
			c.flags = p[i]
			i++
			c.size, c.sizeLeft = 0, 1
			if c.flags&flagLong != 0 {
				c.sizeLeft = 8
			}
			c.state = 1
		case 1:
			c.size = c.size<<8 | uint64(p[i])
			i++
			c.sizeLeft--
			if c.sizeLeft == 0 {
				c.bodyLeft = c.size
				c.state = 2
			}
		case 2:
			k := uint64(len(p) - i)
			if k > c.bodyLeft {
				k = c.bodyLeft
			}
			c.bodyLeft -= k
			i += int(k)
		}
		if c.state == 2 && c.bodyLeft == 0 {
			c.state = 0
			if c.flags&flagMore == 0 || c.flags&flagCommand != 0 {
				c.ready = off + i
			}
		}
	}
}
