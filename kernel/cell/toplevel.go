package cell

import (
	"go/ast"
	"go/token"
	"strings"
)

// topLevelBranches sets r.err for a return at a cell's top level, and for a break
// or continue there that no loop, switch or select encloses. A cell's statements
// are not a func: yaegi panicked on `return 5` ("CFG post-order panic: runtime
// error: invalid memory address") and ran a stray `break` as nothing.
func (r *rewriter) topLevelBranches(stmtF *ast.File) {
	if stmtF == nil || r.err != nil || len(stmtF.Decls) == 0 {
		return
	}
	if !strings.Contains(r.src, "return") && !strings.Contains(r.src, "break") && !strings.Contains(r.src, "continue") {
		return // most cells: nothing to look for
	}
	body := stmtF.Decls[len(stmtF.Decls)-1].(*ast.FuncDecl).Body
	prefix := len(stmtWrap) + len(stmtLead)
	refuse := func(n ast.Node, msg string) {
		line, col := offsetLineCol(r.src, r.off(n.Pos())-prefix)
		r.err = &Error{Line: line, Col: col, Msg: msg}
	}
	var walk func(n ast.Node, inLoop, inBreakable bool)
	walk = func(n ast.Node, inLoop, inBreakable bool) {
		ast.Inspect(n, func(c ast.Node) bool {
			if r.err != nil || c == nil || c == n {
				return r.err == nil
			}
			switch c := c.(type) {
			case *ast.FuncLit:
				return false // a func's own returns and loops
			case *ast.ReturnStmt:
				refuse(c, "return outside a func: a cell's statements are not in a func (to end a cell early, use if/else, or put its statements in a func and call it)")
				return false
			case *ast.BranchStmt:
				if c.Label != nil {
					return false
				}
				if c.Tok == token.BREAK && !inBreakable {
					refuse(c, "break is not in a loop, switch, or select")
				}
				if c.Tok == token.CONTINUE && !inLoop {
					refuse(c, "continue is not in a loop")
				}
				return false
			case *ast.ForStmt, *ast.RangeStmt:
				walk(c, true, true)
				return false
			case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				walk(c, inLoop, true)
				return false
			}
			return true
		})
	}
	walk(body, false, false)
}
