package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// Positions of panics.
//
// yaegi reports a panic with one "L:C: panic: NAME(...)" line per interpreted frame,
// but L:C is where the frame's function body starts, not the statement that
// panicked, and the cell's top level is reported as the wrapper yaegi puts around
// it. So the pre-pass records positions itself: before every statement that can
// panic (it calls something, indexes, dereferences, divides, asserts a type, ...)
// it inserts an assignment of a site number to a package-level variable of the
// enclosing function body, on the same line. Each body has its own variable (the
// cell's top level has TopVar), so after a panic every frame's variable holds the
// statement that frame was running: the innermost one is the panicking statement,
// the outer ones are the calls that led to it. The executor pairs yaegi's frame
// lines with the bodies by the names yaegi prints (FrameFor) and turns site
// numbers back into cell positions (Site).
//
// An assignment of a constant to a global costs about 40 ns in yaegi; inside
// function bodies, statements that cannot panic (x++, s += i on plain names,
// x := 3) get none, except the first, which tells where the body starts. Every
// top-level statement records its site (each runs once), so that an interrupt can
// also name the statement that was running.

// TopVar is the variable the cell's top-level statements record their site in; the
// executor declares it in every session.
const TopVar = "goinvTop"

// Site is a statement whose position the instrumented code records.
type Site struct {
	Cell      int    // Options.Cell of the cell it is in
	Line, Col int    // 1-based position in that cell; Col counts code points
	Func      string // the enclosing function as the user knows it; "" at the cell's top level
}

// Frame describes an instrumented function body, to pair a frame of the
// interpreter's panic report with the variable that holds its current statement.
type Frame struct {
	Name string // the name yaegi prints: "main.goinvDef3.func", "main.Norm", "main.func"
	Line int    // line of the body's first statement in the generated source (as in the cell)
	Var  string // the variable holding its current site
	Func string // the function as the user knows it
	// Skip marks bodies the pre-pass generated (method trampolines): not shown.
	Skip bool
}

// Site returns the statement recorded under id.
func (s *Session) Site(id int) (Site, bool) {
	st, ok := s.sites[id]
	return st, ok
}

// FrameFor returns the instrumented body that the interpreter reports as name with
// its body starting at line. Among bodies of the same name (a method redeclared,
// func literals of several cells), one starting at that line wins, the newest first.
// The cell's top level ("main") maps to TopVar.
func (s *Session) FrameFor(name string, line int) (Frame, bool) {
	if name == "main" {
		return Frame{Name: name, Var: TopVar}, true
	}
	var byName *Frame
	for i := len(s.frames) - 1; i >= 0; i-- {
		f := &s.frames[i]
		if f.Name != name {
			continue
		}
		if f.Line == line {
			return *f, true
		}
		if byName == nil {
			byName = f
		}
	}
	if byName != nil {
		return *byName, true
	}
	return Frame{}, false
}

// fnCtx is the function body being instrumented.
type fnCtx struct {
	name  string // yaegi's name for it
	label string // the user's name for it
	v     string // its site variable
}

// newVar allocates a site variable, declared in the half it is used in.
func (r *rewriter) newVar(decl bool) string {
	r.s.nextID++
	v := fmt.Sprintf("goinvS%d", r.s.nextID)
	if decl {
		r.declVars = append(r.declVars, v)
	} else {
		r.stmtVars = append(r.stmtVars, v)
	}
	return v
}

// instrFunc instruments a function body with a fresh variable and registers it.
func (r *rewriter) instrFunc(body *ast.BlockStmt, name, label string, decl bool) {
	if body == nil || len(body.List) == 0 {
		return
	}
	fc := &fnCtx{name: name, label: label, v: r.newVar(decl)}
	line, _ := offsetLineCol(r.src, r.off(body.List[0].Pos())-r.prefix)
	r.p.frames = append(r.p.frames, Frame{Name: name, Line: line, Var: fc.v, Func: label})
	r.instrList(body.List, fc, true, decl)
}

