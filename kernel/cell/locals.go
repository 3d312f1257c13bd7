package cell

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"regexp"
	"strings"
)

// LocalVar is a variable of a cell being edited, visible at the cursor: one its
// statements declare (which the session has not run yet), or a parameter or
// variable of a func around the cursor.
type LocalVar struct {
	VarDef
	// RangeOf is the expression a range clause ranges over, when the variable is
	// its key (Key) or value.
	RangeOf ast.Expr
	Key     bool
}

// Scope is what a cell being edited declares, visible at the cursor: variables,
// and the types (with their methods) and funcs of its top level, which the
// session does not know before the cell runs.
type Scope struct {
	Vars    map[string]LocalVar
	Types   map[string]*ast.TypeSpec
	Methods map[string]map[string]*ast.FuncDecl // type name → method name → declaration
	Funcs   map[string]*ast.FuncDecl
}

// Locals returns what src, a cell being edited, declares visible at byte offset
// at. The text from at on is dropped and the groups still open there are closed
// (and, if that does not parse, the cursor's line too), so that a cell in the
// middle of a line parses. It returns nil if the cell does not parse.
func Locals(src string, at int) *Scope {
	if at > len(src) {
		at = len(src)
	}
	cuts := []int{at}
	if ls := strings.LastIndexByte(src[:at], '\n') + 1; ls < at {
		cuts = append(cuts, ls)
	}
	for _, cut := range cuts {
		if sc, ok := localsAt(src[:cut]+closers(src[:cut]), cut); ok {
			return sc
		}
	}
	return nil
}

// closers returns the brackets that close the groups open at the end of src.
func closers(src string) string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(src)), []byte(src), func(token.Position, string) {}, 0)
	var open []byte
	for {
		_, tok, _ := sc.Scan()
		switch tok {
		case token.EOF:
			var b strings.Builder
			b.WriteString("\n")
			for i := len(open) - 1; i >= 0; i-- {
				b.WriteByte(open[i])
			}
			return b.String()
		case token.LPAREN:
			open = append(open, ')')
		case token.LBRACK:
			open = append(open, ']')
		case token.LBRACE:
			open = append(open, '}')
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
}

// topLevelDecl finds a line that starts a func, type or import declaration.
var topLevelDecl = regexp.MustCompile(`(?m)^(func|type|import)\b`)

func localsAt(src string, at int) (*Scope, bool) {
	fset := token.NewFileSet()
	w := &localsWalker{vars: map[string]LocalVar{}, sc: &Scope{Types: map[string]*ast.TypeSpec{},
		Methods: map[string]map[string]*ast.FuncDecl{}, Funcs: map[string]*ast.FuncDecl{}}}
	declIn, stmtIn := "", stmtWrap+stmtLead+src+"\n}"
	if topLevelDecl.MatchString(src) { // else the cell is all statements: one parse
		segs, err := split(src)
		if err != nil {
			return nil, false
		}
		declIn = declPrefix + blank(src, segs, false)
		stmtIn = stmtWrap + stmtLead + blank(src, segs, true) + "\n}"
	}
	stmtF, err := parser.ParseFile(fset, "", stmtIn, parser.SkipObjectResolution)
	if err != nil {
		return nil, false
	}
	if declIn != "" {
		declF, err := parser.ParseFile(fset, "", declIn, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			return nil, false
		}
		attachFirstLineDoc(fset, declF)
		w.decls(declF, at)
	}
	w.at = stmtF.Pos() + token.Pos(len(stmtWrap)+len(stmtLead)+at)
	w.stmts(mainBody(stmtF))
	w.sc.Vars = w.vars
	return w.sc, true
}

// decls records the cell's package-level vars and goes into the func the cursor is in.
func (w *localsWalker) decls(declF *ast.File, at int) {
	w.at = declF.Pos() + token.Pos(len(declPrefix)+at)
	for _, d := range declF.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.VAR && d.End() <= w.at {
				for _, sp := range d.Specs {
					w.valueSpec(sp.(*ast.ValueSpec))
				}
			}
			if d.Tok == token.TYPE { // a cell's types are visible all through it
				for _, sp := range d.Specs {
					if ts := sp.(*ast.TypeSpec); ts.Name.Name != "_" {
						if ts.Doc == nil && len(d.Specs) == 1 {
							ts.Doc = d.Doc // the comment of `// T is ...` above `type T ...`
						}
						w.sc.Types[ts.Name.Name] = ts
					}
				}
			}
		case *ast.FuncDecl:
			switch tn := recvTypeName(d); {
			case d.Recv == nil && d.Name.Name != "init" && d.Name.Name != "_":
				w.sc.Funcs[d.Name.Name] = d
			case tn != "" && d.Name.Name != "_":
				if w.sc.Methods[tn] == nil {
					w.sc.Methods[tn] = map[string]*ast.FuncDecl{}
				}
				w.sc.Methods[tn][d.Name.Name] = d
			}
			if d.Body != nil && w.inside(d.Body) {
				if d.Recv != nil {
					w.fields(d.Recv)
				}
				w.funcType(d.Type)
				w.stmts(d.Body.List)
			}
		}
	}
}

type localsWalker struct {
	at   token.Pos
	vars map[string]LocalVar
	sc   *Scope
}

func (w *localsWalker) inside(n ast.Node) bool { return n.Pos() < w.at && w.at <= n.End() }

func (w *localsWalker) def(id *ast.Ident, v LocalVar) {
	if id != nil && id.Name != "_" {
		w.vars[id.Name] = v
	}
}

