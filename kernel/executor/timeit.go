package executor

import (
	"context"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// The %timeit magic: IPython's, for Go. The code is compiled once, as the body of
// a func, and run in loops: unless -n gives the number of loops, it goes 1, 2, 5,
// 10, 20, 50, ... until one run of them takes timeitRunTarget; then the runs (7,
// or -r) are timed and summarised as a mean and standard deviation per loop, with
// the best run beside them.
const (
	timeitRuns     = 7
	timeitMaxLoops = 100_000_000
)

// timeitRunTarget is the least time one run of loops takes (a var for tests).
var timeitRunTarget = 200 * time.Millisecond

// timeit runs code (cell text; lines before the code are blank so that positions
// in errors match the cell) as %timeit does. code runs through the cell pre-pass
// like any cell, wrapped in a func literal assigned to a session variable, so it
// sees the session's variables and imports; variables it declares are its own.
//
// loops and runs are the -n and -r options, 0 when not given.
func (s *session) timeit(ctx context.Context, code string, loops, runs int) *cellError {
	body := strings.TrimSpace(code)
	if body == "" {
		return &cellError{ename: "MagicError", evalue: "%timeit needs code to time: `%timeit f(x)`, or %timeit alone on the first line and the code below it",
			traceback: []string{"MagicError: %timeit needs code to time"}}
	}
	lead := code[:strings.Index(code, body)] // the blank lines and indent before the code
	if e, err := parser.ParseExpr(body); err == nil {
		if _, call := e.(*ast.CallExpr); !call {
			body = "_ = " + body // an expression is timed as its evaluation
		}
	}
	// The wrapper takes the line before the code's, which the magic had, so that
	// lines in errors match the cell; only code on the cell's first line shifts.
	wrapped := "goinvTimeitFunc := func() {" + lead + body + "\n}"
	if nl := strings.LastIndex(lead, "\n"); nl >= 0 {
		wrapped = lead[:nl] + "goinvTimeitFunc := func() {\n" + lead[nl+1:] + body + "\n}"
	}
	if cerr := s.runCell(ctx, wrapped); cerr != nil {
		return cerr
	}
	run := func(loops int) (time.Duration, *cellError) {
		src := fmt.Sprintf("for goinvI := 0; goinvI < %d; goinvI++ { goinvTimeitFunc() }", loops)
		prog, err := s.compile(src)
		if err != nil {
			return 0, &cellError{ename: "MagicError", evalue: "%timeit: " + err.Error(), traceback: []string{"MagicError: %timeit: " + err.Error()}}
		}
		start := time.Now()
		_, err = s.execute(ctx, prog)
		d := time.Since(start)
		if err != nil {
			return 0, s.timeitError(ctx, err)
		}
		return d, nil
	}
	if runs <= 0 {
		runs = timeitRuns
	}
	for step := 0; loops <= 0; step++ {
		n := []int{1, 2, 5}[step%3]
		for range step / 3 {
			n *= 10
		}
		d, cerr := run(n)
		if cerr != nil {
			return cerr
		}
		if d >= timeitRunTarget || n >= timeitMaxLoops {
			loops = n
		}
	}
	per := make([]float64, 0, runs)
	for range runs {
		d, cerr := run(loops)
		if cerr != nil {
			return cerr
		}
		per = append(per, d.Seconds()/float64(loops))
	}
	fmt.Println(timeitSummary(per, loops))
	return nil
}

// timeitError is the error of a timed run: an interrupt, or what the code did.
func (s *session) timeitError(ctx context.Context, err error) *cellError {
	if ctx.Err() != nil {
		return &cellError{ename: "Interrupted", evalue: "%timeit was interrupted; variables are kept",
			traceback: []string{"Interrupted: %timeit was interrupted; variables are kept"}}
	}
	msg := s.pre.Unmangle(err.Error())
	return &cellError{ename: "Panic", evalue: msg, traceback: []string{"Panic: " + msg, "(in %timeit; variables are kept)"}}
}

// timeitOptions splits IPython's options -n LOOPS and -r RUNS from the start of
// the code of a %timeit line.
func timeitOptions(line string) (code string, loops, runs int, err error) {
	code = strings.TrimSpace(line)
	for strings.HasPrefix(code, "-n") || strings.HasPrefix(code, "-r") {
		opt := code[:2]
		rest := strings.TrimSpace(code[2:])
		num, after, _ := strings.Cut(rest, " ")
		v, convErr := strconv.Atoi(num)
		if convErr != nil || v < 1 {
			return "", 0, 0, fmt.Errorf("%%timeit %s needs a positive whole number, as in `%%timeit %s 100 f(x)`; got %q", opt, opt, num)
		}
		if opt == "-n" {
			loops = v
		} else {
			runs = v
		}
		code = strings.TrimSpace(after)
	}
	return code, loops, runs, nil
}

// timeitSummary is IPython's line: "1.2 µs ± 30 ns per loop (mean ± std. dev. of
// 7 runs, 100,000 loops each)", with the fastest run's time per loop after it.
func timeitSummary(per []float64, loops int) string {
	mean, best := 0.0, math.Inf(1)
	for _, p := range per {
		mean += p
		best = min(best, p)
	}
	mean /= float64(len(per))
	sd := 0.0
	for _, p := range per {
		sd += (p - mean) * (p - mean)
	}
	if len(per) > 1 {
		sd = math.Sqrt(sd / float64(len(per)-1))
	}
	loopWord := "loops"
	if loops == 1 {
		loopWord = "loop"
	}
	return fmt.Sprintf("%s ± %s per loop (mean ± std. dev. of %d runs, %s %s each; best %s)",
		formatSeconds(mean), formatSeconds(sd), len(per), groupThousands(loops), loopWord, formatSeconds(best))
}

// formatSeconds writes a duration in seconds with three significant digits in
// the unit that suits it.
func formatSeconds(s float64) string {
	units := []struct {
		name  string
		scale float64
	}{{"s", 1}, {"ms", 1e-3}, {"µs", 1e-6}, {"ns", 1e-9}}
	for _, u := range units {
		if s >= u.scale || u.name == "ns" {
			v := s / u.scale
			switch {
			case v >= 99.95:
				return fmt.Sprintf("%.0f %s", v, u.name)
			case v >= 9.995:
				return fmt.Sprintf("%.1f %s", v, u.name)
			default:
				return fmt.Sprintf("%.2f %s", v, u.name)
			}
		}
	}
	return ""
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// whos prints the session's variables, constants and funcs, as IPython's %whos
// does: name, type and value, one a line, the value cut to one short line.
func (s *session) whos() {
	names := s.pre.Names()
	globals := s.globals()
	ty := s.typer()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "Name\tKind\tType\tValue")
	fmt.Fprintln(w, "----\t----\t----\t-----")
	n := 0
	for _, name := range sortedKeys(globals) {
		v := globals[name]
		if strings.HasPrefix(name, "goinv") || name == "_" || !v.IsValid() {
			continue
		}
		kind := names[name]
		if kind == "" {
			kind = "var"
		}
		typ := s.pre.Unmangle(v.Type().String())
		// As written where the cells declared it: reflect has lost the names of cell types.
		if fd := s.pre.FuncDecl(name); kind == "func" && fd != nil {
			typ = s.pre.Unmangle(nodeText(fd.Type))
		} else if t := ty.identType(name); kind != "func" && t.src != nil {
			typ = nodeText(t.src)
		}
		val := ""
		if c, ok := v.Interface().(constant.Value); ok && kind == "const" {
			// yaegi keeps a constant as a go/constant value
			typ, val = "untyped "+strings.ToLower(c.Kind().String()), oneLine(c.ExactString(), 60)
		} else if kind != "func" && v.CanInterface() {
			val = oneLine(plainText(v.Interface()), 60)
			switch v.Kind() {
			case reflect.Slice, reflect.Map, reflect.Array, reflect.Chan:
				val = fmt.Sprintf("len %d: %s", v.Len(), val)
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, kind, oneLine(typ, 40), val)
		n++
	}
	for _, name := range sortedKeys(names) {
		if names[name] == "type" {
			fmt.Fprintf(w, "%s\ttype\t\t\n", name)
			n++
		}
	}
	if n == 0 {
		fmt.Println("the session has no variables, funcs or types yet")
		return
	}
	w.Flush()
}

// oneLine cuts text to its first line and at most max characters, marking a cut with …
func oneLine(text string, max int) string {
	cut := false
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text, cut = text[:i], true
	}
	if utf8.RuneCountInString(text) > max {
		text, cut = string([]rune(text)[:max]), true
	}
	if cut {
		text += "…"
	}
	return text
}
