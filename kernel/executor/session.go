package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

	"github.com/goinv/goinv/kernel/cell"
	"github.com/goinv/goinv/kernel/ipc"
	cellctx "github.com/goinv/goinv/stdlib/cell"
	"github.com/goinv/goinv/stdlib/display"
	"github.com/goinv/goinv/stdlib/symbols"
)

// prelude is evaluated in every fresh interpreter: the helpers the pre-pass calls.
const prelude = `package main

import goinvrt "goinv/rt"

var goinvLast interface{}

var goinvTop int // the site of the running top-level statement (see kernel/cell/trace.go)

// the top-level defers of the running cell (see kernel/cell/loops.go)
var goinvDefers []func()

// the values of a call of several results shown as a cell's value
func goinvValues(vs ...interface{}) []interface{} { return vs }

func goinvRunDefers() {
	d := goinvDefers
	goinvDefers = nil
	for i := len(d) - 1; i >= 0; i-- {
		d[i]()
	}
}

type goinvOrdered interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64 | ~string
}

func goinvMin[T goinvOrdered](x T, ys ...T) T {
	for _, y := range ys {
		if y < x || y != y {
			x = y
		}
	}
	return x
}

func goinvMax[T goinvOrdered](x T, ys ...T) T {
	for _, y := range ys {
		if y > x || y != y {
			x = y
		}
	}
	return x
}

func goinvClear(x interface{}) { goinvrt.Clear(x) }

`

// session is the interpreter and its pre-pass state.
type session struct {
	x    *Executor
	i    *interp.Interpreter
	pre  *cell.Session
	pkgs map[string]string // package name → path, for automatic imports and completion

	resMu  sync.Mutex
	result display.MIMEBundle // set by goinvShow during a cell

	stderr *panicFilter
	stdin  *stdinPipe

	minMax   map[string]bool // types whose min and max helpers are declared (see declareMinMax)
	generics bool            // the generic standard packages are compiled (see declareGenerics)

	count   int              // execution count of the running request
	cellSeq int              // numbers the cells run, for cell.Options.Cell
	cells   map[int]cellText // cells by number, for tracebacks into earlier cells

	ignoredInterrupt map[int]bool // goroutines of programs that outlived an interrupt (see awaitInterrupted)
}

func newSession(x *Executor) (*session, error) {
	s := &session{x: x}
	s.stderr = &panicFilter{w: os.Stderr}
	st, err := newStdinPipe()
	if err != nil {
		return nil, err
	}
	s.stdin = st
	s.pkgs = packageNames()
	if err := s.reset(); err != nil {
		return nil, err
	}
	return s, nil
}

// reset starts a fresh interpreter: %reset, and the first start.
func (s *session) reset() error {
	i := interp.New(interp.Options{
		Env:          os.Environ(),
		Stdin:        os.Stdin,
		Stdout:       os.Stdout,
		Stderr:       s.stderr,
		Unrestricted: true,
	})
	for _, syms := range []interp.Exports{stdlib.Symbols, unrestricted.Symbols, symbols.Symbols, s.rtSymbols()} {
		if err := i.Use(syms); err != nil {
			return fmt.Errorf("load symbols: %w", err)
		}
	}
	if _, err := i.Eval(prelude); err != nil {
		return fmt.Errorf("prelude: %w", err)
	}
	s.i = i
	s.minMax = map[string]bool{}
	s.generics = false
	s.pre = cell.NewSession()
	s.pre.Packages = s.pkgs
	s.pre.IntVar = s.intVar
	s.pre.VarType = s.varType
	s.pre.TypeOf = s.typeOf
	s.pre.Results = packageFuncResults
	s.pre.PkgType = packageMemberType
	s.cells = map[int]cellText{}
	return nil
}

func (s *session) rtSymbols() interp.Exports {
	return interp.Exports{"goinv/rt/goinvrt": {
		"Clear": reflect.ValueOf(clearValue),
	}}
}

// richMethods are the methods that render a value richly, by MIME type.
var richMethods = [][2]string{
	{"HTML", "text/html"}, {"Markdown", "text/markdown"}, {"SVG", "image/svg+xml"},
	{"PNG", "image/png"}, {"MIMEBundle", ""}, {"String", "text/plain"}, {"Error", "text/plain"},
}

// collectResult records the cell's value v with the rich forms its methods give.
// reflect cannot see the methods of interpreted types, so the methods named in
// rich (those that compile on the cell's value, see richApplicable) are called by
// evaluating calls on LastVar, which the cell assigned v to. With rich empty,
// LastVar was not assigned and only v is used.
func (s *session) collectResult(v reflect.Value, rich []string) {
	if !v.IsValid() {
		return
	}
	if (v.Kind() == reflect.Interface || v.Kind() == reflect.Func) && v.IsNil() {
		return
	}
	if !v.CanInterface() {
		return
	}
	b := map[string]interface{}{}
	// The calls' temporaries (a method value refers to the call's syntax tree)
	// are let go afterwards; see sweepTemps.
	defer sweepTemps(s.i, globalFrameLen(s.i))
	for _, m := range richMethods {
		if !slices.Contains(rich, m[0]) {
			continue
		}
		if _, done := b[m[1]]; done && m[1] != "" {
			continue
		}
		r, err := s.i.Eval(";" + cell.LastVar + "." + m[0] + "()")
		if err != nil || !r.IsValid() || !r.CanInterface() {
			continue
		}
		if m[1] == "" {
			if mb, ok := r.Interface().(map[string]interface{}); ok {
				for k, d := range mb {
					b[k] = d
				}
			}
			continue
		}
		b[m[1]] = r.Interface()
	}
	s.setResult(v.Interface(), b)
}

