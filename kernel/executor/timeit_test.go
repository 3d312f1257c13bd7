package executor

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goinv/goinv/kernel/ipc"
)

var timeitLine = regexp.MustCompile(`^[\d.]+ (s|ms|µs|ns) ± [\d.]+ (s|ms|µs|ns) per loop \(mean ± std\. dev\. of 7 runs, [\d,]+ loops? each; best [\d.]+ (s|ms|µs|ns)\)\n$`)

func TestTimeit(t *testing.T) {
	p := start(t)
	p.ok("xs := make([]int, 1000)\nn := 0")
	for _, code := range []string{
		"%timeit len(xs) + 1",
		"%timeit -n 20 -r 7 strings.Repeat(\"a\", 10)", // a package the session has not imported
		"%timeit -r 7 -n 3\nsum := 0\nfor _, x := range xs {\n\tsum += x\n}\nn++",
	} {
		r := p.ok(code)
		if !timeitLine.MatchString(r.stdout) {
			t.Errorf("%q printed %q", code, r.stdout)
		}
	}
	if v := p.ok("n").value(); v != "21" {
		t.Errorf("the timed code runs 7 runs of 3 loops and updates the session's variable: n = %s, want 21", v)
	}
	if r := p.run("%timeit -n x f()"); r.ename() != "MagicError" || !strings.Contains(r.evalue(), "-n needs a positive whole number") {
		t.Errorf("%%timeit -n x: %s %q", r.ename(), r.evalue())
	}
	r := p.run("%timeit\nxs[0] = undefinedZ")
	if r.ename() != "CompileError" || r.evalue() != "2:9: undefined: undefinedZ" {
		t.Errorf("error in timed code: %s %q", r.ename(), r.evalue())
	}
	r = p.run("%timeit")
	if r.ename() != "MagicError" {
		t.Errorf("%%timeit without code: %s %q", r.ename(), r.evalue())
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		ipc.WriteFrame(p.req, ipc.Request{Kind: ipc.KindInterrupt})
	}()
	r = p.run("%timeit for {}")
	if r.ename() != "Interrupted" || r.elapsed > 2*time.Second {
		t.Errorf("interrupting %%timeit: %s %q after %v", r.ename(), r.evalue(), r.elapsed)
	}
	if v := p.ok("len(xs)").value(); v != "1000" {
		t.Errorf("variables after %%timeit was interrupted: len(xs) = %s", v)
	}
}

func TestTimeitSummary(t *testing.T) {
	got := timeitSummary([]float64{1.1e-6, 1.0e-6, 1.2e-6}, 100000)
	if got != "1.10 µs ± 100 ns per loop (mean ± std. dev. of 3 runs, 100,000 loops each; best 1.00 µs)" {
		t.Errorf("summary: %q", got)
	}
	if got := formatSeconds(2.5); got != "2.50 s" {
		t.Errorf("formatSeconds(2.5) = %q", got)
	}
}

func TestWhos(t *testing.T) {
	p := start(t)
	if out := p.ok("%whos").stdout; !strings.Contains(out, "no variables") {
		t.Errorf("%%whos of an empty session: %q", out)
	}
	p.ok("type Point struct{ X, Y int }\nconst limit = 3\npt := Point{1, 2}\nlabel := \"a very long label that goes on and on and on and on and on and on and on\"\nfunc double(x int) int { return 2 * x }\nys := []int{4, 5}")
	out := p.ok("%whos").stdout
	for _, want := range []string{
		"Name ", "pt ", "Point", "{X:1 Y:2}", "limit ", "const  untyped int", "double ", "func(x int) int", "Point ", "type", "label ", "on and on …", "len 2: [4 5]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%%whos lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "struct {") {
		t.Errorf("%%whos shows the structure of a cell type, not its name:\n%s", out)
	}
	if strings.Contains(out, "goinv") {
		t.Errorf("%%whos shows goinv's own variables:\n%s", out)
	}
}

func TestCellMagics(t *testing.T) {
	p := start(t)
	r := p.ok("%%html\n<b>bold</b> text")
	if len(r.events) == 0 || r.events[0].Kind != ipc.EventDisplay || r.events[0].Data["text/html"] != "<b>bold</b> text" {
		t.Errorf("%%%%html: %+v", r.events)
	}
	r = p.ok("%%markdown\n# Title")
	if len(r.events) == 0 || r.events[0].Data["text/markdown"] != "# Title" {
		t.Errorf("%%%%markdown: %+v", r.events)
	}
	r = p.ok("%%bash\nfor i in 1 2; do echo \"line $i\"; done\necho err >&2")
	if r.stdout != "line 1\nline 2\n" || r.stderr != "err\n" {
		t.Errorf("%%%%bash: stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = p.ok("%%sh a b\necho \"$# $2\"")
	if r.stdout != "2 b\n" {
		t.Errorf("%%%%sh with arguments: %q", r.stdout)
	}
	r = p.run("%%bash\nexit 3")
	if r.ename() != "ShellError" || !strings.Contains(r.evalue(), "status 3") {
		t.Errorf("%%%%bash exit 3: %s %q", r.ename(), r.evalue())
	}
}

func TestCompleteMagics(t *testing.T) {
	for _, c := range []struct {
		code  string
		want  string
		start int
	}{
		{"%ti", "%time %timeit", 0},
		{"%%ht", "%%html", 0},
		{"x := 1\n%wh", "%whos", 7},
		{"  %re", "%reset", 2},
	} {
		r, ok := completeMagic(c.code, len(c.code))
		if !ok {
			t.Errorf("%q: not completed as a magic", c.code)
			continue
		}
		var got []string
		for _, m := range r["matches"].([]string) {
			got = append(got, m)
		}
		if strings.Join(got, " ") != c.want || r["cursor_start"] != c.start {
			t.Errorf("%q: %v from %v, want %q from %d", c.code, got, r["cursor_start"], c.want, c.start)
		}
	}
	for _, code := range []string{"x := a % b", "x := 1\n%%ba"} { // a cell magic is only the first line
		if _, ok := completeMagic(code, len(code)); ok {
			t.Errorf("%q is completed as a magic", code)
		}
	}
}
