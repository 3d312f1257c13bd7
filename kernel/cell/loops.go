package cell

import (
	"go/ast"
	"go/token"
	"strings"
)

// Loop variables and labelled breaks.
//
// Since Go 1.22 each iteration of a loop has its own copy of the variables its
// header declares with :=, so a closure made in the body sees that iteration's
// value. yaegi shares one variable across the iterations (Go 1.21 and earlier):
//
//	for i := 0; i < 3; i++ { fs = append(fs, func() int { return i }) }
//
// gives 3, 3, 3 instead of 0, 1, 2, and goroutines started in a loop all see the
// last value. The pre-pass gives the body its own copy (`i := i;` first in the
// body) where that is observable: a func literal in the body mentions the
// variable, or, in a range loop, its address is taken (`&v`). A three-clause loop
// whose body assigns the variable or takes its address is left alone, since the
// copy would hide the change from the loop's condition and post statement.
//
// yaegi mishandles `i := i` in a loop at the cell's top level (the shadowing copy
// is taken for the loop's own variable: the loop never ends), not inside a
// function, so a top-level statement holding such a loop is wrapped in a func
// literal, as for yaegi issue #232 (see rewriteStmts).

// loopCopies returns the edits that give the loop's body its own copy of the
// header's variables, or nil when no closure or address can tell the difference.
func (r *rewriter) loopCopies(st ast.Stmt) []edit {
	var vars []*ast.Ident
	var body *ast.BlockStmt
	rangeLoop := false
	switch x := st.(type) {
	case *ast.ForStmt:
		as, ok := x.Init.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			return nil
		}
		for _, e := range as.Lhs {
			if id, ok := e.(*ast.Ident); ok {
				vars = append(vars, id)
			}
		}
		body = x.Body
	case *ast.RangeStmt:
		if x.Tok != token.DEFINE {
			return nil
		}
		vals := []ast.Expr{x.Key, x.Value}
		if r.backward(x) {
			vals = vals[:1] // rangeIter declares the value in the body
		}
		for _, e := range vals {
			if id, ok := e.(*ast.Ident); ok {
				vars = append(vars, id)
			}
		}
		body, rangeLoop = x.Body, true
	default:
		return nil
	}
	if body == nil {
		return nil
	}
	var copies []string
	for _, v := range vars {
		if v.Name == "_" || v.Obj == nil {
			continue
		}
		captured, changed, addressed := loopVarUse(body, v.Obj)
		if rangeLoop && (captured || addressed) || !rangeLoop && captured && !changed && !addressed {
			copies = append(copies, v.Name+" := "+v.Name+"; ")
		}
	}
	if len(copies) == 0 {
		return nil
	}
	if r.loopsCopied == nil {
		r.loopsCopied = map[ast.Stmt]bool{}
	}
	r.loopsCopied[st] = true
	at := r.off(body.Lbrace) + 1
	return []edit{{pos: at, end: at, text: " " + strings.Join(copies, ""), order: -60}}
}

// loopVarUse reports how a loop's body uses the variable obj: mentioned inside a
// func literal, assigned (=, op=, ++, --) anywhere, its address taken.
func loopVarUse(body *ast.BlockStmt, obj *ast.Object) (captured, changed, addressed bool) {
	is := func(e ast.Expr) bool {
		for {
			p, ok := e.(*ast.ParenExpr)
			if !ok {
				break
			}
			e = p.X
		}
		id, ok := e.(*ast.Ident)
		return ok && id.Obj == obj
	}
	var walk func(n ast.Node, inLit bool)
	walk = func(n ast.Node, inLit bool) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncLit:
				if !inLit {
					walk(x.Body, true)
					return false
				}
			case *ast.DeferStmt:
				// A top-level defer becomes a func literal (see topDefers).
				if !inLit {
					walk(x.Call, true)
					return false
				}
			case *ast.Ident:
				if inLit && x.Obj == obj {
					captured = true
				}
			case *ast.AssignStmt:
				if x.Tok != token.DEFINE {
					for _, l := range x.Lhs {
						changed = changed || is(l)
					}
				}
			case *ast.IncDecStmt:
				changed = changed || is(x.X)
			case *ast.UnaryExpr:
				if x.Op == token.AND && is(x.X) {
					addressed = true
				}
			}
			return true
		})
	}
	walk(body, false)
	return
}

// copiesLoopVars reports whether st holds, outside func literals, a loop whose
// body was given copies of its variables (see loopCopies).
func (r *rewriter) copiesLoopVars(st ast.Stmt) bool {
	if len(r.loopsCopied) == 0 {
		return false
	}
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case ast.Stmt:
			if r.loopsCopied[x] {
				found = true
			}
		}
		return !found
	})
	return found
}

