package cell

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// Session variables from generic calls.
//
// yaegi cannot give a session (package-level) variable the type of a generic
// call's result when that type comes from a type parameter: `m := slices.Max(xs)`
// or `s := Sum(vals)` for a cell's `func Sum[T Number](xs []T) T` panicked with
// "nil reflect type", `ys := slices.Clone(xs)` dereferenced a nil pointer. With
// the type given, it works: `m := int(slices.Max(xs))`. So the pre-pass infers the
// result's type from the arguments' types, as far as their syntax and the
// session's variables tell, and converts the call to it. Where it cannot, the cell
// is refused with an error that says how to write it instead, rather than failing
// obscurely when it runs.

// genericFunc is what the pre-pass keeps of a generic func declared in a cell:
// the names of its type parameters and its signature as a func type ("func(xs
// []T) T"), with the cell's type renames applied. The source text rather than the
// syntax, which would keep the declaring cell's syntax tree alive.
type genericFunc struct {
	typeParams map[string]bool
	order      []string // the type parameters in order
	sig        string
}

// stdGeneric describes the generic functions of the standard packages (see
// kernel/executor/generics.go) whose result type derives from their arguments, by
// how it derives from the type of the first argument (see stdResult).
var stdGeneric = map[string]string{
	"slices.Clone": "S", "slices.Compact": "S", "slices.CompactFunc": "S", "slices.Insert": "S",
	"slices.Delete": "S", "slices.DeleteFunc": "S", "slices.Replace": "S", "slices.Grow": "S",
	"slices.Clip": "S", "slices.Concat": "S", "slices.Repeat": "S", "slices.AppendSeq": "S",
	"slices.Max": "E", "slices.Min": "E", "slices.MaxFunc": "E", "slices.MinFunc": "E",
	"slices.All": "seq(int, E)", "slices.Backward": "seq(int, E)", "slices.Values": "seq(E)",
	"slices.Collect": "[]Y", "slices.Sorted": "[]Y", "slices.SortedFunc": "[]Y", "slices.SortedStableFunc": "[]Y",
	"maps.Clone": "S", "maps.All": "seq(K, V)", "maps.Keys": "seq(K)", "maps.Values": "seq(V)",
	"maps.Collect": "map[Y]Y",
	"cmp.Or":       "S",
}

// stdResult derives a result type from the type arg of the first argument: S is
// arg, E its element type, K and V its key and value types, Y the types an
// iterator (a func(yield func(...) bool)) yields; seq(T, U) is an iterator
// yielding T and U. It returns "" if arg does not have the form needed.
func stdResult(kind, arg string) string {
	if kind == "S" || arg == "" {
		return arg
	}
	t, err := parser.ParseExpr(arg)
	if err != nil {
		return ""
	}
	text := func(e ast.Expr) string { return arg[e.Pos()-t.Pos() : e.End()-t.Pos()] }
	var parts map[string]string
	switch t := t.(type) {
	case *ast.ArrayType:
		parts = map[string]string{"E": text(t.Elt)}
	case *ast.MapType:
		parts = map[string]string{"K": text(t.Key), "V": text(t.Value)}
	case *ast.FuncType: // an iterator: its yield func's parameters
		if len(t.Params.List) == 1 {
			if y, ok := t.Params.List[0].Type.(*ast.FuncType); ok {
				var ys []string
				for _, f := range y.Params.List {
					for range max(len(f.Names), 1) {
						ys = append(ys, text(f.Type))
					}
				}
				switch {
				case kind == "[]Y" && len(ys) == 1:
					return "[]" + ys[0]
				case kind == "map[Y]Y" && len(ys) == 2:
					return "map[" + ys[0] + "]" + ys[1]
				}
			}
		}
		return ""
	default:
		return ""
	}
	switch kind {
	case "E":
		return parts["E"]
	case "seq(int, E)", "seq(E)", "seq(K, V)", "seq(K)", "seq(V)":
		var ys []string
		for _, p := range strings.Split(kind[len("seq("):len(kind)-1], ", ") {
			y := p
			if p != "int" {
				y = parts[p]
			}
			if y == "" {
				return ""
			}
			ys = append(ys, y)
		}
		return "func(yield func(" + strings.Join(ys, ", ") + ") bool)"
	}
	return ""
}

