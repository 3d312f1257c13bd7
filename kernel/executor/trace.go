package executor

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/goinv/goinv/kernel/cell"
)

// Tracebacks of panics.
//
// A panic's traceback lists, innermost first, the frames of cell code with the
// line, column and source line of the statement each was running (recorded by the
// pre-pass instrumentation, see kernel/cell/trace.go), and between them the frames
// of compiled code (the toolkit, the standard library) as the Go runtime saw them.
// yaegi prints one "L:C: panic: NAME(...)" line per interpreted frame while the
// panic unwinds (panicFilter keeps them); the Go stack of the panic has one
// interp.runCfg frame per interpreted frame, and the compiled frames in between.

// cellText is a cell's code as run, kept so that tracebacks can show lines of the
// cell that defined a func.
type cellText struct {
	code  string
	count int // execution count, 0 if unknown
	// files: the interpreter's FileSet bases [lo, hi) of the sources the cell's
	// evaluation parsed (see dropFiles).
	lo, hi int
}

// yframe is one "L:C: panic: NAME(...)" line of yaegi.
type yframe struct {
	name      string
	line, col int
}

func parseYaegiFrames(lines []string) []yframe {
	var out []yframe
	for _, l := range lines {
		m := panicLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		out = append(out, yframe{name: strings.TrimSuffix(m[3], "(...)"), line: line, col: col})
	}
	return out
}

// gframe is a frame of compiled code in a Go stack trace.
type gframe struct {
	fn, file string
	line     int
}

var stackFileLine = regexp.MustCompile(`^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?$`)

// compiledSegments splits the Go stack of a panic (runtime/debug.Stack text) into
// the compiled frames between interpreted ones: segs[0] are the frames that raised
// the panic above the innermost interpreted frame, segs[i] those between interpreted
// frames i-1 and i. n is the number of interpreted frames; ok is false when the
// stack cannot be read whole.
func compiledSegments(stack []byte) (segs [][]gframe, n int, ok bool) {
	lines := strings.Split(string(stack), "\n")
	var frames []gframe
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.Contains(l, "additional frames elided") {
			return nil, 0, false
		}
		if l == "" || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "goroutine ") || strings.HasPrefix(l, "created by ") {
			continue
		}
		fn := l
		if j := strings.LastIndex(fn, "("); j > 0 && strings.HasSuffix(fn, ")") {
			fn = fn[:j]
		}
		g := gframe{fn: fn}
		if i+1 < len(lines) {
			if m := stackFileLine.FindStringSubmatch(lines[i+1]); m != nil {
				g.file = m[1]
				g.line, _ = strconv.Atoi(m[2])
				i++
			}
		}
		frames = append(frames, g)
	}
	// The original panic is the deepest "panic" frame: yaegi re-panics in a deferred
	// call of every interpreted frame, above the frames of the first panic.
	start := -1
	for i, f := range frames {
		if f.fn == "panic" {
			start = i
		}
	}
	if start < 0 {
		return nil, 0, false
	}
	var cur []gframe
	for _, f := range frames[start+1:] {
		switch {
		case f.fn == "github.com/traefik/yaegi/interp.runCfg":
			segs = append(segs, cur)
			cur = nil
			n++
		case strings.HasPrefix(f.fn, "runtime."), strings.HasPrefix(f.fn, "reflect."),
			strings.HasPrefix(f.fn, "github.com/traefik/yaegi/"), strings.HasPrefix(f.fn, "github.com/goinv/goinv/kernel/"):
			// The interpreter's machinery, not code the user called.
		default:
			cur = append(cur, f)
		}
	}
	if len(segs) == 0 {
		segs = append(segs, cur)
	}
	return segs, n, true
}

// compiledLines formats compiled frames, eliding the middle of long runs.
func compiledLines(seg []gframe) []string {
	var out []string
	for i, f := range seg {
		if len(seg) > 8 && i == 4 {
			out = append(out, fmt.Sprintf("  ... %d more compiled frames", len(seg)-7))
		}
		if len(seg) > 8 && i >= 4 && i < len(seg)-3 {
			continue
		}
		// Drop the import path before the package name: nn.(*MLP).Forward.
		fn := f.fn[strings.LastIndex(f.fn, "/")+1:]
		where := "compiled"
		if f.file != "" {
			where = fmt.Sprintf("compiled, %s/%s:%d", path.Base(path.Dir(f.file)), path.Base(f.file), f.line)
		}
		out = append(out, fmt.Sprintf("  in %s (%s)", fn, where))
	}
	return out
}

