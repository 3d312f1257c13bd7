package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// recConn records each write that reaches the network.
type recConn struct {
	net.Conn
	writes [][]byte
}

func (c *recConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

// frame encodes one ZMTP frame as zmq4 writes it: the header, then the body.
func frame(flags byte, body []byte) [][]byte {
	if len(body) > 255 {
		h := []byte{flags | flagLong, 0, 0, 0, 0, 0, 0, 0, 0}
		n := uint64(len(body))
		for i := 8; i >= 1; i-- {
			h[i] = byte(n)
			n >>= 8
		}
		return [][]byte{h, body}
	}
	return [][]byte{{flags, byte(len(body))}, body}
}

func TestZconnCoalescesMessages(t *testing.T) {
	rc := &recConn{}
	c := &zconn{Conn: rc, greet: 64}
	write := func(parts ...[][]byte) {
		for _, p := range parts {
			for _, b := range p {
				c.Write(b)
			}
		}
	}
	greeting := bytes.Repeat([]byte{7}, 64)
	c.Write(greeting[:10]) // written in pieces, flushed once complete
	c.Write(greeting[10:])
	if len(rc.writes) != 1 || len(rc.writes[0]) != 64 {
		t.Fatalf("greeting: %d writes", len(rc.writes))
	}
	write(frame(flagCommand, []byte("\x05READY...")))
	if len(rc.writes) != 2 {
		t.Fatalf("command not flushed: %d writes", len(rc.writes))
	}
	// A message of five frames, one long and one empty, leaves in one write.
	long := bytes.Repeat([]byte("x"), 1000)
	write(frame(flagMore, []byte("id")), frame(flagMore, nil), frame(flagMore, long), frame(flagMore, []byte("{}")))
	if len(rc.writes) != 2 {
		t.Fatalf("partial message flushed: %d writes", len(rc.writes))
	}
	write(frame(0, []byte(`{"a":1}`)))
	if len(rc.writes) != 3 {
		t.Fatalf("message not flushed: %d writes", len(rc.writes))
	}
	if want := (2 + 2) + (2 + 0) + (9 + 1000) + (2 + 2) + (2 + 7); len(rc.writes[2]) != want {
		t.Fatalf("message write is %d bytes, want %d", len(rc.writes[2]), want)
	}
	// A huge message is written as it comes rather than held whole.
	write(frame(flagMore, make([]byte, 2*flushAt)))
	if len(rc.writes) != 4 || len(c.buf) != 0 {
		t.Fatalf("huge frame: %d writes, %d bytes held", len(rc.writes), len(c.buf))
	}
	write(frame(0, []byte("end")))
	if len(rc.writes) != 5 || string(rc.writes[4]) != "\x00\x03end" {
		t.Fatalf("after huge frame: %d writes, last %q", len(rc.writes), rc.writes[len(rc.writes)-1])
	}
}

// TestRouterPeers checks goinv's ROUTER socket with two peers of their own
// identities, one with zmq4's default (a random one), and a peer that sends junk:
// every reply reaches the peer that asked, and junk is dropped without harm. Peers
// that set no identity (pyzmq's default) are tested end to end
// (test_two_frontends_get_their_own_replies).
func TestRouterPeers(t *testing.T) {
	c, _ := startKernel(t)
	ctx := context.Background()
	o := zmq4.WithTimeout(2 * time.Second)
	var peers []*client
	for _, id := range []string{"alice", "bob", ""} {
		opts := []zmq4.Option{o}
		if id != "" {
			opts = append(opts, zmq4.WithID(zmq4.SocketIdentity(id)))
		}
		s := zmq4.NewDealer(ctx, opts...)
		if err := s.Dial(c.shellEndpoint); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		peers = append(peers, &client{t: t, signer: c.signer, shell: s})
	}
	// Junk: a raw connection that sends a greeting's worth of garbage, then goes.
	if raw, err := net.Dial("tcp", strings.TrimPrefix(c.shellEndpoint, "tcp://")); err == nil {
		raw.Write(bytes.Repeat([]byte{0xff}, 200))
		raw.Close()
	}
	time.Sleep(100 * time.Millisecond)
	for round := 0; round < 3; round++ {
		ids := make([]string, len(peers))
		for i, p := range peers {
			ids[i] = p.send(p.shell, "kernel_info_request", map[string]any{})
		}
		for i, p := range peers {
			r := p.recv(p.shell)
			var parent Header
			json.Unmarshal(r.Parent, &parent)
			if parent.MsgID != ids[i] || r.Header.MsgType != "kernel_info_reply" {
				t.Fatalf("peer %d got %s to %s, want the reply to %s", i, r.Header.MsgType, parent.MsgID, ids[i])
			}
		}
	}
}
