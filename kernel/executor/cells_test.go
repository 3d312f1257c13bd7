package executor

import (
	"strings"
	"testing"
)

// Ordinary Go that notebook users write, cell by cell, with the value Go gives.
// Each case is a regression test for a rewrite of the pre-pass (package cell).
func TestGoLikeCells(t *testing.T) {
	p := start(t)
	for _, c := range [][2]string{
		// A generic type's method body is compiled where the type is instantiated:
		// its site variable must be declared before that (it was "undefined: goinvS4").
		{"type Box[T any] struct{ v T }\nfunc (b *Box[T]) Set(v T) { b.v = v }\nvar bb Box[int]\nbb.Set(3)\nbb.v", "3"},
		{"type elem[T any] struct {\n\tval  T\n\tnext *elem[T]\n}\ntype List[T any] struct{ head *elem[T] }\nfunc (l *List[T]) Push(v T) { l.head = &elem[T]{v, l.head} }\nvar ls List[string]\nls.Push(\"x\")\nls.Push(\"y\")\nls.head.val + ls.head.next.val", `"yx"`},
		// ... also after the cell's own imports
		{"import \"errors\"\nvar ErrNF = errors.New(\"nf\")\nfunc find(k string) error { return fmt.Errorf(\"find %q: %w\", k, ErrNF) }\nerrors.Is(find(\"x\"), ErrNF)", "true"},
		{"import (\n\t\"strings\"\n);\nfunc up(s string) string { return strings.ToUpper(s[:1]) }\nup(\"ab\")", `"A"`},
		{"import \"strings\" // again\nfunc up2(s string) string { return strings.ToUpper(s) }\nup2(\"b\")", `"B"`},
		{"a0 := 2\n// Doc.\nfunc twiceA(x int) int { return a0 * x }\ntype W[T any] struct{ v T }\nfunc (w *W[T]) Set(v T) { w.v = v }\nvar ww W[int]\nww.Set(4)\ntwiceA(ww.v)", "8"},
		// Go 1.22 loop variables: each iteration has its own, which closures and
		// goroutines made in the body capture (yaegi shares one: 333, 125, 3 3).
		{"var funcs []func() int\nfor i := 0; i < 3; i++ {\n\tfuncs = append(funcs, func() int { return i })\n}\nfuncs[0]() + funcs[1]()*10 + funcs[2]()*100", "210"},
		{"results := make(chan int, 10)\nvar wg sync.WaitGroup\nfor i := 0; i < 5; i++ {\n\twg.Add(1)\n\tgo func() {\n\t\tdefer wg.Done()\n\t\tresults <- i * i\n\t}()\n}\nwg.Wait()\nclose(results)\ns := 0\nfor r := range results { s += r }\ns", "30"},
		{"var ps []*string\nfor _, v := range []string{\"a\", \"b\"} { ps = append(ps, &v) }\n*ps[0] + *ps[1]", `"ab"`},
		{"var gs []func() string\nfor k, v := range map[string]int{\"a\": 1} {\n\tif v > 0 {\n\t\tgs = append(gs, func() string { return fmt.Sprint(k, v) })\n\t}\n}\ngs[0]()", `"a1"`},
		{"func mk(n int) []func() int {\n\tvar out []func() int\n\tfor i := range n {\n\t\tout = append(out, func() int { return i })\n\t}\n\tfor i := 0; i < n; i++ {\n\t\tout = append(out, func() int { return i * 10 })\n\t}\n\treturn out\n}\nfs := mk(2)\nfmt.Sprint(fs[0](), fs[1](), fs[2](), fs[3]())", `"0 1 0 10"`},
		{"xs := []int{1, 2, 3}\nvar fs2 []func() int\nfor i, v := range slices.Backward(xs) {\n\tfs2 = append(fs2, func() int { return i*10 + v })\n}\nfmt.Sprint(fs2[0](), fs2[2]())", `"23 1"`},
		// a body that changes the variable keeps the one variable, as the loop needs
		{"n := 0\nfor i := 0; i < 10; i++ {\n\tif i%2 == 0 {\n\t\ti++\n\t}\n\tf := func() { n += i }\n\tf()\n}\nn", "25"},
		// a labelled break directly in a select case leaves the loop (yaegi left the select only)
		{"c := make(chan int, 5)\nfor i := 0; i < 5; i++ { c <- i }\nn := 0\nloop:\nfor {\n\tselect {\n\tcase <-c:\n\t\tn++\n\t\tbreak loop\n\t}\n}\nn", "1"},
		{"func drain(c chan int) (n int) {\nloop:\n\tfor {\n\t\tselect {\n\t\tcase v := <-c:\n\t\t\tn += v\n\t\tdefault:\n\t\t\tbreak loop\n\t\t}\n\t}\n\treturn\n}\nc2 := make(chan int, 3)\nc2 <- 1\nc2 <- 2\ndrain(c2)", "3"},
		// A func using a variable its cell's statements define is assigned where it
		// stands (it was "undefined: data": declarations are evaluated first).
		{"data := []float64{1, 2, 6}\nfunc mean() float64 {\n\ts := 0.0\n\tfor _, x := range data {\n\t\ts += x\n\t}\n\treturn s / float64(len(data))\n}\nmean()", "3"},
		{"data = append(data, 11)\nmean()", "5"},
		{"k := 10\nfunc scaled(x float64) float64 { return x * float64(k) }\nfunc twice(x float64) float64 { return 2 * scaled(x) }\ntwice(1)", "20"},
		{"k = 100\ntwice(1)", "200"},
		{"func fib(n int) int {\n\tif n < 2 {\n\t\treturn n + k - k\n\t}\n\treturn fib(n-1) + fib(n-2)\n}\nk := 3\nfib(10)", "55"},
		// Method expressions of cell types (they failed: "reflect: Call with too many
		// input arguments"), with the newest body after a redefinition.
		{"type Pt struct{ X, Y int }\nfunc (p Pt) Add(q Pt) Pt { return Pt{p.X + q.X, p.Y + q.Y} }\nfunc (p *Pt) Scale(k int) { p.X *= k; p.Y *= k }\nadd := Pt.Add\nadd(Pt{1, 2}, Pt{1, 1})", "{X:2 Y:3}"},
		{"pt := Pt{1, 2}\nscale := (*Pt).Scale\nscale(&pt, 2)\npt", "{X:2 Y:4}"},
		{"func (p Pt) Add(q Pt) Pt { return Pt{p.X + q.X + 100, p.Y + q.Y} }\nPt.Add(Pt{1, 1}, Pt{2, 2})", "{X:103 Y:3}"},
		// A declaration in a top-level block is local to it (yaegi's top level took it
		// for the session's variable: x became 11, i 3).
		{"x := 5\n{\n\tx := 10\n\tx++\n}\nx", "5"},
		{"i := 100\nfor i := 0; i < 3; i++ {\n}\ni", "100"},
		{"if x := 3; x > 2 {\n\tx++\n}\nswitch i := 7; i {\n}\nfmt.Sprint(x, i)", `"5 100"`},
		// v, ok := x.(T) at the top level (yaegi: "nil type")
		{"var iface any = 3\nn, ok := iface.(int)\nn + 1", "4"},
		{"str, ok := iface.(string)\nfmt.Sprintf(\"%q %v\", str, ok)", `"\"\" false"`},
		{"type Shape interface{ Area() float64 }\ntype Sq struct{ S float64 }\nfunc (s Sq) Area() float64 { return s.S * s.S }\nvar sh Shape = Sq{3}\nok := false\nsq, ok := sh.(Sq)\n_, isPtr := sh.(*Sq)\nfmt.Sprint(sq.S, ok, isPtr)", `"3 true false"`},
	} {
		if v := p.ok(c[0]).value(); v != c[1] {
			t.Errorf("%q shows %s, want %s", c[0], v, c[1])
		}
	}
}