// recordGeneric keeps a generic func declaration for genericResult.
func (r *rewriter) recordGeneric(d *ast.FuncDecl, in string) {
	g := &genericFunc{typeParams: map[string]bool{}}
	for _, f := range d.Type.TypeParams.List {
		for _, n := range f.Names {
			g.typeParams[n.Name] = true
			g.order = append(g.order, n.Name)
		}
	}
	g.sig = "func" + r.renamed(in[r.off(d.Type.Params.Pos()):r.off(d.Type.End())])
	r.p.generics[d.Name.Name] = g
}

// genericDefines makes the top-level statements that define variables from generic
// calls work: each such call is converted to its inferred result type, and a var
// statement becomes a definition (`var v = F(x)` left v at its zero value, even
// converted). The last expression's calls are converted too, where their type is
// known, in the edits that assign it to LastVar (lastEdits). A define whose call's
// type cannot be inferred sets r.err with what to write instead.
func (r *rewriter) genericDefines(body []ast.Stmt) (edits, lastEdits []edit) {
	last := len(body) - 1
	for last >= 0 {
		if _, empty := body[last].(*ast.EmptyStmt); !empty {
			break
		}
		last--
	}
	for i, st := range body {
		var exprs []ast.Expr
		required := true
		var varDecl *ast.GenDecl
		switch st := st.(type) {
		case *ast.AssignStmt:
			if call, ok := st.Rhs[0].(*ast.CallExpr); ok && st.Tok == token.DEFINE && len(st.Lhs) > 1 && len(st.Rhs) == 1 {
				if types, generic := r.genericResults(call); generic {
					for _, l := range st.Lhs {
						if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
							r.p.varTypes[id.Name] = ""
						}
					}
					if len(types) != len(st.Lhs) {
						r.refuseGeneric(call)
						return nil, nil
					}
					edits = append(edits, r.declareThenAssign(st, types)...)
					exprs = call.Args
					break
				}
			}
			if st.Tok == token.DEFINE {
				exprs = st.Rhs
				for i, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						r.p.varTypes[id.Name] = ""
						if len(st.Lhs) == len(st.Rhs) {
							r.p.varTypes[id.Name] = r.typeOf(st.Rhs[i])
						}
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					vs := sp.(*ast.ValueSpec)
					exprs = append(exprs, vs.Values...)
					for i, id := range vs.Names {
						switch {
						case vs.Type != nil:
							r.p.varTypes[id.Name] = r.typeOf(id)
						case len(vs.Values) == len(vs.Names):
							r.p.varTypes[id.Name] = r.typeOf(vs.Values[i])
						default:
							r.p.varTypes[id.Name] = ""
						}
					}
				}
				varDecl = g
			}
		case *ast.ExprStmt:
			if i == last {
				exprs, required = []ast.Expr{st.X}, false
			}
		}
		found := false
		add := func(e ...edit) { edits = append(edits, e...) }
		if !required {
			add = func(e ...edit) { lastEdits = append(lastEdits, e...) }
		}
		for _, e := range exprs {
			ast.Inspect(e, func(n ast.Node) bool {
				if r.err != nil {
					return false
				}
				switch n := n.(type) {
				case *ast.FuncLit:
					return false // its variables are local
				case *ast.CallExpr:
					typ, generic := r.genericResult(n)
					if !generic {
						return true
					}
					found = true
					if typ == "" {
						if required {
							r.refuseGeneric(n)
						}
						return false
					}
					add(edit{pos: r.off(n.Pos()), end: r.off(n.Pos()), text: "(" + typ + ")(", order: -30},
						edit{pos: r.off(n.End()), end: r.off(n.End()), text: ")", order: 30})
				}
				return true
			})
		}
		if r.err != nil {
			return nil, nil
		}
		if found && varDecl != nil {
			edits = append(edits, r.varAsDefine(varDecl)...)
		}
	}
	return edits, lastEdits
}

