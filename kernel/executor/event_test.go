package executor

import (
	"bytes"
	"testing"

	"github.com/goinv/goinv/kernel/ipc"
)

var eventCases = []ipc.Event{
	{Kind: ipc.EventReady},
	{ID: 7, Kind: ipc.EventExecuteResult, Data: map[string]any{"text/plain": "2"}, Metadata: map[string]any{}},
	{ID: 7, Kind: ipc.EventReply, Content: map[string]any{"status": "ok", "execution_count": 3, "user_expressions": map[string]any{}, "payload": []any{}}},
	{ID: 8, Kind: ipc.EventReply, Content: map[string]any{"status": "error", "execution_count": 4, "ename": "Panic", "evalue": "x <y> & \"z\"",
		"traceback": []string{"Panic: \x00\x01\x1f\b\f\n\r\t\\", "é \u2028 \u2029 \xff\xfe tail", ""}}},
	{ID: 9, Kind: ipc.EventReply, Content: map[string]any{"status": "ok", "user_expressions": map[string]any{
		"a": map[string]any{"status": "ok", "data": map[string]any{"text/plain": "1"}, "metadata": map[string]any{}}},
		"payload": []any{map[string]any{"source": "page", "data": map[string]any{"text/plain": "doc"}, "start": 0}}}},
	{ID: 10, Kind: ipc.EventDisplay, Data: map[string]any{"text/html": "<b>x</b>", "image/png": "iVBOR"}, Metadata: map[string]any{"w": int64(-3), "h": uint64(5), "b": true, "n": nil},
		DisplayID: "d1", Update: true, Seq: 12},
	{ID: 11, Kind: ipc.EventClearOutput, Wait: true, Seq: 1},
	{ID: 12, Kind: ipc.EventInputRequest, Prompt: "name? ", Password: true},
	{ID: 13, Kind: ipc.EventReply, Content: map[string]any{"f": 1.5, "nested": []any{[]string(nil), []any(nil), map[string]any(nil)}}}, // a float: encoding/json's
	{ID: 14, Kind: ipc.EventDisplay, Data: map[string]any{"application/json": map[string]any{"k": []any{1, "two", false, struct{ A int }{3}}}}},
}

// appendEvent writes the frames ipc.AppendFrame writes, byte for byte.
func TestAppendEvent(t *testing.T) {
	for _, e := range eventCases {
		want, werr := ipc.AppendFrame([]byte("prefix"), e)
		got, gerr := appendEvent([]byte("prefix"), e)
		if werr != nil || gerr != nil {
			t.Fatalf("%+v: %v, ipc.AppendFrame %v", e, gerr, werr)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%+v:\n got %q\nwant %q", e, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "\x00\x7f\x80", "é\u2028\u2029\ufffd", "<>&", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := ipc.Event{Kind: s, Content: map[string]any{s: []string{s}}}
		want, _ := ipc.AppendFrame(nil, e)
		got, _ := appendEvent(nil, e)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %q\nwant %q", s, got, want)
		}
	})
}
