package executor

import (
	"fmt"
	"go/token"
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
//
// The "rich" case runs after a cell declared a String method: the cell's value is
// then assigned to LastVar, so that the rich methods of interpreted types can be
// called on it, which costs a second Eval and a new global per cell.
//
// The "alloc" case is a cell that allocates 100 MB in 256 KB slices, each garbage
// at once: the case that a smaller heap goal (a lower GOGC) slows down, since the
// collector then runs after every few MB over a live heap of a few MB.
func BenchmarkCell(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchCell(b, "", "1 + 1", "2") })
	b.Run("rich", func(b *testing.B) {
		benchCell(b, "type T struct{}\nfunc (T) String() string { return \"t\" }", "1 + 1", "2")
	})
	b.Run("alloc", func(b *testing.B) {
		benchCell(b, "func churn() int {\n\tn := 0\n\tfor i := 0; i < 400; i++ {\n\t\tb := make([]byte, 256<<10)\n\t\tn += len(b)\n\t}\n\treturn n\n}", "churn()", "104857600")
	})
}

func benchCell(b *testing.B, setup, code, want string) {
	x, err := New(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	if setup != "" {
		if r := x.execute(ipc.Request{ID: 1, Kind: ipc.KindExecute, Code: setup}); r["status"] != "ok" {
			b.Fatal(r)
		}
	}
	run := func() {
		r, res := x.run(ipc.Request{ID: 1, Kind: ipc.KindExecute, Code: code})
		if r["status"] != "ok" {
			b.Fatal(r)
		}
		if res == nil || res.Data["text/plain"] != want {
			b.Fatalf("%s shows %v, want %s", code, res, want)
		}
	}
	for i := 0; i < 50 && (i == 0 || b.N > 1); i++ { // warm caches and the first-use paths
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
	filesBefore := 0
	for i := 0; i < 300; i++ {
		if r := run("acc += 2\nacc + 1"); r["status"] != "ok" {
			t.Fatal(r)
		}
		if i == 9 {
			filesBefore = countFiles(s.i.FileSet())
		}
	}
	if n := rootsLen(s.i); n > 0 {
		t.Errorf("interpreter holds %d roots after the cells", n)
	}
	if n := scopeChildren(s.i); n != 0 {
		t.Errorf("package scopes hold %d child scopes after the cells", n)
	}
	if files := countFiles(s.i.FileSet()); files != filesBefore {
		t.Errorf("the interpreter's FileSet holds %d files after 300 cells, %d after 10", files, filesBefore)
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

// The value shown is the last expression's, whether the cell runs plainly (no rich
// method declared yet) or through LastVar (after a String method was declared).
func TestShownValues(t *testing.T) {
	p := start(t)
	cases := [][2]string{
		{"1 + 1", "2"},
		{"t := 0\nfor i := 0; i < 3; i++ {\n\tt += i\n}\nt", "3"},
		{"xs := []int{1, 2}\nxs = append(xs, 3)\nxs", "[1 2 3]"},
		{"float32(1.5)", "1.5"},
		{"type P struct{ X int }\nP{2}", "{X:2}"},
		{`"a" + "b"`, `"ab"`},
	}
	check := func() {
		t.Helper()
		for _, c := range cases {
			if v := p.ok(c[0]).value(); v != c[1] {
				t.Errorf("%q shows %q, want %q", c[0], v, c[1])
			}
		}
		if r := p.ok("var e error\ne"); r.hasResult() {
			t.Errorf("nil error shown: %q", r.value())
		}
		if r := p.ok("u := 3\nu++"); r.hasResult() {
			t.Errorf("statement shows %q", r.value())
		}
	}
	check()
	p.ok("type Q struct{ X int }\nfunc (q Q) String() string { return fmt.Sprint(\"Q\", q.X) }")
	cases = append(cases, [2]string{"Q{4}", "Q4"}, [2]string{"Q{5}.String()", `"Q5"`},
		[2]string{"qs := []Q{{6}}\nqs[0]", "Q6"}, [2]string{"var st fmt.Stringer = Q{7}\nst", "Q7"})
	check()
}

// A call as the last statement is shown when it has exactly one value, whether
// its function is known before the cell runs or not (ft[0]() and fn[0]() showed
// 1 and failed with a reflect.Set error); a call of several values of a named
// function shows them (see TestSeveralResults), of another function not.
func TestShownCalls(t *testing.T) {
	p := start(t)
	p.ok("func two() (int, int) { return 1, 2 }\nfunc none() {}\nfunc one() int { return 7 }\nfs := []func() int{one}\nft := []func() (int, int){two}\nfn := []func(){none}")
	for _, rich := range []bool{false, true} {
		if rich {
			p.ok("type R struct{}\nfunc (R) String() string { return \"r\" }")
		}
		for _, c := range [][2]string{
			{"one()", "7"}, {`strings.ToUpper("a")`, `"A"`}, {"fs[0]()", "7"}, {"math.Sqrt(4)", "2"},
			{"two()", "1, 2"}, {"none()", ""}, {`fmt.Print("")`, ""}, {"R{}", "r"},
			{"ft[0]()", ""}, {"fn[0]()", ""}, {"func() (int, int) { return 3, 4 }()", ""}, {"func() int { return 6 }()", "6"},
		} {
			if c[0] == "R{}" && !rich {
				continue
			}
			if v := p.ok(c[0]).value(); v != c[1] {
				t.Errorf("rich %v: %q shows %q, want %q", rich, c[0], v, c[1])
			}
		}
	}
}

// heapMB returns the live heap in MB after a full collection.
func heapMB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// Showing values whose type has a rich method leaves the session's memory flat:
// the method calls that render them and the look at a called function keep
// nothing once the value was shown (a method value in the interpreter's global
// frame kept the call's syntax tree, about 5 KB a cell). Shown variables keep
// their values, those of compiled interface types included (yaegi calls their
// methods on a receiver it reads from its global frame each time).
func TestRenderingReleased(t *testing.T) {
	x, err := New(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	run := func(code, want string) {
		t.Helper()
		content, result := x.run(ipc.Request{ID: 1, Kind: ipc.KindExecute, Code: code})
		if content["status"] != "ok" {
			t.Fatalf("%q: %v", code, content)
		}
		got := ""
		if result != nil {
			got = fmt.Sprint(result.Data["text/plain"])
		}
		if got != want {
			t.Errorf("%q shows %q, want %q", code, got, want)
		}
	}
	run("type Q struct{ X int }\nfunc (q Q) String() string { return fmt.Sprint(\"Q\", q.X) }\n"+
		"q := Q{4}\nqs := []Q{{5}}\nm := map[string]Q{\"a\": {6}}\nvar st fmt.Stringer = Q{7}\npq := &Q{8}\nn := 9\nf := func() Q { return Q{10} }", "")
	for i := 0; i < 20; i++ {
		run("Q{3}", "Q3")
		run("f()", "Q10")
	}
	before := heapMB()
	const n = 200
	for i := 0; i < n; i++ {
		run("Q{3}", "Q3")
		run("f()", "Q10")
	}
	if grown := (heapMB() - before) * (1 << 20); grown > 300<<10 {
		t.Errorf("live heap grew %.0f KB over %d cells", grown/1024, 2*n)
	}
	for _, c := range [][2]string{{"q", "Q4"}, {"qs[0]", "Q5"}, {`m["a"]`, "Q6"}, {"st", "Q7"}, {"pq", "Q8"}, {"*pq", "Q8"}, {"n", "9"}, {"qs", "[{X:5}]"}} {
		run(c[0], c[1])
	}
	run(`fmt.Sprint(q.X, qs[0].X, m["a"].X, st, pq.X, n, len(qs))`, `"4 5 6 Q7 8 9 1"`)
}

// After a rich method was declared, cells whose value has none of them do not
// grow the live heap (each assignment of LastVar used to take a new slot of the
// interpreter's global frame: about 80 bytes a cell).
func TestRichSessionBounded(t *testing.T) {
	x, err := New(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r := x.execute(ipc.Request{ID: 1, Kind: ipc.KindExecute, Code: "type T struct{}\nfunc (T) String() string { return \"t\" }"}); r["status"] != "ok" {
		t.Fatal(r)
	}
	cell := func() {
		if _, res := x.run(ipc.Request{ID: 1, Kind: ipc.KindExecute, Code: "1 + 1"}); res == nil || res.Data["text/plain"] != "2" {
			t.Fatalf("1 + 1 shows %v", res)
		}
	}
	for i := 0; i < 50; i++ {
		cell()
	}
	before := heapMB()
	const n = 1000
	for i := 0; i < n; i++ {
		cell()
	}
	if grown := (heapMB() - before) * (1 << 20); grown > 30<<10 {
		t.Errorf("live heap grew %.0f KB over %d cells", grown/1024, n)
	}
}

func countFiles(fset *token.FileSet) int {
	n := 0
	fset.Iterate(func(*token.File) bool { n++; return true })
	return n
}