// refuseGeneric sets r.err for a define from a generic call whose result types
// cannot be inferred.
func (r *rewriter) refuseGeneric(call *ast.CallExpr) {
	line, col := offsetLineCol(r.src, r.off(call.Pos())-r.prefix)
	name := r.callName(call)
	r.err = &Error{Line: line, Col: col, Msg: "the interpreter cannot make a session variable of the type of a generic call's result, " +
		"and goinv could not tell that type from the arguments: give it, `v := T(" + name + "(...))`, or declare `var v T` " +
		"and assign `v = " + name + "(...)` (inside a func, `v := ...` works as it is)"}
}

// declareThenAssign rewrites `a, b := F(x)`, F generic with results of types
// types, as `var a T1; var b T2; a, b = F(x)`.
func (r *rewriter) declareThenAssign(st *ast.AssignStmt, types []string) []edit {
	var decl strings.Builder
	for i, l := range st.Lhs {
		if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
			fmt.Fprintf(&decl, "var %s %s; ", id.Name, types[i])
			r.p.varTypes[id.Name] = types[i]
		}
	}
	return []edit{
		{pos: r.off(st.Pos()), end: r.off(st.Pos()), text: decl.String(), order: -60},
		{pos: r.off(st.TokPos), end: r.off(st.TokPos) + len(":="), text: "="},
	}
}

// varAsDefine rewrites `var a, b T = x, y` (one spec, no parentheses) as
// `a, b := T(x), T(y)`.
func (r *rewriter) varAsDefine(g *ast.GenDecl) []edit {
	if g.Lparen.IsValid() || len(g.Specs) != 1 {
		return nil
	}
	vs := g.Specs[0].(*ast.ValueSpec)
	if len(vs.Values) != len(vs.Names) {
		return nil
	}
	edits := []edit{
		{pos: r.off(g.TokPos), end: r.off(vs.Names[0].Pos())},
		{pos: r.off(vs.Names[len(vs.Names)-1].End()), end: r.off(vs.Values[0].Pos()), text: " := "},
	}
	if vs.Type != nil {
		typ := r.cellText(vs.Type)
		for _, v := range vs.Values {
			edits = append(edits,
				edit{pos: r.off(v.Pos()), end: r.off(v.Pos()), text: "(" + typ + ")(", order: -35},
				edit{pos: r.off(v.End()), end: r.off(v.End()), text: ")", order: 35})
		}
	}
	return edits
}

// callName is the called function's name as written (pkg.F or F).
func (r *rewriter) callName(call *ast.CallExpr) string {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name
		}
	case *ast.IndexExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name
		}
	}
	return "F"
}

// genericResult reports whether call calls a generic function of one result whose
// type derives from its type parameters, and that type as Go source, or "" if it
// cannot be inferred.
func (r *rewriter) genericResult(call *ast.CallExpr) (typ string, generic bool) {
	types, generic := r.genericResults(call)
	switch {
	case !generic:
		return "", false
	case types == nil:
		return "", true
	case len(types) != 1:
		return "", false // several results: see genericDefines
	}
	return types[0], true
}

// genericResults reports whether call calls a generic function with a result
// whose type derives from its type parameters, and the types of its results as Go
// source, or nil if one cannot be inferred.
func (r *rewriter) genericResults(call *ast.CallExpr) (types []string, generic bool) {
	switch f := call.Fun.(type) {
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		if !ok || x.Obj != nil || r.cellNames[x.Name] {
			return nil, false
		}
		path := r.importPath(x.Name)
		kind, ok := stdGeneric[path+"."+f.Sel.Name]
		if !ok || len(call.Args) == 0 {
			return nil, false
		}
		arg := r.typeOf(call.Args[0])
		if f.Sel.Name == "Concat" && call.Ellipsis.IsValid() {
			arg = elemType(arg) // slices.Concat(ss...)
		}
		if t := stdResult(kind, arg); t != "" {
			return []string{t}, true
		}
		return nil, true
	case *ast.Ident:
		g := r.p.generics[f.Name]
		if g == nil && !r.cellNames[f.Name] {
			g = r.s.generics[f.Name]
		}
		if g == nil {
			return nil, false
		}
		ft, err := parser.ParseExpr(g.sig)
		if err != nil {
			return nil, false
		}
		sig := ft.(*ast.FuncType)
		params, results := fieldTypes(sig.Params), fieldTypes(sig.Results)
		generic := false
		for _, res := range results {
			generic = generic || mentions(res, g.typeParams)
		}
		if !generic {
			return nil, false
		}
		bound := r.bindTypeParams(g, params, call)
		for _, rt := range results {
			res := g.sig[rt.Pos()-ft.Pos() : rt.End()-ft.Pos()]
			for tp := range g.typeParams {
				if !mentionsName(rt, tp) {
					continue
				}
				b, ok := bound[tp]
				if !ok {
					return nil, true
				}
				res = replaceIdent(res, tp, b)
			}
			types = append(types, res)
		}
		return types, true
	}
	return nil, false
}