// Run-time errors of interpreted code read as Go's runtime says them, not as the
// reflect panics yaegi lets through.
func TestGoPanicMessages(t *testing.T) {
	p := start(t)
	p.ok("type Q struct{ X int; Next *Q }\nfunc (q *Q) Get() int { return q.X }\ntype G interface{ Get() int }")
	for _, c := range [][2]string{
		{"var q *Q\nq.X", "runtime error: invalid memory address or nil pointer dereference"},
		{"qs := []Q{{1, nil}}\nqs[0].Next.X = 2", "runtime error: invalid memory address or nil pointer dereference"},
		{"var g G\ng.Get()", "runtime error: invalid memory address or nil pointer dereference"},
		{"var f func() int\nf()", "runtime error: invalid memory address or nil pointer dereference"},
		{"a := [3]int{}\nk := 5\na[k]", "runtime error: index out of range"},
		{"s := []int{1}\nk := 5\ns[k]", "runtime error: index out of range"},
		{"s := []int{1}\ns[1:5]", "runtime error: slice bounds out of range"},
		{"var x any = 1\nx.(string)", "interface conversion: interface {} is int, not string"},
	} {
		r := p.run(c[0])
		if r.ename() != "RuntimeError" || r.evalue() != c[1] {
			t.Errorf("%q: %s: %s, want RuntimeError: %s", c[0], r.ename(), r.evalue(), c[1])
		}
		if !strings.Contains(r.traceback(), "of this cell") {
			t.Errorf("%q: no position:\n%s", c[0], r.traceback())
		}
	}
}

