package cell

import (
	"go/ast"
	"go/token"
)

// Declarations as written, for completion and inspection.
//
// yaegi hands its interpreted types to reflect without their names or methods,
// with unexported fields renamed (`age` becomes `Xage`) and embedded fields not
// marked as such; two cell types of the same fields are even the same reflect
// type. So the executor types the session's own names from the cells' source:
// the pre-pass keeps the syntax of each type, method and func declaration and of
// what each session variable was declared with.

// VarDef is how a cell declared a session variable: with a type (Type), or from an
// expression (Value); Index is the variable's position among the results of Value
// when one expression gives several (`x, err := f()`, `v, ok := m[k]`).
type VarDef struct {
	Type  ast.Expr
	Value ast.Expr
	Index int
}

// TypeSpec returns the declaration of a type a cell declared, or nil.
func (s *Session) TypeSpec(name string) *ast.TypeSpec { return s.typeSpecs[name] }

// MethodDecls returns the methods the cells declared on a type, by name (their
// bodies are dropped).
func (s *Session) MethodDecls(typeName string) map[string]*ast.FuncDecl {
	return s.methodDecls[typeName]
}

// FuncDecl returns the declaration of a func a cell declared (its body dropped), or
// nil.
func (s *Session) FuncDecl(name string) *ast.FuncDecl { return s.funcDecls[name] }

// VarDef returns how a session variable was declared; ok is false for a name no
// cell declared as a variable at top level.
func (s *Session) VarDef(name string) (d VarDef, ok bool) {
	d, ok = s.varDefs[name]
	return d, ok
}

// UnexportedFields returns the names of the unexported fields of the struct types
// the cells declared (yaegi's reflect types call them "X" + name).
func (s *Session) UnexportedFields() []string {
	seen := map[string]bool{}
	var out []string
	for _, sp := range s.typeSpecs {
		ast.Inspect(sp.Type, func(n ast.Node) bool {
			if st, ok := n.(*ast.StructType); ok {
				for _, f := range st.Fields.List {
					for _, nm := range f.Names {
						if !token.IsExported(nm.Name) && nm.Name != "_" && !seen[nm.Name] {
							seen[nm.Name] = true
							out = append(out, nm.Name)
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// attachFirstLineDoc gives the comment on a cell's first line back to the
// declaration it documents: behind "package main;" on that line, the parser
// takes it for the package clause's line comment, so `// F does...` above
// `func F` on the cell's first lines was no doc comment.
func attachFirstLineDoc(fset *token.FileSet, f *ast.File) {
	if f == nil || len(f.Comments) == 0 || len(f.Decls) == 0 {
		return
	}
	first := f.Comments[0]
	line := func(p token.Pos) int { return fset.Position(p).Line }
	if line(first.Pos()) != line(f.Package) {
		return
	}
	for _, d := range f.Decls {
		if d.Pos() < first.End() {
			continue
		}
		var doc **ast.CommentGroup
		switch d := d.(type) {
		case *ast.GenDecl:
			doc = &d.Doc
		case *ast.FuncDecl:
			doc = &d.Doc
		default:
			return
		}
		switch {
		case *doc == nil && line(d.Pos()) == line(first.End())+1:
			*doc = first
		case *doc != nil && line((*doc).Pos()) == line(first.End())+1:
			*doc = &ast.CommentGroup{List: append(append([]*ast.Comment(nil), first.List...), (*doc).List...)}
		}
		return
	}
}

// withoutBody returns a copy of a func declaration without its body, which the
// session need not keep.
func withoutBody(d *ast.FuncDecl) *ast.FuncDecl {
	c := *d
	c.Body = nil
	return &c
}

// typeOnly returns what of an initializer its type needs: a composite literal or
// a func literal without its elements or body, also as a call's argument (a cell
// that declares a table of ten thousand numbers, or passes a long func to a
// call, should not keep their syntax).
func typeOnly(e ast.Expr) ast.Expr {
	switch x := e.(type) {
	case *ast.CompositeLit:
		return &ast.CompositeLit{Type: x.Type}
	case *ast.FuncLit:
		return &ast.FuncLit{Type: x.Type}
	case *ast.CallExpr:
		c := *x
		c.Args = make([]ast.Expr, len(x.Args))
		for i, a := range x.Args {
			c.Args[i] = typeOnly(a)
		}
		return &c
	}
	return e
}

// recordDecls records the declarations of a cell's top level in the plan.
func (r *rewriter) recordDecls(declF, stmtF *ast.File) {
	p := r.p
	if declF != nil {
		for _, d := range declF.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if sp.Name.Name != "_" {
							p.typeSpecs[sp.Name.Name] = sp
						}
					case *ast.ValueSpec:
						if d.Tok == token.VAR {
							p.recordValueSpec(sp)
						}
					}
				}
			case *ast.FuncDecl:
				switch tn := recvTypeName(d); {
				case d.Recv == nil && d.Name.Name != "init" && d.Name.Name != "_":
					p.funcDecls[d.Name.Name] = withoutBody(d)
				case tn != "" && d.Name.Name != "_":
					if p.methodDecls[tn] == nil {
						p.methodDecls[tn] = map[string]*ast.FuncDecl{}
					}
					p.methodDecls[tn][d.Name.Name] = withoutBody(d)
				}
			}
		}
	}
	if stmtF == nil {
		return
	}
	for _, st := range mainBody(stmtF) {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok != token.DEFINE {
				continue
			}
			for i, l := range st.Lhs {
				id, ok := l.(*ast.Ident)
				if !ok || id.Name == "_" {
					continue
				}
				if len(st.Rhs) == len(st.Lhs) {
					p.varDefs[id.Name] = VarDef{Value: typeOnly(st.Rhs[i])}
				} else if len(st.Rhs) == 1 {
					p.varDefs[id.Name] = VarDef{Value: typeOnly(st.Rhs[0]), Index: i}
				}
			}
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					p.recordValueSpec(sp.(*ast.ValueSpec))
				}
			}
		}
	}
}

func (p *Plan) recordValueSpec(sp *ast.ValueSpec) {
	for i, nm := range sp.Names {
		if nm.Name == "_" {
			continue
		}
		d := VarDef{Type: sp.Type}
		if sp.Type == nil {
			if len(sp.Values) == len(sp.Names) {
				d.Value = typeOnly(sp.Values[i])
			} else if len(sp.Values) == 1 {
				d.Value, d.Index = typeOnly(sp.Values[0]), i
			}
		}
		p.varDefs[nm.Name] = d
	}
}

// commitDecls records the plan's declarations in the session: a type declared
// again starts without methods, as the interpreter's new type does.
func (p *Plan) commitDecls() {
	s := p.s
	for name, sp := range p.typeSpecs {
		s.typeSpecs[name] = sp
		delete(s.methodDecls, name)
		delete(s.funcDecls, name)
		delete(s.varDefs, name)
	}
	for tn, ms := range p.methodDecls {
		if s.methodDecls[tn] == nil {
			s.methodDecls[tn] = map[string]*ast.FuncDecl{}
		}
		for name, d := range ms {
			s.methodDecls[tn][name] = d
		}
	}
	for name, d := range p.funcDecls {
		s.funcDecls[name] = d
		delete(s.typeSpecs, name)
		delete(s.varDefs, name)
	}
	for name, d := range p.varDefs {
		s.varDefs[name] = d
		delete(s.typeSpecs, name)
		delete(s.funcDecls, name)
	}
}