// bindTypeParams binds g's type parameters to the types of call's arguments, as
// far as r.typeOf knows them; params are g's parameter types, one per parameter.
func (r *rewriter) bindTypeParams(g *genericFunc, params []ast.Expr, call *ast.CallExpr) map[string]string {
	bound := map[string]string{}
	for i, p := range params {
		if i >= len(call.Args) {
			break
		}
		args := call.Args[i : i+1]
		if el, ok := p.(*ast.Ellipsis); ok {
			p = el.Elt
			if call.Ellipsis.IsValid() {
				p = &ast.ArrayType{Elt: el.Elt}
			}
			args = call.Args[i:]
		}
		for _, a := range args { // the first argument of a known type decides
			at := r.typeOf(a)
			if at == "" {
				continue
			}
			if ae, err := parser.ParseExpr(at); err == nil {
				unify(p, ae, at, g.typeParams, bound)
				break
			}
		}
	}
	return bound
}

// explicitTypeArgs instantiates a call of a cell's generic func explicitly where
// yaegi infers it wrong: a type parameter that only a func parameter's results
// mention (U of `func Map[T, U any](xs []T, f func(T) U) []U`) was taken for
// another one, and `Map(xs, func(x int) string {...})` failed with "cannot use
// type func(int) string as type func(int) int". Given the type arguments
// (`Map[int, string](...)`) yaegi runs it. Only where every type parameter is
// bound by arguments of known type and no untyped constant decides one.
func (r *rewriter) explicitTypeArgs(call *ast.CallExpr) []edit {
	id, ok := call.Fun.(*ast.Ident)
	if !ok || id.Obj != nil {
		return nil
	}
	g := r.p.generics[id.Name]
	if g == nil && !r.cellNames[id.Name] {
		g = r.s.generics[id.Name]
	}
	if g == nil || len(g.order) == 0 {
		return nil
	}
	ft, err := parser.ParseExpr(g.sig)
	if err != nil {
		return nil
	}
	params := fieldTypes(ft.(*ast.FuncType).Params)
	if !funcResultOnly(params, g.order) {
		return nil
	}
	for _, a := range call.Args {
		if untypedConst(a) {
			return nil
		}
	}
	bound := r.bindTypeParams(g, params, call)
	args := make([]string, len(g.order))
	for i, tp := range g.order {
		if args[i] = bound[tp]; args[i] == "" {
			return nil
		}
	}
	return []edit{{pos: r.off(id.End()), end: r.off(id.End()), text: "[" + strings.Join(args, ", ") + "]"}}
}

// funcResultOnly reports whether one of the type parameters appears in params
// only among the results of func types.
func funcResultOnly(params []ast.Expr, typeParams []string) bool {
	for _, tp := range typeParams {
		inResult, elsewhere := false, false
		for _, p := range params {
			var walk func(n ast.Node, inRes bool)
			walk = func(n ast.Node, inRes bool) {
				ast.Inspect(n, func(c ast.Node) bool {
					switch c := c.(type) {
					case *ast.FuncType:
						if c.Params != nil {
							walk(c.Params, inRes)
						}
						if c.Results != nil {
							walk(c.Results, true)
						}
						return false
					case *ast.Ident:
						if c.Name == tp {
							if inRes {
								inResult = true
							} else {
								elsewhere = true
							}
						}
					}
					return true
				})
			}
			walk(p, false)
		}
		if inResult && !elsewhere {
			return true
		}
	}
	return false
}

// untypedConst reports whether e is an untyped constant as written: a literal,
// or an operation on literals.
func untypedConst(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.ParenExpr:
		return untypedConst(x.X)
	case *ast.UnaryExpr:
		return untypedConst(x.X)
	case *ast.BinaryExpr:
		return untypedConst(x.X) && untypedConst(x.Y)
	}
	return false
}

