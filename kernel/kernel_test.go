package kernel

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/goinv/goinv/kernel/ipc"
	"github.com/goinv/goinv/kernel/supervisor"
)

// fakeExec answers cells without a process: it prints the code and fails on "fail".
type fakeExec struct{ interrupts atomic.Int32 }

func (f *fakeExec) Execute(req ipc.Request, out supervisor.Outputs) (map[string]any, error) {
	if out.Sent != nil && !strings.HasPrefix(req.Code, "nosent") {
		// As a supervisor.Session does; "nosent" cells show the output first.
		out.Sent()
	}
	out.Stream("stdout", "ran "+req.Code+"\n")
	if req.Code == "fail" {
		return map[string]any{"status": "error", "ename": "Panic", "evalue": "fail", "traceback": []string{"fail"}}, nil
	}
	out.Event(ipc.Event{Kind: ipc.EventExecuteResult, Data: map[string]any{"text/plain": req.Code}})
	return map[string]any{"status": "ok"}, nil
}
func (f *fakeExec) Request(req ipc.Request) (map[string]any, error) {
	return map[string]any{"status": "complete"}, nil
}
func (f *fakeExec) Interrupt()        { f.interrupts.Add(1) }
func (f *fakeExec) InputReply(string) {}
func (f *fakeExec) Restart() error    { return nil }
func (f *fakeExec) Close() error      { return nil }

func freePorts(t testing.TB, n int) []int {
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

type client struct {
	t                     testing.TB
	signer                *Signer
	shell, control, iopub zmq4.Socket
	shellEndpoint         string
}

func (c *client) send(s zmq4.Socket, msgType string, content any) string {
	m := newMessage("client", msgType, nil, content)
	frames, _ := Encode(m, c.signer)
	if err := s.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
	return m.Header.MsgID
}

func (c *client) recv(s zmq4.Socket) *Message {
	raw, err := s.Recv()
	if err != nil {
		c.t.Fatal(err)
	}
	frames := raw.Frames
	if s.Type() == zmq4.Sub {
		frames = frames[1:] // topic
	}
	m, err := Decode(frames, c.signer)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

func startKernel(t testing.TB) (*client, *fakeExec) {
	p := freePorts(t, 5)
	conn := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], ControlPort: p[1], StdinPort: p[2], IOPubPort: p[3], HBPort: p[4], Key: "k", SignatureScheme: "hmac-sha256"}
	fe := &fakeExec{}
	k, err := New(conn, Options{Executor: fe, HistoryPath: filepath.Join(t.TempDir(), "h.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	go k.Run()
	t.Cleanup(k.Shutdown)
	time.Sleep(50 * time.Millisecond)
	ctx := context.Background()
	o := zmq4.WithTimeout(2 * time.Second)
	c := &client{t: t, signer: NewSigner("k"), shell: zmq4.NewDealer(ctx, o), control: zmq4.NewDealer(ctx, o), iopub: zmq4.NewSub(ctx, o),
		shellEndpoint: conn.Endpoint(p[0])}
	for s, port := range map[zmq4.Socket]int{c.shell: p[0], c.control: p[1], c.iopub: p[3]} {
		if err := s.Dial(conn.Endpoint(port)); err != nil {
			t.Fatal(err)
		}
	}
	c.iopub.SetOption(zmq4.OptionSubscribe, "")
	t.Cleanup(func() { c.shell.Close(); c.control.Close(); c.iopub.Close() })
	time.Sleep(100 * time.Millisecond)
	return c, fe
}

func TestHandlers(t *testing.T) {
	c, fe := startKernel(t)

	id := c.send(c.shell, "kernel_info_request", map[string]any{})
	r := c.recv(c.shell)
	var parent Header
	json.Unmarshal(r.Parent, &parent)
	if r.Header.MsgType != "kernel_info_reply" || parent.MsgID != id || r.Header.Version != ProtocolVersion {
		t.Fatalf("reply %+v parent %+v", r.Header, parent)
	}

	for n, code := range []string{"x", "nosent x"} {
		id = c.send(c.shell, "execute_request", map[string]any{"code": code})
		r = c.recv(c.shell)
		var content map[string]any
		json.Unmarshal(r.Content, &content)
		if r.Header.MsgType != "execute_reply" || content["status"] != "ok" || content["execution_count"] != float64(n+1) {
			t.Fatalf("execute_reply %v", content)
		}
		checkIOPub(t, c, id)
	}

	// Interrupt is answered on control, not shell.
	id = c.send(c.control, "interrupt_request", map[string]any{})
	r = c.recv(c.control)
	json.Unmarshal(r.Parent, &parent)
	if r.Header.MsgType != "interrupt_reply" || parent.MsgID != id || fe.interrupts.Load() != 1 {
		t.Fatalf("interrupt: %+v", r.Header)
	}

	// History sees the executed cell.
	c.send(c.shell, "history_request", map[string]any{"hist_access_type": "tail", "n": 5})
	r = c.recv(c.shell)
	var h struct{ History [][]any }
	json.Unmarshal(r.Content, &h)
	if len(h.History) != 2 || h.History[0][2] != "x" {
		t.Fatalf("history %s", r.Content)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		ok     bool
	}{{"1 +*", "1 + 1", true}, {"*Print?n*", "fmt.Println(1)", true}, {"a[bc]d", "acd", true}, {"a[!b]d", "abd", false}, {"x", "xy", false}} {
		if got := globRegexp(c.pat).MatchString(c.s); got != c.ok {
			t.Errorf("glob %q on %q = %v", c.pat, c.s, got)
		}
	}
}

// BenchmarkExecute is the kernel's share of an execute round trip, with an executor
// that answers at once: request in, busy, execute_input, stream, execute_result,
// reply and idle out, read by an in-process client (whose own work is included).
func BenchmarkExecute(b *testing.B) {
	c, _ := startKernel(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		id := c.send(c.shell, "execute_request", map[string]any{"code": "1 + 1", "silent": false, "store_history": true, "allow_stdin": false})
		for {
			r := c.recv(c.shell)
			var parent Header
			json.Unmarshal(r.Parent, &parent)
			if parent.MsgID == id {
				break
			}
		}
		for { // this cell's iopub messages, up to idle
			r := c.recv(c.iopub)
			var parent Header
			json.Unmarshal(r.Parent, &parent)
			if parent.MsgID == id && r.Header.MsgType == "status" && strings.Contains(string(r.Content), "idle") {
				break
			}
		}
	}
}

// checkIOPub reads iopub up to the idle status of request id and checks the order
// of its messages: busy, execute_input, stream, execute_result, idle.
func checkIOPub(t *testing.T, c *client, id string) {
	t.Helper()
	var parent Header
	var seen []string
	for len(seen) == 0 || seen[len(seen)-1] != "idle" {
		m := c.recv(c.iopub)
		json.Unmarshal(m.Parent, &parent)
		if parent.MsgID != id {
			continue
		}
		typ := m.Header.MsgType
		if typ == "status" {
			var s struct {
				ExecutionState string `json:"execution_state"`
			}
			json.Unmarshal(m.Content, &s)
			typ = s.ExecutionState
		}
		seen = append(seen, typ)
	}
	want := []string{"busy", "execute_input", "stream", "execute_result", "idle"}
	if len(seen) != len(want) {
		t.Fatalf("iopub %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("iopub %v, want %v", seen, want)
		}
	}
}
