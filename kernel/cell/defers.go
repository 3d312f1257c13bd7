package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// deferArgs makes a deferred call inside a func evaluate its arguments where the
// defer stands, as Go does. yaegi evaluates them when the deferred call runs:
// `x := "first"; defer fmt.Println(x); x = "second"` printed "second", and
// `defer func(v int) {...}(i)` in a loop passed the last i every time. The
// pre-pass writes
//
//	defer f(x, y.z)  →  goinvD1a, goinvD1b := x, y.z; defer f(goinvD1a, goinvD1b)
//
// Only arguments that are variables, or fields, elements or dereferences of
// variables, are evaluated early (their text moves, so it must need no other
// rewrite, and a constant would get its default type); the others stay, as do
// the func value (deferring a func held in a local variable hangs yaegi, so a
// deferred func literal cannot be made one) and top-level defers (see topDefers).
func (r *rewriter) deferArgs(f *ast.File, in string) []edit {
	if !strings.Contains(r.src, "defer") {
		return nil // most cells: nothing to look for
	}
	var edits []edit
	var inFunc func(body *ast.BlockStmt)
	visitLits := func(n ast.Node) {
		ast.Inspect(n, func(c ast.Node) bool {
			if fl, ok := c.(*ast.FuncLit); ok {
				inFunc(fl.Body)
				return false
			}
			return true
		})
	}
	inFunc = func(body *ast.BlockStmt) {
		if body == nil {
			return
		}
		ast.Inspect(body, func(c ast.Node) bool {
			switch x := c.(type) {
			case *ast.FuncLit:
				inFunc(x.Body)
				return false
			case *ast.DeferStmt:
				edits = append(edits, r.deferEarly(x, in)...)
				visitLits(x.Call) // a deferred func literal's own defers
				return false
			}
			return true
		})
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			if isMainWrapper(fd, f) {
				visitLits(fd.Body) // the statements' top level: only funcs inside it
				continue
			}
			inFunc(fd.Body)
		} else {
			visitLits(d)
		}
	}
	return edits
}

// isMainWrapper reports whether fd is the func the statement half is wrapped in.
func isMainWrapper(fd *ast.FuncDecl, f *ast.File) bool {
	return fd.Name.Name == "main" && fd.Recv == nil && len(f.Decls) == 1
}

// deferEarly returns the edits for one deferred call (see deferArgs).
func (r *rewriter) deferEarly(d *ast.DeferStmt, in string) []edit {
	call := d.Call
	var names, values []string
	var edits []edit
	r.deferN++
	n := r.deferN
	for i, a := range call.Args {
		if !earlyArg(a) {
			continue
		}
		name := fmt.Sprintf("goinvD%d%c", n, 'a'+rune(i%26))
		names = append(names, name)
		values = append(values, in[r.off(a.Pos()):r.off(a.End())])
		edits = append(edits, edit{pos: r.off(a.Pos()), end: r.off(a.End()), text: name})
	}
	if len(names) == 0 {
		return nil
	}
	at := r.off(d.Defer)
	return append(edits, edit{pos: at, end: at, text: r.assignTemps(names, values), order: -44})
}

func (r *rewriter) assignTemps(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, ", ") + " := " + strings.Join(values, ", ") + "; "
}

// earlyArg reports whether a deferred call's argument is evaluated early: a
// variable, or a field, element or dereference of one (not a constant, whose
// temporary would take its default type, and nothing whose text another rewrite
// changes).
func earlyArg(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Obj != nil && x.Obj.Kind == ast.Var
	case *ast.SelectorExpr:
		return earlyArg(x.X)
	case *ast.IndexExpr:
		return earlyArg(x.X) && (earlyArg(x.Index) || isIntLit(x.Index))
	case *ast.StarExpr:
		return earlyArg(x.X)
	case *ast.ParenExpr:
		return earlyArg(x.X)
	}
	return false
}

func isIntLit(e ast.Expr) bool {
	b, ok := e.(*ast.BasicLit)
	return ok && b.Kind == token.INT
}