// unify binds the type parameters in param (a parameter type) to the parts
// of the argument type arg (source argText) that they stand for.
func unify(param ast.Expr, arg ast.Expr, argText string, typeParams map[string]bool, bound map[string]string) {
	text := func(e ast.Expr) string {
		return argText[e.Pos()-arg.Pos() : e.End()-arg.Pos()]
	}
	var walk func(p, a ast.Expr)
	walk = func(p, a ast.Expr) {
		switch p := p.(type) {
		case *ast.Ident:
			if typeParams[p.Name] {
				if _, done := bound[p.Name]; !done {
					bound[p.Name] = text(a)
				}
			}
		case *ast.ArrayType:
			if a, ok := a.(*ast.ArrayType); ok && (p.Len == nil) == (a.Len == nil) {
				walk(p.Elt, a.Elt)
			}
		case *ast.MapType:
			if a, ok := a.(*ast.MapType); ok {
				walk(p.Key, a.Key)
				walk(p.Value, a.Value)
			}
		case *ast.StarExpr:
			if a, ok := a.(*ast.StarExpr); ok {
				walk(p.X, a.X)
			}
		case *ast.ChanType:
			if a, ok := a.(*ast.ChanType); ok {
				walk(p.Value, a.Value)
			}
		case *ast.FuncType:
			if a, ok := a.(*ast.FuncType); ok {
				pairs := func(pl, al *ast.FieldList) {
					ps, as := fieldTypes(pl), fieldTypes(al)
					for i := range min(len(ps), len(as)) {
						walk(ps[i], as[i])
					}
				}
				pairs(p.Params, a.Params)
				pairs(p.Results, a.Results)
			}
		}
	}
	walk(param, arg)
}

// fieldTypes is the type of each parameter or result a field list declares.
func fieldTypes(fl *ast.FieldList) []ast.Expr {
	if fl == nil {
		return nil
	}
	var out []ast.Expr
	for _, f := range fl.List {
		for range max(len(f.Names), 1) {
			out = append(out, f.Type)
		}
	}
	return out
}

// mentions reports whether e names one of the type parameters.
func mentions(e ast.Expr, typeParams map[string]bool) bool {
	for tp := range typeParams {
		if mentionsName(e, tp) {
			return true
		}
	}
	return false
}

func mentionsName(e ast.Expr, name string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

// importPath is the import path of the package a cell calls name, or "".
func (r *rewriter) importPath(name string) string {
	if p, ok := r.p.Imports[name]; ok {
		return p
	}
	if p, ok := r.s.Imports[name]; ok {
		return p
	}
	if _, declared := r.s.names[name]; !declared {
		return r.s.Packages[name]
	}
	return ""
}

// elemType is the element type of a slice or array type, or "".
func elemType(t string) string {
	e, err := parser.ParseExpr(t)
	if err != nil {
		return ""
	}
	if a, ok := e.(*ast.ArrayType); ok {
		return t[a.Elt.Pos()-e.Pos() : a.Elt.End()-e.Pos()]
	}
	return ""
}

// typeOf is the type of e as Go source, as far as its syntax and the session's
// variables tell, or "". Untyped constants have their default type.
func (r *rewriter) typeOf(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.CompositeLit:
		if x.Type != nil {
			return r.cellText(x.Type)
		}
	case *ast.FuncLit:
		return r.cellText(x.Type)
	case *ast.SelectorExpr:
		if pkg, ok := x.X.(*ast.Ident); ok && pkg.Obj == nil && !r.cellNames[pkg.Name] && r.s.PkgType != nil {
			if path := r.importPath(pkg.Name); path != "" {
				return r.s.PkgType(path, x.Sel.Name)
			}
		}
		return ""
	case *ast.ParenExpr:
		return r.typeOf(x.X)
	case *ast.BasicLit:
		switch x.Kind {
		case token.CHAR:
			return "rune"
		}
	case *ast.SliceExpr:
		if t := r.typeOf(x.X); strings.HasPrefix(t, "[]") || t == "string" {
			return t
		}
	case *ast.IndexExpr:
		t := r.typeOf(x.X)
		if el := elemType(t); el != "" {
			return el
		}
		if m, err := parser.ParseExpr(t); err == nil {
			if m, ok := m.(*ast.MapType); ok {
				return t[m.Value.Pos()-m.Pos() : m.Value.End()-m.Pos()]
			}
		}
		return ""
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && id.Obj == nil && !r.cellNames[id.Name] {
			switch id.Name {
			case "make":
				if len(x.Args) > 0 {
					return r.cellText(x.Args[0])
				}
			case "append":
				if len(x.Args) > 0 {
					return r.typeOf(x.Args[0])
				}
			}
		}
		if t, generic := r.genericResult(x); generic {
			return t
		}
		if at, ok := x.Fun.(*ast.ArrayType); ok { // a conversion: []int(v)
			return r.cellText(at)
		}
	case *ast.Ident:
		switch x.Name {
		case "true", "false":
			if x.Obj == nil {
				return "bool"
			}
		}
		if x.Obj != nil {
			switch typ, value := definition(x); {
			case typ != nil:
				return r.cellText(typ)
			case value != nil:
				return r.typeOf(value)
			}
			return ""
		}
		if t, ok := r.p.varTypes[x.Name]; ok { // declared by this cell's declarations
			return t
		}
		if t, ok := r.s.varTypes[x.Name]; ok {
			return t
		}
		if r.s.TypeOf != nil {
			return r.s.TypeOf(x.Name)
		}
		return ""
	}
	// Numeric expressions and min/max: what exprType knows, with defaults.
	return defaultType(r.exprType(e))
}

