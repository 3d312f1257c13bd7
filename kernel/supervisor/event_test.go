package supervisor

import (
	"encoding/json"
	"testing"

	"github.com/goinv/goinv/kernel/ipc"
)

// frame encodes v as one ipc frame, as the executor writes it.
func frame(t *testing.T, v any) []byte {
	b, err := ipc.AppendFrame(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEventDispatch: a reply's content reaches the call as the JSON the executor
// sent; an execute_result goes raw to Outputs.Result when set, decoded to
// Outputs.Event otherwise; other events are decoded for Outputs.Event.
func TestEventDispatch(t *testing.T) {
	var results [][2]string
	var events []ipc.Event
	out := &Outputs{
		Result: func(data, md json.RawMessage) { results = append(results, [2]string{string(data), string(md)}) },
		Event:  func(ev ipc.Event) { events = append(events, ev) },
	}
	p := &process{s: &Session{}}
	c := &call{id: 7, kind: ipc.KindExecute, out: out, done: make(chan json.RawMessage, 1)}
	p.setCall(c)
	var buf []byte
	buf = append(buf, frame(t, ipc.Event{ID: 7, Kind: ipc.EventDisplay, Data: map[string]any{"text/html": "<b>x</b>"}, Metadata: map[string]any{}, DisplayID: "d"})...)
	buf = append(buf, frame(t, ipc.Event{ID: 7, Kind: ipc.EventExecuteResult, Data: map[string]any{"text/plain": "2"}, Metadata: map[string]any{}})...)
	buf = append(buf, frame(t, ipc.Event{ID: 7, Kind: ipc.EventReply, Content: map[string]any{"status": "ok", "execution_count": 3, "user_expressions": map[string]any{}, "payload": []any{}}})...)
	for {
		ev, rest, ok := nextFrame(buf)
		if !ok {
			break
		}
		buf = rest
		p.event(ev)
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left unframed", len(buf))
	}
	if len(results) != 1 || results[0] != [2]string{`{"text/plain":"2"}`, ""} {
		t.Errorf("results %q", results)
	}
	if len(events) != 1 || events[0].Kind != ipc.EventDisplay || events[0].Data["text/html"] != "<b>x</b>" || events[0].DisplayID != "d" {
		t.Errorf("events %+v", events)
	}
	select {
	case raw := <-c.done:
		if want := `{"execution_count":3,"payload":[],"status":"ok","user_expressions":{}}`; string(raw) != want {
			t.Errorf("reply %s, want %s", raw, want)
		}
	default:
		t.Fatal("no reply")
	}

	// Without Result, the execute_result is decoded for Event.
	out.Result = nil
	events = nil
	c = &call{id: 8, kind: ipc.KindExecute, out: out, done: make(chan json.RawMessage, 1)}
	p.setCall(c)
	ev, _, _ := nextFrame(frame(t, ipc.Event{ID: 8, Kind: ipc.EventExecuteResult, Data: map[string]any{"text/plain": "3"}, Metadata: map[string]any{"k": 1.0}}))
	p.event(ev)
	if len(events) != 1 || events[0].Data["text/plain"] != "3" || events[0].Metadata["k"] != 1.0 {
		t.Errorf("events %+v", events)
	}
	// A reply without content reads as status ok.
	ev, _, _ = nextFrame(frame(t, ipc.Event{ID: 8, Kind: ipc.EventReply}))
	p.event(ev)
	if got, err := decodeContent(<-c.done, nil); err != nil || got["status"] != "ok" {
		t.Errorf("empty reply: %v, %v", got, err)
	}
}
