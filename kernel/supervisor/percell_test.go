package supervisor

import (
	"testing"

	"github.com/goinv/goinv/kernel/ipc"
)

func BenchmarkPerCellEvents(b *testing.B) {
	var buf []byte
	buf, _ = ipc.AppendFrame(buf, ipc.Event{ID: 7, Kind: ipc.EventExecuteResult, Data: map[string]any{"text/plain": "2"}, Metadata: map[string]any{}})
	buf, _ = ipc.AppendFrame(buf, ipc.Event{ID: 7, Kind: ipc.EventReply, Content: map[string]any{"status": "ok", "execution_count": 12, "user_expressions": map[string]any{}, "payload": []any{}}})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rest := buf
		for {
			ev, r, ok := nextFrame(rest)
			if !ok {
				break
			}
			if ev == nil {
				b.Fatal("bad frame")
			}
			rest = r
		}
	}
}
