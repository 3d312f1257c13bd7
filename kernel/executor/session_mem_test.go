package executor

import (
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/goinv/goinv/kernel/ipc"
)

// BenchmarkCell runs `1 + 1` cells through an in-process session, without the pipes:
// the executor's own per-cell work. It reports the live heap's growth per 1,000
// cells after a GC (heap-B/1k-cells), the figure that decides whether a long
// session's memory stays flat.
func BenchmarkCell(b *testing.B) {
	x, err := New(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	run := func() {
		r := x.execute(ipc.Request{ID: 1, Kind: ipc.KindExecute, Code: "1 + 1"})
		if r["status"] != "ok" {
			b.Fatal(r)
		}
	}
	for i := 0; i < 50; i++ { // warm caches and the first-use paths
		run()
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(b.N)*1000, "heap-B/1k-cells")
}

// A long session keeps what later cells can use (declared funcs and closures,
// their tracebacks, variables, shown values) but not the per-cell leftovers:
// yaegi's roots, the texts and top-level sites of cells that declared nothing.
func TestLongSessionBounded(t *testing.T) {
	x, err := New(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := x.sess
	count := 0
	run := func(code string) map[string]any {
		t.Helper()
		count++
		return x.execute(ipc.Request{ID: 1, Kind: ipc.KindExecute, Code: code, ExecutionCount: count})
	}
	if r := run("func explode(n int) int {\n\tif n > 2 {\n\t\tpanic(\"too big\")\n\t}\n\treturn n\n}\nh := func(k int) int {\n\treturn 10 / k\n}\nacc := 0"); r["status"] != "ok" {
		t.Fatal(r)
	}
	for i := 0; i < 300; i++ {
		if r := run("acc += 2\nacc + 1"); r["status"] != "ok" {
			t.Fatal(r)
		}
	}
	if n := rootsLen(s.i); n > 0 {
		t.Errorf("interpreter holds %d roots after the cells", n)
	}
	if len(s.cells) > 2 {
		t.Errorf("%d cell texts kept, want the declaring cell and the last", len(s.cells))
	}
	if r := run("acc"); r["status"] != "ok" {
		t.Fatal(r)
	}
	tb := func(code string) string {
		t.Helper()
		r := run(code)
		if r["status"] != "error" {
			t.Fatalf("%q: %v", code, r)
		}
		return strings.Join(r["traceback"].([]string), "\n")
	}
	if got := tb("explode(acc)"); !strings.Contains(got, "in explode, line 3, column 3 of cell [1]") || !strings.Contains(got, `panic("too big")`) {
		t.Errorf("traceback into the first cell:\n%s", got)
	}
	if got := tb("h(0)"); !strings.Contains(got, "in func literal, line 8, column 2 of cell [1]") || !strings.Contains(got, "return 10 / k") {
		t.Errorf("traceback into a closure of the first cell:\n%s", got)
	}
	if got := tb("var z []int\nz[acc] = 1"); !strings.Contains(got, "at line 2, column 1 of this cell") {
		t.Errorf("top-level traceback:\n%s", got)
	}
}