// instrList records the site of each statement of a list that can panic (and of
// the first one when first is set, so that the body's start is known).
func (r *rewriter) instrList(list []ast.Stmt, fc *fnCtx, first, decl bool) {
	for i, st := range list {
		if (first && i == 0) || r.mayPanic(st) {
			r.site(st, fc)
		}
		mark := len(r.instrEdits)
		r.instrChildren(st, fc, decl)
		r.hoist(st, fc, mark)
	}
}

// hoist moves the site assignment of a loop's body before the loop when it is the
// only one of the body (nested blocks included) and the loop's header cannot panic:
// while the loop runs nothing else in this function body records a site, so the
// variable keeps pointing at that statement, and a tight loop like
// `for i := range xs { s += xs[i] }` pays nothing per iteration. (A recursive call
// in the loop that returns leaves the deeper call's site behind: with recursion a
// reported line can be that of a call that already returned.)
func (r *rewriter) hoist(st ast.Stmt, fc *fnCtx, mark int) {
	inner := unlabeled(st)
	switch inner.(type) {
	case *ast.ForStmt, *ast.RangeStmt:
	default:
		return
	}
	if r.mayPanic(inner) {
		return
	}
	mine := -1
	for j := mark; j < len(r.instrEdits); j++ {
		if strings.HasPrefix(r.instrEdits[j].text, fc.v+" = ") {
			if mine >= 0 {
				return
			}
			mine = j
		}
	}
	if mine < 0 {
		return
	}
	off := r.off(st.Pos())
	e := &r.instrEdits[mine]
	e.pos, e.end, e.order = off, off, -44 // after the loop statement's own site, if any
}

// site inserts the assignment of a new site number before st.
func (r *rewriter) site(st ast.Stmt, fc *fnCtx) {
	r.s.nextID++
	id := r.s.nextID
	off := r.off(st.Pos())
	line, col := offsetLineCol(r.src, off-r.prefix)
	r.s.sites[id] = Site{Cell: r.opt.Cell, Line: line, Col: col, Func: fc.label}
	if fc.label == "" {
		r.s.topSites = append(r.s.topSites, id)
	} else {
		r.s.bodyCells[r.opt.Cell] = true
	}
	r.instrEdits = append(r.instrEdits, edit{pos: off, end: off, text: fmt.Sprintf("%s = %d; ", fc.v, id), order: -45})
}

// instrChildren instruments the statement lists and func literals inside st.
func (r *rewriter) instrChildren(st ast.Stmt, fc *fnCtx, decl bool) {
	lits := func(nodes ...ast.Node) {
		for _, n := range nodes {
			if n == nil {
				continue
			}
			ast.Inspect(n, func(n ast.Node) bool {
				if fl, ok := n.(*ast.FuncLit); ok {
					label := "func literal"
					if fc.label != "" {
						label += " in " + fc.label
					}
					r.instrFunc(fl.Body, fc.name+".func", label, decl)
					return false
				}
				return true
			})
		}
	}
	switch x := st.(type) {
	case *ast.LabeledStmt:
		r.instrChildren(x.Stmt, fc, decl)
	case *ast.BlockStmt:
		r.instrList(x.List, fc, false, decl)
	case *ast.IfStmt:
		lits(x.Init, x.Cond)
		r.instrList(x.Body.List, fc, false, decl)
		if x.Else != nil {
			r.instrChildren(x.Else, fc, decl)
		}
	case *ast.ForStmt:
		lits(x.Init, x.Cond, x.Post)
		r.instrList(x.Body.List, fc, false, decl)
	case *ast.RangeStmt:
		lits(x.X)
		r.instrList(x.Body.List, fc, false, decl)
	case *ast.SwitchStmt:
		lits(x.Init, x.Tag)
		for _, c := range x.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				lits(e)
			}
			r.instrList(cc.Body, fc, false, decl)
		}
	case *ast.TypeSwitchStmt:
		lits(x.Init, x.Assign)
		for _, c := range x.Body.List {
			r.instrList(c.(*ast.CaseClause).Body, fc, false, decl)
		}
	case *ast.SelectStmt:
		for _, c := range x.Body.List {
			cc := c.(*ast.CommClause)
			lits(cc.Comm)
			r.instrList(cc.Body, fc, false, decl)
		}
	default:
		lits(st)
	}
}

