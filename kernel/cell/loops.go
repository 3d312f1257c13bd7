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
