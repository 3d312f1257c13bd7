package cell

import (
	"fmt"
	"go/ast"
	"go/parser"
	"strings"
)

// yaegi takes the first result of a call of several results wherever one value is
// wanted: `n := strconv.Atoi(s)` set n and dropped the error, `a, b := g(), 3` and
// `g() + 1` ran, where Go refuses to compile. The pre-pass refuses them as Go does,
// for the calls whose number of results it knows: funcs of the cell and of the
// session, and package funcs (through Session.Results).

// singleValueCheck sets r.err for the first call of several results in the
// cell's declarations or statements that is used where one value is wanted.
func (r *rewriter) singleValueCheck(declF, stmtF *ast.File) {
	cellFuncs := map[string]*ast.FuncType{}
	if declF != nil {
		for _, d := range declF.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Type.TypeParams == nil {
				cellFuncs[fd.Name.Name] = fd.Type
			}
		}
	}
	r.singleValueWalk(declF, len(declPrefix), cellFuncs)
	r.singleValueWalk(stmtF, len(stmtWrap)+len(stmtLead), cellFuncs)
}

// singleValueWalk checks the calls of f, whose user text starts at offset prefix.
func (r *rewriter) singleValueWalk(f *ast.File, prefix int, cellFuncs map[string]*ast.FuncType) {
	if f == nil || r.err != nil || !strings.Contains(r.src, "(") {
		return // no call: `1 + 1`
	}
	stack := make([]ast.Node, 0, 32)
	ast.Inspect(f, func(n ast.Node) bool {
		if r.err != nil {
			return false
		}
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if call, ok := n.(*ast.CallExpr); ok && len(stack) > 0 {
			if name, k := r.resultCount(call, cellFuncs); k >= 2 {
				if msg := singleValueUse(stack[len(stack)-1], call, name, k); msg != "" {
					line, col := offsetLineCol(r.src, r.off(call.Pos())-prefix)
					r.err = &Error{Line: line, Col: col, Msg: msg}
					return false
				}
			}
		}
		stack = append(stack, n)
		return true
	})
}

// resultCount returns the name of the func call calls, as written, and its number
// of results, or -1 where it cannot tell: a method, a func value, a generic func.
func (r *rewriter) resultCount(call *ast.CallExpr, cellFuncs map[string]*ast.FuncType) (string, int) {
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		if fn.Obj != nil {
			if fd, ok := fn.Obj.Decl.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Type.TypeParams == nil {
				return fn.Name, len(fieldTypes(fd.Type.Results))
			}
			return fn.Name, -1 // a local variable, parameter, ...
		}
		if ft, ok := cellFuncs[fn.Name]; ok {
			return fn.Name, len(fieldTypes(ft.Results))
		}
		if r.cellNames[fn.Name] || r.s.generics[fn.Name] != nil {
			return fn.Name, -1
		}
		if sig, ok := r.s.funcSigs[fn.Name]; ok && r.s.names[fn.Name] == "func" {
			if e, err := parser.ParseExpr("func" + sig); err == nil {
				if ft, ok := e.(*ast.FuncType); ok {
					return fn.Name, len(fieldTypes(ft.Results))
				}
			}
		}
	case *ast.SelectorExpr:
		x, ok := fn.X.(*ast.Ident)
		if !ok || x.Obj != nil || r.cellNames[x.Name] || r.s.Results == nil {
			return "", -1
		}
		if path := r.importPath(x.Name); path != "" {
			return x.Name + "." + fn.Sel.Name, r.s.Results(path, fn.Sel.Name)
		}
	}
	return "", -1
}

// singleValueUse returns Go's error for a call of k results (k ≥ 2) used in
// parent, or "" where parent takes all of its values.
func singleValueUse(parent ast.Node, call *ast.CallExpr, name string, k int) string {
	mismatch := func(vars int) string {
		if vars == k {
			return ""
		}
		noun := "variables"
		if vars == 1 {
			noun = "variable"
		}
		return fmt.Sprintf("assignment mismatch: %d %s but %s returns %d values", vars, noun, name, k)
	}
	switch p := parent.(type) {
	case *ast.ExprStmt, *ast.GoStmt, *ast.DeferStmt:
		return ""
	case *ast.ReturnStmt:
		if len(p.Results) == 1 {
			return ""
		}
	case *ast.CallExpr:
		if p.Fun == call || len(p.Args) == 1 {
			return "" // f(g()) passes all of g's results
		}
	case *ast.AssignStmt:
		if len(p.Rhs) == 1 {
			return mismatch(len(p.Lhs))
		}
	case *ast.ValueSpec:
		if len(p.Values) == 1 {
			return mismatch(len(p.Names))
		}
	}
	return fmt.Sprintf("multiple-value %s(...) (%d values) in single-value context", name, k)
}
