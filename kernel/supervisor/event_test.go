package supervisor

import (
	"encoding/json"
	"reflect"
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

// TestWireEventDecode checks the direct decoding of event frames against
// json.Unmarshal, for the executor's usual events and for unusual ones.
func TestWireEventDecode(t *testing.T) {
	for _, s := range []string{
		`{"id":7,"kind":"execute_result","data":{"text/plain":"2"},"metadata":{}}`,
		`{"id":7,"kind":"reply","content":{"execution_count":1,"payload":[],"status":"ok","user_expressions":{}}}`,
		`{"id":0,"kind":"display","data":{"image/png":"iVBOR"},"metadata":{"x":1},"display_id":"d\u00e91","update":true,"seq":3}`,
		`{"id":2,"kind":"clear_output","wait":true}`,
		`{"id":2,"kind":"input_request","prompt":"name? \"x\"","password":false}`,
		`{"id":2,"kind":"ready","content":null}`,
		`{"ID":5,"Kind":"reply"}`,          // other case: json.Unmarshal matches it
		`{"id":"5","kind":"reply"}`,        // wrong type
		`{"id":5,"kind":null,"extra":[1]}`, // null, unknown key
		`{"id":-1,"kind":"reply"}`,
		`[1,2]`, `{"id":1`,
	} {
		var want wireEvent
		werr := json.Unmarshal([]byte(s), &want)
		var got wireEvent
		gerr := got.decode([]byte(s))
		if (gerr == nil) != (werr == nil) {
			t.Errorf("%s: error %v, json.Unmarshal %v", s, gerr, werr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", s, got, want)
		}
	}
}