// cellText is the cell's text of a node of the half being rewritten, with the
// cell's type renames applied.
func (r *rewriter) cellText(n ast.Node) string {
	return r.renamed(r.src[r.off(n.Pos())-r.prefix : r.off(n.End())-r.prefix])
}

// defaultType is the type an untyped constant of exprType's kind t gets in a
// variable; other types are themselves.
func defaultType(t string) string {
	switch t {
	case "untyped int":
		return "int"
	case "untyped float":
		return "float64"
	}
	return t
}

// rangeIter rewrites a range over an iterator of the standard packages, which
// yaegi cannot range over (a func), as the plain range it stands for:
// `for k := range maps.Keys(m)` as `for k := range m`, maps.Values and
// slices.Values with a blank key, maps.All and slices.All as they are, and
// slices.Backward over a variable as a counting-down loop. It reports false for
// any other range.
func (r *rewriter) rangeIter(rs *ast.RangeStmt, in string) ([]edit, bool) {
	call, ok := rs.X.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 || call.Ellipsis.IsValid() {
		return nil, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil, false
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok || x.Obj != nil || r.cellNames[x.Name] {
		return nil, false
	}
	arg := call.Args[0]
	unwrap := []edit{ // keep the argument, with whatever edits it has
		{pos: r.off(call.Pos()), end: r.off(arg.Pos())},
		{pos: r.off(arg.End()), end: r.off(call.End())},
	}
	switch r.importPath(x.Name) + "." + sel.Sel.Name {
	case "maps.Keys", "maps.All", "slices.All":
		return unwrap, true
	case "maps.Values", "slices.Values":
		if rs.Key != nil {
			unwrap = append(unwrap, edit{pos: r.off(rs.Key.Pos()), end: r.off(rs.Key.Pos()), text: "_, "})
		}
		return unwrap, true
	case "slices.Backward":
		s, ok := arg.(*ast.Ident)
		if !ok || rs.Tok != token.DEFINE {
			return nil, false
		}
		i := "goinvI" + strconv.Itoa(r.rangeN)
		r.rangeN++
		if k, ok := rs.Key.(*ast.Ident); ok && k.Name != "_" {
			i = k.Name
		}
		head := "for " + i + " := len(" + s.Name + ") - 1; " + i + " >= 0; " + i + "-- {"
		if v, ok := rs.Value.(*ast.Ident); ok && v.Name != "_" {
			head += " " + v.Name + " := " + s.Name + "[" + i + "];"
		}
		return []edit{{pos: r.off(rs.For), end: r.off(rs.Body.Lbrace) + 1, text: head}}, true
	}
	return nil, false
}