// richApplicable returns the rich methods (see richMethods) that some cell
// declared and that compile on the value of show's last statement, which assigns
// it to LastVar. Each is found by compiling, not running, a function literal that
// assigns the value to a local LastVar and calls the method: the same static type
// and addressable variable as the real call, and no package-level variable (a
// variable defined at the top level takes a slot of the interpreter's global frame
// that no later cell gives back). Call it after the statements before show's ran.
func (s *session) richApplicable(show *cell.Source) []string {
	var rich []string
	for _, m := range richMethods {
		if !s.pre.HasMethod(m[0]) || slices.Contains(rich, m[0]) {
			continue
		}
		// The value's line comes last in show; a newline ends a trailing comment.
		if _, err := s.compile(";_ = func() {" + show.Code + "\n_ = " + cell.LastVar + "." + m[0] + "()\n}"); err == nil {
			rich = append(rich, m[0])
		}
	}
	return rich
}

// forgetLast zeroes LastVar, which a cell with rich methods assigned its value to,
// once that value was shown: the variable holds it for no one, and a large value
// would otherwise stay in memory until the next such cell. (Not with reflect's
// SetZero: LastVar can be a view of the variable the cell showed.)
func (s *session) forgetLast() {
	resetGlobal(s.i, cell.LastVar)
}

// setResult records the cell's value with the rich forms found so far.
func (s *session) setResult(v interface{}, b map[string]interface{}) {
	switch v.(type) {
	case *display.Handle, *display.Progress:
		return
	}
	if v == nil {
		return
	}
	out := display.MIMEBundle{}
	for k, d := range b {
		out[k] = d
	}
	for k, d := range richOf(v) {
		if _, ok := out[k]; !ok {
			out[k] = d
		}
	}
	if _, ok := out["text/plain"]; !ok {
		out["text/plain"] = plainText(v)
	}
	s.resMu.Lock()
	s.result = out
	s.resMu.Unlock()
}

func richOf(v interface{}) (b display.MIMEBundle) {
	defer func() {
		if recover() != nil {
			b = nil
		}
	}()
	return display.Rich(v)
}

// clearValue implements the clear builtin for maps and slices.
func clearValue(x interface{}) {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Map:
		v.Clear()
	case reflect.Slice:
		z := reflect.Zero(v.Type().Elem())
		for i := 0; i < v.Len(); i++ {
			v.Index(i).Set(z)
		}
	default:
		panic(fmt.Sprintf("invalid argument: clear(%T): argument must be a map or slice", x))
	}
}