// panicTrace returns the traceback lines of a panic raised while running a part of
// the current cell (decls: its declarations, whose var initializers that can panic
// are inits): yframes are yaegi's frame lines, stack the Go stack of the panic.
func (s *session) panicTrace(code string, decls bool, inits []cell.Site, yframes []yframe, stack []byte) []string {
	segs, n, ok := compiledSegments(stack)
	if ok && n <= len(yframes) {
		yframes = yframes[len(yframes)-n:] // earlier lines belong to panics recovered in the cell
	} else if len(segs) > 1 {
		segs = segs[:1]
	}
	var out []string
	if len(segs) > 0 {
		out = append(out, compiledLines(segs[0])...)
	}
	globals := s.globals()
	seen := map[string]bool{}
	lastVar, lastName := "", ""
	repeats, header := 0, -1
	flush := func() {
		if repeats > 0 && header >= 0 {
			out[header] += fmt.Sprintf(" (and %d recursive calls)", repeats)
		}
		repeats, header = 0, -1
	}
	for i, yf := range yframes {
		fr, known := s.pre.FrameFor(yf.name, yf.line)
		switch {
		case known && fr.Skip:
		case !known:
			flush()
			out = append(out, "  in "+strings.TrimPrefix(yf.name, "main.")+" (no position recorded)")
			lastVar, lastName = "", ""
		case fr.Var == lastVar:
			// The same body again (recursion), or the wrapper of a top-level statement.
			if yf.name == lastName {
				repeats++
			}
		case seen[fr.Var]:
			flush()
			out = append(out, fmt.Sprintf("  in %s (a recursive call; its line is not known)", fr.Func))
			lastVar, lastName = fr.Var, yf.name
		default:
			flush()
			seen[fr.Var] = true
			lastVar, lastName = fr.Var, yf.name
			if fr.Var == cell.TopVar && decls {
				// Package-level var initializers run before any statement records a site.
				switch len(inits) {
				case 1:
					header = len(out)
					out = append(out, s.siteLines(inits[0], code)...)
				case 0:
					out = append(out, "  in a package-level var initializer of this cell")
				default:
					var lines []string
					for _, in := range inits {
						lines = append(lines, fmt.Sprintf("line %d (%s)", in.Line, in.Func))
					}
					out = append(out, "  in one of the var initializers of this cell at "+strings.Join(lines, ", "))
				}
				continue
			}
			id := 0
			if v, ok := globals[fr.Var]; ok && v.IsValid() && v.CanInt() {
				id = int(v.Int())
			}
			site, ok := s.pre.Site(id)
			if !ok {
				label := fr.Func
				if label == "" {
					label = "the cell's top level"
				}
				out = append(out, "  in "+label+" (no position recorded)")
				continue
			}
			header = len(out)
			out = append(out, s.siteLines(site, code)...)
		}
		if i+1 < len(segs) {
			if lines := compiledLines(segs[i+1]); len(lines) > 0 {
				flush()
				out = append(out, lines...)
				lastVar, lastName = "", ""
			}
		}
	}
	flush()
	return out
}

// siteLines describes a recorded statement: where, and its line with a caret.
func (s *session) siteLines(st cell.Site, code string) []string {
	where, text := "this cell", code
	if st.Cell != s.cellSeq {
		c := s.cells[st.Cell]
		text = c.code
		if c.count > 0 {
			where = fmt.Sprintf("cell [%d]", c.count)
		} else {
			where = "an earlier cell"
		}
	}
	head := fmt.Sprintf("  at line %d, column %d of %s", st.Line, st.Col, where)
	if st.Func != "" {
		head = fmt.Sprintf("  in %s, line %d, column %d of %s", st.Func, st.Line, st.Col, where)
	}
	return append([]string{head}, caret(text, st.Line, st.Col)...)
}

// interruptedAt shows the top-level statement of the cell that was running when it
// was interrupted (yaegi reports no frames for an interrupt, so calls deeper down
// are not known).
func (s *session) interruptedAt(code string) []string {
	v, ok := s.globals()[cell.TopVar]
	if !ok || !v.IsValid() || !v.CanInt() {
		return nil
	}
	site, ok := s.pre.Site(int(v.Int()))
	if !ok || site.Cell != s.cellSeq {
		return nil
	}
	return s.siteLines(site, code)
}