func (w *localsWalker) fields(fl *ast.FieldList) {
	if fl == nil {
		return
	}
	for _, f := range fl.List {
		for _, nm := range f.Names {
			w.def(nm, LocalVar{VarDef: VarDef{Type: f.Type}})
		}
	}
}

func (w *localsWalker) funcType(ft *ast.FuncType) {
	w.fields(ft.Params)
	w.fields(ft.Results)
}

func (w *localsWalker) valueSpec(sp *ast.ValueSpec) {
	for i, nm := range sp.Names {
		d := VarDef{Type: sp.Type}
		if sp.Type == nil {
			if len(sp.Values) == len(sp.Names) {
				d.Value = sp.Values[i]
			} else if len(sp.Values) == 1 {
				d.Value, d.Index = sp.Values[0], i
			}
		}
		w.def(nm, LocalVar{VarDef: d})
	}
}

// stmts records what a statement list declares up to the cursor, and goes into
// the statement the cursor is in.
func (w *localsWalker) stmts(list []ast.Stmt) {
	for _, st := range list {
		if st.Pos() >= w.at {
			return
		}
		w.stmt(st)
	}
}

func (w *localsWalker) stmt(st ast.Stmt) {
	in := w.inside(st)
	switch x := st.(type) {
	case *ast.AssignStmt:
		if x.Tok == token.DEFINE && !in {
			for i, l := range x.Lhs {
				id, _ := l.(*ast.Ident)
				if len(x.Rhs) == len(x.Lhs) {
					w.def(id, LocalVar{VarDef: VarDef{Value: x.Rhs[i]}})
				} else if len(x.Rhs) == 1 {
					w.def(id, LocalVar{VarDef: VarDef{Value: x.Rhs[0], Index: i}})
				}
			}
		}
	case *ast.DeclStmt:
		if g, ok := x.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR && !in {
			for _, sp := range g.Specs {
				w.valueSpec(sp.(*ast.ValueSpec))
			}
		}
	case *ast.LabeledStmt:
		w.stmt(x.Stmt)
		return
	case *ast.BlockStmt:
		if in {
			w.stmts(x.List)
		}
		return
	case *ast.IfStmt:
		if in {
			if x.Init != nil {
				w.stmt(x.Init)
			}
			w.stmt(x.Body)
			if x.Else != nil {
				w.stmt(x.Else)
			}
		}
	case *ast.ForStmt:
		if in {
			if x.Init != nil {
				w.stmt(x.Init)
			}
			w.stmt(x.Body)
		}
	case *ast.RangeStmt:
		if in && w.inside(x.Body) {
			if x.Tok == token.DEFINE {
				k, _ := x.Key.(*ast.Ident)
				v, _ := x.Value.(*ast.Ident)
				w.def(k, LocalVar{RangeOf: x.X, Key: true})
				w.def(v, LocalVar{RangeOf: x.X})
			}
			w.stmt(x.Body)
		}
	case *ast.SwitchStmt:
		if in {
			if x.Init != nil {
				w.stmt(x.Init)
			}
			w.clauses(x.Body, nil, nil)
		}
	case *ast.TypeSwitchStmt:
		if in {
			if x.Init != nil {
				w.stmt(x.Init)
			}
			var bound *ast.Ident
			var subject ast.Expr
			if a, ok := x.Assign.(*ast.AssignStmt); ok && len(a.Lhs) == 1 && len(a.Rhs) == 1 {
				bound, _ = a.Lhs[0].(*ast.Ident)
				if ta, ok := a.Rhs[0].(*ast.TypeAssertExpr); ok {
					subject = ta.X
				}
			}
			w.clauses(x.Body, bound, subject)
		}
	case *ast.SelectStmt:
		if in {
			w.clauses(x.Body, nil, nil)
		}
	}
	if in {
		w.funcLits(st)
	}
}

// clauses goes into the case of a switch or select the cursor is in; bound is the
// variable of a type switch, of the case's type when it names one type, else of
// subject's.
func (w *localsWalker) clauses(body *ast.BlockStmt, bound *ast.Ident, subject ast.Expr) {
	for i, c := range body.List {
		// A clause runs to the next one (its End is its last statement's, or its colon).
		end := body.Rbrace
		if i+1 < len(body.List) {
			end = body.List[i+1].Pos()
		}
		if !(c.Pos() < w.at && w.at <= end) {
			continue
		}
		switch cc := c.(type) {
		case *ast.CaseClause:
			if bound != nil {
				if len(cc.List) == 1 {
					w.def(bound, LocalVar{VarDef: VarDef{Type: cc.List[0]}})
				} else if subject != nil {
					w.def(bound, LocalVar{VarDef: VarDef{Value: subject}})
				}
			}
			w.stmts(cc.Body)
		case *ast.CommClause:
			if cc.Comm != nil && cc.Comm.End() <= w.at {
				w.stmt(cc.Comm)
			}
			w.stmts(cc.Body)
		}
	}
}

// funcLits goes into the func literal of a statement's expressions that the cursor
// is in (`go func() { ... }()`, `sort.Slice(x, func(i, j int) bool { ... })`).
func (w *localsWalker) funcLits(st ast.Stmt) {
	ast.Inspect(st, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BlockStmt:
			return false // the statements' own blocks are walked above
		case *ast.FuncLit:
			if w.inside(x.Body) {
				w.funcType(x.Type)
				w.stmts(x.Body.List)
			}
			return false
		}
		return true
	})
}