func (s *session) intVar(name string) bool {
	v, ok := s.globals()[name]
	if !ok || !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// varType returns the basic type of a session variable, or "".
func (s *session) varType(name string) string {
	v, ok := s.globals()[name]
	if !ok || !v.IsValid() {
		return ""
	}
	t := v.Type().String()
	for _, b := range cell.BasicTypes {
		if t == b {
			return t
		}
	}
	return ""
}

// typeOf returns the type of a session variable as Go source when the type is
// made of predeclared types only ([]float64, map[string][]int, *int), or "": the
// reflect type of a value of a cell's type does not name it.
func (s *session) typeOf(name string) string {
	v, ok := s.globals()[name]
	if !ok || !v.IsValid() {
		return ""
	}
	t := strings.ReplaceAll(v.Type().String(), "interface {}", "any")
	if !predeclaredOnly(t) {
		return ""
	}
	return t
}

// predeclaredOnly reports whether a type's source names predeclared types only.
func predeclaredOnly(t string) bool {
	ok := true
	for _, w := range strings.FieldsFunc(t, func(c rune) bool {
		return !(c == '_' || c == '.' || unicode.IsLetter(c) || unicode.IsDigit(c))
	}) {
		if w[0] >= '0' && w[0] <= '9' { // an array length
			continue
		}
		ok = ok && (slices.Contains(cell.BasicTypes, w) || slices.Contains(otherPredeclared, w))
	}
	return ok
}

// otherPredeclared are the predeclared types cell.BasicTypes leaves out, and the
// keywords a type's source spells as words.
var otherPredeclared = []string{"bool", "byte", "rune", "complex64", "complex128", "error", "any", "map", "chan", "func"}

// typedMinMax declares min and max for each of types: yaegi cannot give a
// package-level variable the type of a generic call's result.
func typedMinMax(types []string) string {
	var b strings.Builder
	b.WriteString("package main\n")
	for _, t := range types {
		for _, f := range [][2]string{{cell.MinFunc, "<"}, {cell.MaxFunc, ">"}} {
			fmt.Fprintf(&b, "\nfunc %s_%s(x %s, ys ...%s) %s {\n\tfor _, y := range ys {\n\t\tif y %s x || y != y {\n\t\t\tx = y\n\t\t}\n\t}\n\treturn x\n}\n", f[0], t, t, t, t, f[1])
		}
	}
	return b.String()
}

// declareMinMax declares the typed min and max helpers (see typedMinMax) that
// the plan calls and the interpreter lacks. They are declared on first use rather
// than in the prelude: the 28 of them were about 460 KB of the session's live
// heap (syntax trees), which the garbage collector scanned on every cycle and
// which set how far the heap grew between cycles.
func (s *session) declareMinMax(plan *cell.Plan) error {
	var need []string
	for _, src := range []*cell.Source{plan.Decls, plan.Stmts} {
		if src == nil {
			continue
		}
		for _, f := range []string{cell.MinFunc + "_", cell.MaxFunc + "_"} {
			code := src.Code
			for {
				k := strings.Index(code, f)
				if k < 0 {
					break
				}
				code = code[k+len(f):]
				n := 0
				for n < len(code) && (code[n] >= 'a' && code[n] <= 'z' || code[n] >= '0' && code[n] <= '9') {
					n++
				}
				if t := code[:n]; !s.minMax[t] && slices.Contains(cell.BasicTypes, t) && !slices.Contains(need, t) {
					need = append(need, t)
				}
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	if _, err := s.i.Eval(typedMinMax(need)); err != nil {
		return fmt.Errorf("declare min and max for %v: %w", need, err)
	}
	for _, t := range need {
		s.minMax[t] = true
	}
	return nil
}

// packageNames maps the name of every package a session can import to its path.
// Ambiguous names resolve to the package people mean most often.
func packageNames() map[string]string {
	prefer := map[string]string{
		"rand": "math/rand", "template": "text/template", "scanner": "text/scanner",
		"pprof": "runtime/pprof", "draw": "image/draw", "constant": "go/constant",
		"token": "go/token", "ast": "go/ast", "parser": "go/parser", "format": "go/format",
		"printer": "go/printer", "build": "go/build", "doc": "go/doc", "types": "go/types",
		"big": "math/big", "cmplx": "math/cmplx", "bits": "math/bits", "color": "image/color",
		"palette": "image/color/palette", "signal": "os/signal", "exec": "os/exec", "user": "os/user",
		"utf8": "unicode/utf8", "utf16": "unicode/utf16", "unsafe": "unsafe", "errors": "errors",
		"sync": "sync", "atomic": "sync/atomic", "json": "encoding/json", "xml": "encoding/xml",
		"csv": "encoding/csv", "hex": "encoding/hex", "base64": "encoding/base64", "binary": "encoding/binary",
		"gzip": "compress/gzip", "zip": "archive/zip", "tar": "archive/tar", "url": "net/url",
		"http": "net/http", "filepath": "path/filepath", "path": "path", "sort": "sort",
		"slices": "slices", "maps": "maps", "log": "log", "plot": "gonum.org/v1/plot",
		"mat": "gonum.org/v1/gonum/mat", "stat": "gonum.org/v1/gonum/stat", "floats": "gonum.org/v1/gonum/floats",
		"plotter": "gonum.org/v1/plot/plotter", "vg": "gonum.org/v1/plot/vg", "plotutil": "gonum.org/v1/plot/plotutil",
		"gorgonia": "gorgonia.org/gorgonia", "tensor": "gorgonia.org/tensor", "cell": "github.com/goinv/goinv/stdlib/cell",
		"display": "github.com/goinv/goinv/stdlib/display", "md5": "crypto/md5", "sha256": "crypto/sha256",
		"fs": "io/fs", "ioutil": "io/ioutil", "heap": "container/heap", "list": "container/list",
		"ring": "container/ring", "debug": "runtime/debug", "trace": "runtime/trace", "html": "html",
		"quick": "testing/quick", "iotest": "testing/iotest", "syscall": "syscall",
	}
	out := map[string]string{}
	seen := map[string]int{}
	for _, tab := range []interp.Exports{stdlib.Symbols, unrestricted.Symbols, symbols.Symbols} {
		for key := range tab {
			p := path.Dir(key)
			name := path.Base(key)
			if strings.Contains(p, "internal") || strings.HasPrefix(p, "goinv/") {
				continue
			}
			if out[name] != p {
				seen[name]++
			}
			out[name] = p
		}
	}
	for name, n := range seen {
		if n > 1 {
			delete(out, name)
		}
	}
	for name, p := range prefer {
		if _, ok := stdlib.Symbols[p+"/"+path.Base(p)]; ok {
			out[name] = p
		} else if _, ok := symbols.Symbols[p+"/"+path.Base(p)]; ok {
			out[name] = p
		} else if _, ok := unrestricted.Symbols[p+"/"+path.Base(p)]; ok {
			out[name] = p
		}
	}
	return out
}

// panicFilter passes the interpreter's stderr through, keeping the "L:C: panic: ..."
// lines yaegi prints while a panic unwinds: they become the traceback instead.
type panicFilter struct {
	mu     sync.Mutex
	w      *os.File
	frames []string
}

var panicLine = regexp.MustCompile(`^(\d+):(\d+): panic: (.*)\n?$`)

func (f *panicFilter) Write(p []byte) (int, error) {
	if m := panicLine.FindSubmatch(p); m != nil {
		f.mu.Lock()
		f.frames = append(f.frames, string(bytes.TrimRight(p, "\n")))
		f.mu.Unlock()
		return len(p), nil
	}
	return f.w.Write(p)
}

func (f *panicFilter) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := f.frames
	f.frames = nil
	return fr
}

// Cell errors.
type cellError struct {
	ename, evalue string
	traceback     []string
}

// execute runs one execute request and returns the reply content.
func (x *Executor) execute(q ipc.Request) map[string]any {
	content, result := x.run(q)
	if result != nil {
		x.send(*result)
	}
	return content
}

// run runs an execute request and returns its reply content and, when the cell
// has a value to show and no user expressions ran after it, its execute_result
// event for the caller to send (the worker sends it with the reply, in one write).
func (x *Executor) run(q ipc.Request) (content map[string]any, result *ipc.Event) {
	s := x.sess
	ctx, cancel := context.WithCancel(context.Background())
	x.mu.Lock()
	x.running, x.cancel = q.ID, cancel
	if x.interrupted == q.ID {
		cancel()
	}
	x.mu.Unlock()
	defer func() {
		// An interrupted Eval's goroutine may still be running (ExecuteWithContext
		// returns without waiting for it); leave its roots alone then.
		if ctx.Err() == nil {
			dropRoots(s.i)
			dropScopeChildren(s.i)
		}
		cancel()
		x.mu.Lock()
		x.running, x.cancel = 0, nil
		if x.received == q.ID {
			x.received = 0
		}
		x.mu.Unlock()
	}()
	cellctx.SetContext(ctx)
	stopStdin := s.stdin.watch(ctx, x, q.ID, q.AllowStdin)
	defer stopStdin()

	s.resMu.Lock()
	s.result = nil
	s.resMu.Unlock()

	if target, ok := helpTarget(q.Code); ok {
		// ?name / name? pages the documentation, as IPython does; no other output.
		text, cerr := s.help(target)
		if cerr != nil {
			return map[string]any{"status": "error", "execution_count": q.ExecutionCount, "ename": cerr.ename, "evalue": cerr.evalue, "traceback": cerr.traceback}, nil
		}
		page := map[string]any{"source": "page", "data": map[string]any{"text/plain": text}, "start": 0}
		return map[string]any{"status": "ok", "execution_count": q.ExecutionCount, "user_expressions": map[string]any{}, "payload": []any{page}}, nil
	}
	s.count = q.ExecutionCount
	// What the cell printed is in the stdout and stderr pipes already (os.File
	// writes are unbuffered), ahead of the reply written next: nothing to flush.
	cerr := s.runCell(ctx, q.Code)
	if cerr != nil {
		tb := append([]string{}, cerr.traceback...)
		return map[string]any{"status": "error", "execution_count": q.ExecutionCount, "ename": cerr.ename, "evalue": cerr.evalue, "traceback": tb}, nil
	}
	s.resMu.Lock()
	res := s.result
	s.result = nil
	s.resMu.Unlock()
	if res != nil && !q.Silent {
		result = &ipc.Event{ID: q.ID, Kind: ipc.EventExecuteResult, Data: encodeBundle(res), Metadata: map[string]any{}}
		if len(q.UserExpressions) > 0 {
			// User expressions may print: what they print comes after the result.
			x.send(*result)
			result = nil
		}
	}
	ue := map[string]any{}
	for name, expr := range q.UserExpressions {
		ue[name] = s.userExpression(ctx, expr)
	}
	return map[string]any{"status": "ok", "execution_count": q.ExecutionCount, "user_expressions": ue, "payload": []any{}}, result
}

func (s *session) userExpression(ctx context.Context, expr string) map[string]any {
	v, err := s.eval(ctx, ";"+expr)
	if err != nil {
		return map[string]any{"status": "error", "ename": "CompileError", "evalue": err.Error(), "traceback": []string{err.Error()}}
	}
	text := ""
	if v.IsValid() && v.CanInterface() {
		text = plainText(v.Interface())
	}
	return map[string]any{"status": "ok", "data": map[string]any{"text/plain": text}, "metadata": map[string]any{}}
}

// runCell runs a cell's magics and code.
func (s *session) runCell(ctx context.Context, code string) *cellError {
	rest, cerr, handled := s.magics(ctx, code)
	if handled {
		return cerr
	}
	return s.runGo(ctx, rest)
}

// runGo evaluates Go code through the pre-pass.
func (s *session) runGo(ctx context.Context, code string) *cellError {
	if strings.TrimSpace(code) == "" {
		return nil
	}
	// A cell's text is kept for tracebacks through the functions it declared; the
	// previous cell's goes if it declared none, so that a session's memory does
	// not grow with every cell it runs.
	// The same goes for the sources the interpreter parsed for it (one token.File
	// each, with its line table: about 500 bytes a cell).
	if c, ok := s.cells[s.cellSeq]; ok && !s.pre.Referenced(s.cellSeq) {
		delete(s.cells, s.cellSeq)
		dropFiles(s.i.FileSet(), c.lo, c.hi)
	}
	s.cellSeq++
	seq := s.cellSeq
	lo := s.i.FileSet().Base()
	s.cells[seq] = cellText{code: code, count: s.count, lo: lo, hi: lo}
	defer func() {
		if c, ok := s.cells[seq]; ok {
			c.hi = s.i.FileSet().Base()
			s.cells[seq] = c
		}
	}()
	opt := cell.Options{IntRanges: map[int]bool{}, Cell: s.cellSeq}
	for attempt := 0; ; attempt++ {
		plan, err := s.pre.Prepare(code, opt)
		if err != nil {
			var ce *cell.Error
			if errors.As(err, &ce) {
				return compileError(code, ce.Line, ce.Col, ce.Msg)
			}
			return &cellError{ename: "CompileError", evalue: err.Error(), traceback: []string{"CompileError: " + err.Error()}}
		}
		if attempt == 0 {
			for _, w := range plan.Warnings {
				fmt.Fprintln(os.Stderr, w)
			}
		}
		retry, cerr := s.runPlan(ctx, code, plan, opt)
		if retry && attempt < 8 {
			continue
		}
		return cerr
	}
}

var posPrefix = regexp.MustCompile(`^(?:[^\s:]*:)?(\d+):(\d+): `)

// runPlan evaluates a prepared cell. retry is true when a range over an integer was
// found and recorded in opt.
func (s *session) runPlan(ctx context.Context, code string, plan *cell.Plan, opt cell.Options) (retry bool, cerr *cellError) {
	s.stderr.take() // frames of panics recovered earlier
	if err := s.declareMinMax(plan); err != nil {
		return false, &cellError{ename: "CompileError", evalue: err.Error(), traceback: []string{"CompileError: " + err.Error()}}
	}
	if err := s.declareGenerics(plan); err != nil {
		return false, &cellError{ename: "CompileError", evalue: err.Error(), traceback: []string{"CompileError: " + err.Error()}}
	}
	if plan.Decls != nil {
		_, err := s.eval(ctx, plan.Decls.Code)
		if err != nil {
			if r := s.rangeRetry(err, plan.Decls, plan, opt); r {
				return true, nil
			}
			return false, s.evalError(ctx, code, plan.Decls, err, plan)
		}
	}
	plan.Commit()
	if plan.Stmts == nil {
		return false, nil
	}
	if plan.Defers {
		// The cell's top-level defers run when its statements end, failed or not,
		// also after an interrupt (a deferred cancel or Close should still run).
		defer func() {
			if _, err := s.eval(context.Background(), ";"+cell.RunDefers+"()"); err != nil && cerr == nil && !retry {
				cerr = s.evalError(ctx, code, plan.Stmts, err, plan)
			}
		}()
	}
	src := plan.Stmts
	plainShow := false      // src is a plain source whose value is the cell's
	var rich []string       // the rich methods to call on LastVar
	var values reflect.Type // the type of a func of several results whose values src lists
	if plan.Last == cell.LastShow && !s.richDeclared() {
		// yaegi returns the value of a statement list's last expression, so the
		// plain statements yield the cell's value; LastVar is needed only to call
		// the rich methods of interpreted types on it.
		src, plainShow = plan.Stmts, true
	} else if plan.Last != cell.LastNone && plan.Split() {
		// Run all but the last statement, then decide how to run the last one,
		// whose names are now defined: a call whose function has exactly one
		// result is shown; LastVar is assigned only when rich methods compile on
		// the value (each top-level assignment of LastVar takes a slot of the
		// interpreter's global frame for good).
		if !plan.Head.Empty() {
			if _, err := s.eval(ctx, plan.Head.Code); err != nil {
				if r := s.rangeRetry(err, plan.Head, plan, opt); r {
					return true, nil
				}
				return false, s.evalError(ctx, code, plan.Head, err, plan)
			}
		}
		src, plainShow = plan.Tail, true
		if plan.Last == cell.LastMaybe {
			single := false
			if plan.FunExpr != "" {
				lo := globalFrameLen(s.i)
				if v, err := s.i.Eval(";" + plan.FunExpr); err == nil && v.IsValid() && v.Kind() == reflect.Func {
					single = v.Type().NumOut() == 1
					if !single {
						plainShow = false // no value to show
					}
					if v.Type().NumOut() > 1 && !quietCall(plan.FunExpr) && plan.ValuesTail != nil {
						src, values = plan.ValuesTail, v.Type()
					}
				}
				sweepTemps(s.i, lo) // a method value refers to the syntax tree
			}
			if !single && plainShow {
				// Unknown function: the call has one value if it can be passed to
				// a func(interface{}), compiled in a function literal, not run.
				_, err := s.compile(";_ = func() {" + plan.ArgTail.Code + "\n}")
				plainShow = err == nil
			}
		}
		if plainShow {
			if rich = s.richApplicable(plan.ShowTail); len(rich) > 0 {
				src, plainShow = plan.ShowTail, false
			}
		}
	}
	show := src == plan.ShowTail || plainShow || values != nil
	in := src.Code
	if show && !plainShow && values == nil {
		in = showCode(in)
	}
	v, err := s.eval(ctx, in)
	if err != nil && src == plan.ShowTail && isCompileError(err) {
		// The value cannot be assigned after all: run it as a plain statement.
		src, show, rich = plan.Tail, false, nil
		_, err = s.eval(ctx, src.Code)
	}
	if err != nil {
		if r := s.rangeRetry(err, src, plan, opt); r {
			return true, nil
		}
		return false, s.evalError(ctx, code, src, err, plan)
	}
	if show && values != nil {
		s.showValues(v, values)
	} else if show {
		s.collectResult(v, rich)
		if rich != nil {
			s.forgetLast()
		}
	}
	return false, nil
}

// quietCalls are the functions and methods whose several results a cell does not
// show: the byte count and error of printing, writing, reading and scanning.
var quietCalls = regexp.MustCompile(`(^|\.)(Print|Println|Printf|Fprint|Fprintln|Fprintf|Scan|Scanln|Scanf|Sscan|Sscanln|Sscanf|Fscan|Fscanln|Fscanf|Write|WriteString|WriteByte|WriteRune|WriteTo|ReadFrom|Read|Copy|CopyN|CopyBuffer)$`)

func quietCall(funExpr string) bool { return quietCalls.MatchString(funExpr) }

// showValues shows the values of a call of several results, of func type ft, as
// the cell's value: a last error that is not nil alone; otherwise the values
// before it (or all, without a last error), one alone as a cell's single value
// shows (rich forms of compiled types included), several as a list.
func (s *session) showValues(v reflect.Value, ft reflect.Type) {
	if !v.IsValid() || !v.CanInterface() {
		return
	}
	vals, ok := v.Interface().([]interface{})
	if !ok || len(vals) != ft.NumOut() {
		return
	}
	if n := len(vals); ft.Out(n-1) == reflect.TypeOf((*error)(nil)).Elem() {
		if vals[n-1] != nil {
			vals = vals[n-1:] // the values beside an error mean nothing, by Go's convention
		} else {
			vals = vals[:n-1]
		}
	}
	switch len(vals) {
	case 0:
	case 1:
		if vals[0] != nil {
			s.setResult(vals[0], nil)
		}
	default:
		parts := make([]string, len(vals))
		for i, x := range vals {
			parts[i] = "<nil>"
			if x != nil {
				parts[i] = plainText(x)
			}
		}
		s.setResult(goinvTuple(strings.Join(parts, ", ")), nil)
	}
}

// goinvTuple is the text of several values shown together (plainText quotes a string).
type goinvTuple string

func (t goinvTuple) String() string { return string(t) }

// richDeclared reports whether some cell declared one of the rich methods, which
// collectResult calls through LastVar.
func (s *session) richDeclared() bool {
	for _, m := range richMethods {
		if s.pre.HasMethod(m[0]) {
			return true
		}
	}
	return false
}

// eval evaluates src as yaegi's EvalWithContext does, in two steps: it compiles
// on the calling goroutine and only runs the program on a goroutine of its own
// (whose context ends it on interrupt). EvalWithContext does both on a fresh
// goroutine, whose stack then grows through the parser's and the compiler's deep
// recursion on every cell (copying it four or five times: ~15% of a small cell's
// CPU); this goroutine's stack stays grown between cells. A panic while compiling
// (an interpreter bug) is returned as an interp.Panic, as EvalWithContext does.
func (s *session) eval(ctx context.Context, src string) (v reflect.Value, err error) {
	prog, err := s.compile(src)
	if err != nil {
		return reflect.Value{}, err
	}
	return s.execute(ctx, prog)
}

func (s *session) compile(src string) (prog *interp.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			var pc [64]uintptr
			n := runtime.Callers(1, pc[:])
			err = interp.Panic{Value: r, Callers: pc[:n], Stack: debug.Stack()}
		}
	}()
	return s.i.Compile(src)
}

// showCode appends a statement naming LastVar to a show source, whose last
// statement assigns the cell's value to it: yaegi returns the value of a
// statement list's last expression, so the cell runs and yields its value in one
// Eval instead of two (each Eval parses, compiles and keeps its AST). The line
// is added after the cell's text, so the positions in the cell do not move.
func showCode(code string) string {
	return code + "\n" + cell.LastVar
}

// isCompileError reports whether err happened before the code ran.
func isCompileError(err error) bool {
	var p interp.Panic
	return !errors.As(err, &p) && !errors.Is(err, context.Canceled)
}

// rangeRetry reports whether err is yaegi refusing to range over an integer that the
// pre-pass left alone; it then records the range for the next attempt.
func (s *session) rangeRetry(err error, src *cell.Source, plan *cell.Plan, opt cell.Options) bool {
	msg := err.Error()
	if !strings.Contains(msg, "range") {
		return false
	}
	m := posPrefix.FindStringSubmatch(msg)
	if m == nil {
		return false
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	off, ok := src.CellOffset(line, col)
	if !ok {
		return false
	}
	for _, r := range plan.Ranges {
		if !opt.IntRanges[r] && off >= r-64 && off <= r+64 {
			opt.IntRanges[r] = true
			return true
		}
	}
	return false
}

// evalError classifies an interpreter error from evaluating src, a part of plan.
func (s *session) evalError(ctx context.Context, code string, src *cell.Source, err error, plan *cell.Plan) *cellError {
	decls := src == plan.Decls
	frames := s.stderr.take()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		tb := []string{"Interrupted: the cell was interrupted; variables are kept"}
		if !decls {
			tb = append(tb, s.interruptedAt(code)...)
		}
		return &cellError{ename: "Interrupted", evalue: "the cell was interrupted; variables are kept", traceback: tb}
	}
	var p interp.Panic
	if errors.As(err, &p) && strings.Contains(fmt.Sprint(p.Value), "incomplete type ") {
		// What yaegi says, while compiling, of some undefined names.
		if cerr := s.undefinedName(code); cerr != nil {
			return cerr
		}
	}
	if errors.As(err, &p) {
		ename := "Panic"
		if _, ok := p.Value.(runtime.Error); ok {
			ename = "RuntimeError"
		} else if v := fmt.Sprint(p.Value); strings.HasPrefix(v, "reflect") || strings.HasPrefix(v, "runtime error") {
			// yaegi runs slice indexing and the like through reflect, whose panics are strings.
			ename = "RuntimeError"
		}
		evalue := s.pre.Unmangle(fmt.Sprint(p.Value))
		if m, ok := goPanicMessage(evalue); ok {
			ename, evalue = "RuntimeError", m
		}
		if evalue == "nil type" && len(plan.Ranges) > 0 {
			// What yaegi says, while compiling, about a range over a func.
			evalue += " (if this cell ranges over a func, an iterator: the interpreter cannot; call it with a yield func, `seq(func(v T) bool { ...; return true })`)"
		}
		tb := []string{fmt.Sprintf("%s: %s", ename, evalue)}
		tb = append(tb, s.panicTrace(code, decls, plan.VarInits, parseYaegiFrames(frames), p.Stack)...)
		tb = append(tb, "(variables are kept)")
		return &cellError{ename: ename, evalue: evalue, traceback: tb}
	}
	msg := yaegiKinds.ReplaceAllString(s.pre.Unmangle(err.Error()), "$1")
	msg = yaegiNoise.ReplaceAllString(msg, "")
	msg = mainQualifier.ReplaceAllString(msg, "$1")
	if m := unknownImport.FindStringSubmatch(msg); m != nil {
		msg = m[1] + importHelp(m[2])
	}
	if strings.HasSuffix(msg, "constant definition loop") {
		if cerr := s.undefinedName(code); cerr != nil {
			return cerr
		}
		msg += " (yaegi's report of an undefined name)"
	}
	if strings.HasSuffix(msg, "variable definition loop") {
		// What is left of yaegi's ordering of package-level vars after the pre-pass
		// (cell.moveVarsUsingGlobals): a var naming an earlier cell's variable that a
		// func, type or const of the same cell uses.
		msg += " (yaegi cannot declare a package-level var that uses a variable of an earlier cell when a func or type of the same cell uses it: declare the var in a cell of its own, before the func)"
	}
	if m := posPrefix.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		text := msg[len(m[0]):]
		if l, c, ok := src.CellPos(line, col); ok {
			if strings.Contains(text, " variables but  returns ") {
				// yaegi names only a plain func: `a, b := strconv.Atoi(s)` has none.
				text = strings.Replace(text, " but  returns ", " but "+calleeAt(code, l, c)+" returns ", 1)
			}
			text = strings.Replace(text, " returns 1 values", " returns 1 value", 1)
			if sel, ok := strings.CutPrefix(text, "undefined selector: "); ok {
				text = undefinedSelector(code, l, c, sel)
			}
			return compileError(code, l, c, text)
		}
		return &cellError{ename: "CompileError", evalue: text, traceback: []string{"CompileError: " + text}}
	}
	return &cellError{ename: "CompileError", evalue: msg, traceback: []string{"CompileError: " + msg}}
}