// Compile errors name types as Go does, not by yaegi's kinds ("stringT").
func TestCompileErrorTypeNames(t *testing.T) {
	p := start(t)
	r := p.run("func bad() int {\n\treturn \"s\"\n}")
	if r.ename() != "CompileError" || !strings.Contains(r.evalue(), "2:9:") || strings.Contains(r.evalue(), "stringT") || strings.Contains(r.evalue(), "intT") || !strings.Contains(r.evalue(), "type string") {
		t.Errorf("%s: %s", r.ename(), r.evalue())
	}
}

// A cell's top-level defers run once, when its statements end, newest first, also
// after a panic (yaegi ran them at the end of every later evaluation: a deferred
// cancel cancelled the cell's context before its next statement).
func TestTopLevelDefers(t *testing.T) {
	p := start(t)
	if r := p.ok("fmt.Println(\"a\")\ndefer fmt.Println(\"d1\")\ndefer fmt.Println(\"d2\")\nfmt.Println(\"b\")"); r.stdout != "a\nb\nd2\nd1\n" {
		t.Errorf("defers ran as %q", r.stdout)
	}
	if r := p.ok("fmt.Println(\"next\")"); r.stdout != "next\n" {
		t.Errorf("a later cell ran defers again: %q", r.stdout)
	}
	if v := p.ok("ctx, cancel := context.WithCancel(context.Background())\ndefer cancel()\nfmt.Sprint(ctx.Err())").value(); v != `"<nil>"` {
		t.Errorf("context cancelled before the cell ended: %s", v)
	}
	if v := p.ok("ctx.Err()").value(); v != "context canceled" {
		t.Errorf("the deferred cancel did not run: %s", v)
	}
	if r := p.ok("for i := range 3 {\n\tdefer fmt.Print(i, \" \")\n}\nfmt.Print(\"body \")"); r.stdout != "body 2 1 0 " {
		t.Errorf("defers in a loop: %q", r.stdout)
	}
	r := p.run("defer fmt.Println(\"still runs\")\npanic(\"boom\")")
	if r.ename() != "Panic" || r.stdout != "still runs\n" {
		t.Errorf("after a panic: %s %q", r.ename(), r.stdout)
	}
}
