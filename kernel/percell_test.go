package kernel

import (
	"encoding/json"
	"testing"

	"github.com/goinv/goinv/kernel/ipc"
)

// The supervisor's CPU work for one `1 + 1` cell, piece by piece, without sockets.

// jupyterClientExecute is an execute_request as jupyter_client 7 sends it.
func jupyterClientExecute(s *Signer) [][]byte {
	h := []byte(`{"msg_id": "4a5c2a3e-5b6f4c1d8e9f0a1b2c3d4e5f_1234_7", "msg_type": "execute_request", "username": "root", "session": "4a5c2a3e-5b6f4c1d8e9f0a1b2c3d4e5f", "date": "2026-11-29T14:50:00.123456Z", "version": "5.3"}`)
	p := []byte(`{}`)
	md := []byte(`{}`)
	c := []byte(`{"code": "1 + 1", "silent": false, "store_history": true, "user_expressions": {}, "allow_stdin": true, "stop_on_error": true}`)
	return [][]byte{[]byte("00k0001"), []byte(delimiter), s.Sign(h, p, md, c), h, p, md, c}
}

func BenchmarkPerCellDecode(b *testing.B) {
	s := NewSigner("bench-key")
	frames := jupyterClientExecute(s)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m, err := Decode(frames, s)
		if err != nil {
			b.Fatal(err)
		}
		var c executeRequest
		c.decode(m.Content)
	}
}

func BenchmarkPerCellRequest(b *testing.B) {
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; i++ {
		var err error
		buf, err = ipc.AppendFrame(buf[:0], ipc.Request{ID: 7, Kind: ipc.KindExecute, Code: "1 + 1", StoreHistory: true, AllowStdin: true, ExecutionCount: 12})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPerCellPublish(b *testing.B) {
	s := NewSigner("bench-key")
	m, _ := Decode(jupyterClientExecute(s), s)
	k := &Kernel{session: "sess", signer: s}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var wire []byte
		for _, pm := range []pubMsg{{"status", statusBusy}, {"execute_input", map[string]any{"code": "1 + 1", "execution_count": 12}}, {"execute_result", executeResult(12, json.RawMessage(`{"text/plain":"2"}`), json.RawMessage(`{}`))}, {"status", statusIdle}} {
			mm := newMessage(k.session, pm.msgType, m, pm.content)
			mm.Identities = [][]byte{k.topic(pm.msgType)}
			wire, _ = appendWire(wire, mm, s)
		}
		r := newMessage(k.session, "execute_reply", m, json.RawMessage(`{"status":"ok","execution_count":12,"user_expressions":{},"payload":[]}`))
		wire, _ = appendWire(wire, r, s)
	}
}

func BenchmarkPerCellReplyChecks(b *testing.B) {
	raw := json.RawMessage(`{"status":"ok","execution_count":12,"user_expressions":{},"payload":[]}`)
	data := json.RawMessage(`{"text/plain":"2"}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !completeOK(raw, 12) || textPlain(data) != "2" {
			b.Fatal("no")
		}
	}
}

func BenchmarkPerCellNewID(b *testing.B) {
	for i := 0; i < b.N; i++ {
		newID()
	}
}