var (
	// yaegiNoise is what yaegi appends to some messages for its own debugging.
	yaegiNoise = regexp.MustCompile(` \[kind: \w+\]$`)
	// mainQualifier is the package yaegi puts before a cell's types ("main.T").
	mainQualifier = regexp.MustCompile(`\bmain\.([A-Za-z_])`)
	// unknownImport is yaegi's report of an import it has no symbols for.
	unknownImport = regexp.MustCompile(`^(\d+:\d+: )?import "([^"]*)" error: unable to find source related to: .*$`)
)

// importHelp says why path cannot be imported and, for a near miss, what was meant.
func importHelp(path string) string {
	msg := fmt.Sprintf("cannot import %q: a cell can import the standard library and the goinv toolkit (github.com/goinv/goinv/stdlib/...), which are compiled into goinv; other packages cannot be loaded", path)
	best, bestD := "", 3
	for p := range packageSymbols() {
		if d := editDistance(p, path); d < bestD || (d == bestD && p < best) {
			best, bestD = p, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// undefinedSelector words yaegi's "undefined selector: Foo" as Go does, with the
// expression it selects from as the cell writes it: "xs.Foo undefined (no field
// or method Foo)".
func undefinedSelector(code string, line, col int, sel string) string {
	lines := strings.Split(code, "\n")
	generic := fmt.Sprintf("undefined: no field or method %s", sel)
	if line < 1 || line > len(lines) {
		return generic
	}
	l := []rune(lines[line-1])
	if col < 1 || col > len(l) {
		return generic
	}
	rest := string(l[col-1:])
	for i := 0; ; {
		j := strings.Index(rest[i:], "."+sel)
		if j < 0 {
			return generic
		}
		end := i + j + 1 + len(sel)
		if end == len(rest) || !isIdentRune(rune(rest[end])) {
			if x := strings.TrimSpace(rest[:i+j]); x != "" && !strings.ContainsAny(x, ";\n") {
				return fmt.Sprintf("%s.%s undefined (no field or method %s)", x, sel, sel)
			}
			return generic
		}
		i = end
	}
}

// calleeAt returns the func an assignment at line:col of the cell calls, as
// written (`strconv.Atoi` of `a, b, c := strconv.Atoi(s)`), or "the call".
func calleeAt(code string, line, col int) string {
	lines := strings.Split(code, "\n")
	if line < 1 || line > len(lines) {
		return "the call"
	}
	l := []rune(lines[line-1])
	if col < 1 || col > len(l) {
		return "the call"
	}
	stmt := string(l[col-1:])
	if i := strings.Index(stmt, "="); i >= 0 {
		rhs := strings.TrimSpace(stmt[i+1:])
		if j := strings.Index(rhs, "("); j > 0 {
			return strings.TrimSpace(rhs[:j])
		}
	}
	return "the call"
}

// undefinedName is the CompileError "undefined: x" for the first name of the cell
// that nothing declares, or nil if each name it uses is declared somewhere.
func (s *session) undefinedName(code string) *cellError {
	name, line, col, ok := s.pre.Undefined(code, func(name string) bool {
		_, ok := s.globals()[name]
		return ok
	})
	if !ok {
		return nil
	}
	return compileError(code, line, col, "undefined: "+name)
}

// reflectPanics maps the panics of reflect that yaegi lets through, when
// interpreted code does what makes Go's runtime panic, to the runtime's message.
var reflectPanics = []struct{ prefix, msg string }{
	{"reflect: call of reflect.Value.Field on zero Value", "invalid memory address or nil pointer dereference"},
	{"reflect: call of reflect.Value.Interface on zero Value", "invalid memory address or nil pointer dereference"},
	{"reflect.Value.Call: call of nil function", "invalid memory address or nil pointer dereference"},
	{"reflect: call of reflect.Value.Call on ", "call of a value that is not a func"},
	{"reflect: array index out of range", "index out of range"},
	{"reflect: slice index out of range", "index out of range"},
	{"reflect: string index out of range", "index out of range"},
	{"reflect.Value.Slice: slice index out of bounds", "slice bounds out of range"},
	{"reflect.Value.Slice3: slice index out of bounds", "slice bounds out of range"},
	{"reflect.MakeSlice: negative len", "makeslice: len out of range"},
	{"reflect.MakeSlice: negative cap", "makeslice: cap out of range"},
	{"reflect.MakeSlice: len > cap", "makeslice: cap out of range"},
}

// yaegiKinds are the names of yaegi's type kinds for Go's basic types, which its
// compile errors print where Go prints the type ("cannot use "s" (type stringT) as
// type intT"): the message shows Go's name.
var yaegiKinds = regexp.MustCompile(`\b(bool|string|error|u?int(?:8|16|32|64|ptr)?|float(?:32|64)|complex(?:64|128))T\b`)

// yaegiPos is the position yaegi puts before some of its run-time messages, in its
// own source: the traceback says where in the cell instead.
var yaegiPos = regexp.MustCompile(`^\d+:\d+: `)

// goPanicMessage returns the message Go's runtime gives for a panic of interpreted
// code that yaegi reports in its own words (a reflect panic, a failed type
// assertion with yaegi's position), and whether it is one of those.
func goPanicMessage(v string) (string, bool) {
	for _, r := range reflectPanics {
		if strings.HasPrefix(v, r.prefix) {
			return "runtime error: " + r.msg, true
		}
	}
	if rest := yaegiPos.ReplaceAllString(v, ""); rest != v && strings.HasPrefix(rest, "interface conversion: ") {
		return rest, true
	}
	return v, false
}

func compileError(code string, line, col int, msg string) *cellError {
	tb := []string{fmt.Sprintf("CompileError: %d:%d: %s", line, col, msg)}
	tb = append(tb, caret(code, line, col)...)
	return &cellError{ename: "CompileError", evalue: fmt.Sprintf("%d:%d: %s", line, col, msg), traceback: tb}
}

// caret shows the cell line with a marker under the column.
func caret(code string, line, col int) []string {
	lines := strings.Split(code, "\n")
	if line < 1 || line > len(lines) {
		return nil
	}
	l := strings.ReplaceAll(lines[line-1], "\t", "    ")
	pad := 0
	for i, r := range []rune(lines[line-1]) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			pad += 4
		} else {
			pad++
		}
	}
	return []string{fmt.Sprintf("%4d | %s", line, l), "     | " + strings.Repeat(" ", pad) + "^"}
}

// timeCell formats a duration for %time.
func timeCell(d time.Duration) string {
	return fmt.Sprintf("wall time: %s", d.Round(time.Microsecond))
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// globals returns the session's package-level variables, or nil when yaegi cannot
// list them: after a cell that failed half-way, the interpreter's global scope can
// name variables its frame has no slot for yet (until the next cell runs), and its
// Globals then indexes past the frame and panics. That panic would end the session
// from inside a traceback, a completion or an inspection.
func (s *session) globals() (g map[string]reflect.Value) {
	defer func() {
		if recover() != nil {
			g = nil
		}
	}()
	return s.i.Globals()
}