// selectBreaks wraps in a block each labelled break that is a statement of a
// select case's own list: yaegi takes it for a break out of the select alone
// (`case <-done: break loop` never left the loop), but not from a nested block.
func (r *rewriter) selectBreaks(cc *ast.CommClause) []edit {
	var edits []edit
	for _, st := range cc.Body {
		if b, ok := st.(*ast.BranchStmt); ok && b.Tok == token.BREAK && b.Label != nil {
			edits = append(edits,
				edit{pos: r.off(b.Pos()), end: r.off(b.Pos()), text: "{ ", order: -70},
				edit{pos: r.off(b.End()), end: r.off(b.End()), text: " }", order: 70})
		}
	}
	return edits
}

// backward reports whether rs ranges over slices.Backward, which rangeIter turns
// into a counting loop that declares the value first in the body.
func (r *rewriter) backward(rs *ast.RangeStmt) bool {
	call, ok := rs.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Obj == nil && sel.Sel.Name == "Backward" && r.importPath(x.Name) == "slices"
}

// shadowsGlobal reports whether the top-level statement st declares, in a block of
// its own (outside func literals), a variable with the name of a session variable
// or func, or of one the cell declares. At the top level yaegi takes such a
// declaration for the global: `x := 5` then `{ x := 10 }` left x at 10, and
// `for i := 0; i < 3; i++ {}` set a session variable i to 3. Inside a func
// literal the declaration is local, so the statement is wrapped in one.
func (r *rewriter) shadowsGlobal(st ast.Stmt, top map[string]bool) bool {
	global := func(id *ast.Ident) bool {
		if id == nil || id.Name == "_" {
			return false
		}
		k, ok := r.s.names[id.Name]
		if !ok {
			k, ok = r.p.names[id.Name]
		}
		return ok && k != "type" && k != "const" || top[id.Name]
	}
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE {
				for _, l := range x.Lhs {
					id, _ := l.(*ast.Ident)
					found = found || global(id)
				}
			}
		case *ast.RangeStmt:
			if x.Tok == token.DEFINE {
				k, _ := x.Key.(*ast.Ident)
				v, _ := x.Value.(*ast.Ident)
				found = found || global(k) || global(v)
			}
		case *ast.ValueSpec:
			for _, id := range x.Names {
				found = found || global(id)
			}
		}
		return !found
	})
	return found
}

// topNames returns the names the top-level statements of a cell declare.
func topNames(body []ast.Stmt) map[string]bool {
	names := map[string]bool{}
	for _, st := range body {
		switch x := st.(type) {
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE {
				for _, l := range x.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						names[id.Name] = true
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := x.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						names[id.Name] = true
					}
				}
			}
		}
	}
	return names
}

// commaOkAssert rewrites a top-level `v, ok := x.(T)` as `var v T; var ok bool;
// v, ok = x.(T)`: yaegi fails on the short form at the top level ("nil type"), not
// on the declared one. A name an earlier statement of the cell declared (before
// holds them) is assigned, as := does.
func (r *rewriter) commaOkAssert(st ast.Stmt, in string, before map[string]bool) []edit {
	as, ok := st.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 2 || len(as.Rhs) != 1 {
		return nil
	}
	ta, ok := as.Rhs[0].(*ast.TypeAssertExpr)
	if !ok || ta.Type == nil {
		return nil
	}
	v, ok1 := as.Lhs[0].(*ast.Ident)
	b, ok2 := as.Lhs[1].(*ast.Ident)
	if !ok1 || !ok2 {
		return nil
	}
	decl := ""
	if v.Name != "_" && !before[v.Name] {
		decl += "var " + v.Name + " " + r.renamed(in[r.off(ta.Type.Pos()):r.off(ta.Type.End())]) + "; "
	}
	if b.Name != "_" && !before[b.Name] {
		decl += "var " + b.Name + " bool; "
	}
	return []edit{
		{pos: r.off(as.Pos()), end: r.off(as.Pos()), text: decl, order: -30},
		{pos: r.off(as.TokPos), end: r.off(as.TokPos) + 2, text: "="},
	}
}

// DeferList is the session variable the top-level defers of a cell go on, and
// RunDefers the func that runs them, newest first, when the cell's statements end
// (the executor declares both). yaegi keeps the defers of the top level in its
// global frame and runs them at the end of every later evaluation: a cell's
// `defer cancel()` ran before its next statement and again in every later cell.
const (
	DeferList = "goinvDefers"
	RunDefers = "goinvRunDefers"
)

// topDefers rewrites the defer statements of a top-level statement (outside func
// literals) into `goinvDefers = append(goinvDefers, func() { CALL })`. As with
// yaegi's defers inside functions, the call's arguments are evaluated when it runs.
func (r *rewriter) topDefers(st ast.Stmt) []edit {
	var edits []edit
	ast.Inspect(st, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.DeferStmt:
			at := r.off(x.Defer)
			edits = append(edits,
				edit{pos: at, end: at + len("defer"), text: DeferList + " = append(" + DeferList + ", func() {"},
				edit{pos: r.off(x.End()), end: r.off(x.End()), text: " })", order: 60})
			r.p.Defers = true
		}
		return true
	})
	return edits
}