// mayPanic reports whether running st itself (not the statement lists inside it)
// can panic, judged by syntax.
func (r *rewriter) mayPanic(st ast.Stmt) bool {
	e := r.exprMayPanic
	switch x := st.(type) {
	case *ast.LabeledStmt:
		return r.mayPanic(x.Stmt)
	case *ast.EmptyStmt, *ast.BranchStmt, *ast.BlockStmt:
		return false
	case *ast.IfStmt:
		return e(x.Init) || e(x.Cond)
	case *ast.ForStmt:
		return e(x.Init) || e(x.Cond) || e(x.Post)
	case *ast.RangeStmt:
		return e(x.X)
	case *ast.SwitchStmt:
		if e(x.Init) || e(x.Tag) {
			return true
		}
		for _, c := range x.Body.List {
			for _, ce := range c.(*ast.CaseClause).List {
				if e(ce) {
					return true
				}
			}
		}
		return false
	case *ast.TypeSwitchStmt:
		return e(x.Init) || e(x.Assign)
	case *ast.SelectStmt:
		for _, c := range x.Body.List {
			if e(c.(*ast.CommClause).Comm) {
				return true
			}
		}
		return false
	case *ast.SendStmt:
		return true // a send on a closed channel panics
	}
	return e(st)
}

// exprMayPanic reports whether evaluating n can panic, not looking into func literals.
func (r *rewriter) exprMayPanic(n ast.Node) bool {
	if n == nil {
		return false
	}
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if found {
			return false
		}
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if id, ok := x.Fun.(*ast.Ident); ok && id.Obj == nil && (id.Name == "len" || id.Name == "cap") {
				return true
			}
			found = true
		case *ast.IndexExpr, *ast.IndexListExpr, *ast.SliceExpr, *ast.StarExpr, *ast.TypeAssertExpr:
			found = true
		case *ast.BinaryExpr:
			switch x.Op {
			case token.QUO, token.REM, token.SHL, token.SHR:
				found = true
			}
		case *ast.AssignStmt:
			switch x.Tok {
			case token.QUO_ASSIGN, token.REM_ASSIGN, token.SHL_ASSIGN, token.SHR_ASSIGN:
				found = true
			}
		case *ast.SelectorExpr:
			// A field through a nil pointer panics; a package member does not.
			if id, ok := x.X.(*ast.Ident); ok && id.Obj == nil && r.isPackage(id.Name) {
				return false
			}
			found = true
		}
		return !found
	})
	return found
}

func (r *rewriter) isPackage(name string) bool {
	if _, ok := r.s.Imports[name]; ok {
		return true
	}
	if _, ok := r.p.Imports[name]; ok {
		return true
	}
	_, ok := r.s.Packages[name]
	return ok && !r.cellNames[name]
}

// varDecl is the declaration of the site variables of one half of the cell.
func varDecl(vars []string) string {
	if len(vars) == 0 {
		return ""
	}
	return "var " + strings.Join(vars, ", ") + " int; "
}

// varInits records the var specs of a package-level declaration whose values can panic.
func (r *rewriter) varInits(d *ast.GenDecl) {
	for _, sp := range d.Specs {
		vs, ok := sp.(*ast.ValueSpec)
		if !ok {
			continue
		}
		panics := false
		for _, v := range vs.Values {
			panics = panics || r.exprMayPanic(v)
		}
		if !panics {
			continue
		}
		var names []string
		for _, n := range vs.Names {
			names = append(names, n.Name)
		}
		line, col := offsetLineCol(r.src, r.off(vs.Pos())-r.prefix)
		r.p.VarInits = append(r.p.VarInits, Site{Cell: r.opt.Cell, Line: line, Col: col, Func: "var " + strings.Join(names, ", ")})
	}
}
