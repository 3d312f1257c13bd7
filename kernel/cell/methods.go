package cell

import (
	"fmt"
	"go/ast"
	"strings"
)

// Methods that can be redefined.
//
// yaegi keeps the first definition of a method and silently ignores later ones. So
// the pre-pass gives a method of a type declared in a cell a trampoline body that
// calls a package-level func variable, and assigns the method's real body to that
// variable (from an init func, as for funcs):
//
//	func (p Point) Norm() float64 { return goinvM_Point_Norm(p) }
//	var goinvM_Point_Norm func(Point) float64
//	func goinvDef9() { goinvM_Point_Norm = func(p Point) float64 { ...body... } }
//	func init() { goinvDef9() }
//
// A later cell that defines Point.Norm again with the same signature only assigns
// the variable, so every call from then on runs the new body: on values created
// before and after, through interfaces, from funcs compiled earlier — as with
// redefined funcs. A new signature cannot be given to an existing method (the
// interpreter keeps the first method set of a type): the cell is refused with a
// message saying to declare the type again, which makes a new type.

// defName returns a fresh name for the func that assigns a body.
func (r *rewriter) defName() string {
	r.s.nextID++
	return fmt.Sprintf("goinvDef%d", r.s.nextID)
}

// renamed applies the cell's type renames to a piece of source text.
func (r *rewriter) renamed(text string) string {
	for user, internal := range r.renames {
		if user != internal {
			text = replaceIdent(text, user, internal)
		}
	}
	return text
}

// rewriteMethod turns a method declaration into a trampoline and an assignment of its
// body (see above), or into the assignment alone when the method exists.
func (r *rewriter) rewriteMethod(d *ast.FuncDecl, in string) []edit {
	tn := recvTypeName(d)
	label := d.Name.Name
	if tn != "" {
		label = tn + "." + d.Name.Name
	}
	rt := d.Recv.List[0].Type
	base := rt
	if st, ok := base.(*ast.StarExpr); ok {
		base = st.X
	}
	_, isIdent := base.(*ast.Ident)
	_, cellType := r.renames[tn]
	if tn == "" || !isIdent || !cellType || d.Name.Name == "_" || len(d.Recv.List[0].Names) > 1 {
		// Generic receivers and types the session does not know keep a plain method.
		r.instrFunc(d.Body, "main."+d.Name.Name, label, true)
		return nil
	}
	internal := r.renames[tn]
	key := internal + "." + d.Name.Name
	text := func(n ast.Node) string { return r.renamed(in[r.off(n.Pos()):r.off(n.End())]) }

	recv := "goinvR"
	if names := d.Recv.List[0].Names; len(names) == 1 && names[0].Name != "_" {
		recv = names[0].Name
	}
	recvType := text(rt)
	params := []string{recv + " " + recvType}
	args := []string{recv}
	types := []string{recvType}
	n := 0
	for _, f := range d.Type.Params.List {
		typ := text(f.Type)
		names := make([]string, 0, len(f.Names))
		for _, nm := range f.Names {
			names = append(names, nm.Name)
		}
		if len(names) == 0 {
			names = []string{"_"}
		}
		for _, nm := range names {
			if nm == "_" {
				nm = fmt.Sprintf("goinvA%d", n)
			}
			n++
			params = append(params, nm+" "+typ)
			types = append(types, typ)
			if _, ok := f.Type.(*ast.Ellipsis); ok {
				args = append(args, nm+"...")
			} else {
				args = append(args, nm)
			}
		}
	}
	results := ""
	if d.Type.Results != nil {
		results = " " + text(d.Type.Results)
	}
	v := "goinvM_" + internal + "_" + d.Name.Name
	varType := "func(" + strings.Join(types, ", ") + ")" + r.resultTypes(d.Type.Results, in)
	// The signature as Go prints a method: a new receiver kind is a new signature too.
	sig := strings.Join(strings.Fields("("+recvType+") "+d.Name.Name+"("+strings.Join(types[1:], ", ")+")"+results), " ")

	def := r.defName()
	head := "func " + def + "() { " + v + " = func(" + strings.Join(params, ", ") + ")" + results + " "
	if old, ok := r.s.recvM[key]; ok {
		if old != sig {
			line, col := offsetLineCol(r.src, r.off(d.Name.Pos())-r.prefix)
			r.err = &Error{Line: line, Col: col, Msg: fmt.Sprintf(
				"method %s cannot change its signature from func %s to func %s: the interpreter keeps the first method set of a type; declare type %s again in this cell, with its methods, to make a new type",
				label, r.s.Unmangle(old), r.s.Unmangle(sig), tn)}
			return nil
		}
	} else {
		call := v + "(" + strings.Join(args, ", ") + ")"
		if results != "" {
			call = "return " + call
		}
		tramp := "func (" + recv + " " + recvType + ") " + d.Name.Name + "(" + strings.Join(params[1:], ", ") + ")" + results + " { " + call + " }"
		head = tramp + "; var " + v + " " + varType + "; " + head
		line, _ := offsetLineCol(r.src, r.off(d.Pos())-r.prefix)
		r.p.frames = append(r.p.frames, Frame{Name: "main." + d.Name.Name, Line: line, Skip: true, Func: label})
	}
	r.p.recvM[key] = sig
	r.instrFunc(d.Body, "main."+def+".func", label, true)
	return []edit{
		{pos: r.off(d.Pos()), end: r.off(d.Body.Lbrace), text: head},
		{pos: r.off(d.Body.End()), end: r.off(d.Body.End()), text: " }; func init() { " + def + "() }", order: 20},
	}
}

// methodExpr rewrites a method expression of a cell type, `T.M` or `(*T).M`, as
// the func variable that holds the method's body, which has exactly the method
// expression's type (receiver first): yaegi's own method expressions of
// interpreted types fail when called ("reflect: Call with too many input
// arguments"). Other selectors are left alone.
func (r *rewriter) methodExpr(sel *ast.SelectorExpr) []edit {
	x := sel.X
	star := false
	if p, ok := x.(*ast.ParenExpr); ok {
		if st, ok := p.X.(*ast.StarExpr); ok {
			x, star = st.X, true
		}
	}
	id, ok := x.(*ast.Ident)
	if !ok || id.Obj != nil && id.Obj.Kind != ast.Typ {
		return nil
	}
	internal, ok := r.renames[id.Name]
	if !ok {
		return nil
	}
	key := internal + "." + sel.Sel.Name
	sig, ok := r.p.recvM[key]
	if !ok {
		sig, ok = r.s.recvM[key]
	}
	recv := "(" + internal + ")"
	if star {
		recv = "(*" + internal + ")"
	}
	if !ok || !strings.HasPrefix(sig, recv+" ") {
		return nil // not a cell method, or a receiver of the other kind
	}
	return []edit{{pos: r.off(sel.Pos()), end: r.off(sel.End()), text: "goinvM_" + internal + "_" + sel.Sel.Name, order: -1}}
}
