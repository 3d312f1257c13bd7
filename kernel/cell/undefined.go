package cell

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
)

// Undefined returns the first name src uses that nothing declares — not the cell,
// not the session (its declarations and imports, the packages a cell may use
// without importing them), not Go's universe — with its position in the cell.
// known reports the session's other names (its variables, as the interpreter
// lists them); it may be nil.
//
// yaegi does not say "undefined: x" for every undefined name: `z := x + 1` is a
// "constant definition loop" and `fmt.Println(x)` a panic, "incomplete type x".
// The executor asks Undefined when the interpreter reports such an error, to say
// which name it is.
func (s *Session) Undefined(src string, known func(name string) bool) (name string, line, col int, ok bool) {
	segs, err := split(src)
	if err != nil {
		return "", 0, 0, false
	}
	used := map[string]bool{}
	declared := map[string]bool{}
	for _, sg := range segs {
		text := src[sg.start:sg.end]
		if sg.decl {
			f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+text, 0)
			if err != nil {
				return "", 0, 0, false
			}
			for name := range f.Scope.Objects {
				declared[name] = true
			}
			for _, id := range f.Unresolved {
				used[id.Name] = true
			}
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p;func _() {"+text+"\n}", 0)
		if err != nil {
			return "", 0, 0, false
		}
		for _, id := range f.Unresolved {
			used[id.Name] = true
		}
		// What the statements declare at their top level is visible to the cell's
		// other statements and declarations.
		for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
			switch st := st.(type) {
			case *ast.AssignStmt:
				if st.Tok == token.DEFINE {
					for _, l := range st.Lhs {
						if id, isID := l.(*ast.Ident); isID {
							declared[id.Name] = true
						}
					}
				}
			case *ast.DeclStmt:
				for _, sp := range st.Decl.(*ast.GenDecl).Specs {
					switch sp := sp.(type) {
					case *ast.ValueSpec:
						for _, id := range sp.Names {
							declared[id.Name] = true
						}
					case *ast.TypeSpec:
						declared[sp.Name.Name] = true
					}
				}
			}
		}
	}
	isKnown := func(name string) bool {
		if declared[name] || name == "_" || types.Universe.Lookup(name) != nil {
			return true
		}
		if _, ok := s.names[name]; ok {
			return true
		}
		if s.Imports[name] != "" || s.Packages[name] != "" {
			return true
		}
		return known != nil && known(name)
	}
	// The first use in the cell's text of a name nothing declares: an identifier
	// token that does not follow a dot (a selector's member is not looked up).
	fset := token.NewFileSet()
	file := fset.AddFile("cell.go", -1, len(src))
	var sc scanner.Scanner
	sc.Init(file, []byte(src), nil, 0)
	prev := token.ILLEGAL
	for {
		pos, tok, lit := sc.Scan()
		if tok == token.EOF {
			return "", 0, 0, false
		}
		if tok == token.IDENT && prev != token.PERIOD && used[lit] && !isKnown(lit) {
			p := fset.Position(pos)
			return lit, p.Line, runeCol(src, p.Offset), true
		}
		prev = tok
	}
}
