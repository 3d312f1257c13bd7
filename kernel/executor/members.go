package executor

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/scanner"
	"go/token"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goinv/goinv/kernel/cell"
)

// Types of expressions, for completion and inspection.
//
// Completing `ps[0].` or inspecting `cfg.Epochs` needs the type of an expression
// the session has not run, and must not run it (it may train a model). So the
// executor types expressions statically: the names a cell declared from the
// cells' source (see cell/decls.go: reflect knows interpreted types without
// their names, methods or unexported field names), and what reflect knows for
// everything compiled (the toolkit, the standard library) and for a variable
// whose declaration says nothing more.

// staticType is the type of an expression: a type as written in the session's
// cells (src, resolved among their declarations), or one reflect describes (rt).
type staticType struct {
	src ast.Expr
	rt  reflect.Type
}

func (t staticType) known() bool { return t.src != nil || t.rt != nil }

// member is a field or method of a type.
type member struct {
	name     string
	method   bool
	promoted bool       // a field or method of an embedded field
	typ      staticType // a field's type; a method's func type
	// field gets the field from a value of the type (nil for methods).
	field func(reflect.Value) (reflect.Value, bool)
	// about returns the member's declaration and doc comment, for inspection.
	about func() (decl, doc string)
}

// typer types expressions of a session, for one request.
type typer struct {
	s       *session
	locals  map[string]cell.LocalVar // the cell being edited: its variables visible at the cursor
	cellSc  *cell.Scope              // and its types and funcs
	globals map[string]reflect.Value
	busy    map[string]bool // variables being typed: `x := x.Next()` in a later cell refers to the earlier x
	depth   int
}

func (s *session) typer() *typer {
	return &typer{s: s, globals: s.globals(), busy: map[string]bool{}}
}

// typerAt returns a typer that also knows the variables of code, the cell being
// edited, visible at byte offset at.
func (s *session) typerAt(code string, at int) *typer {
	ty := s.typer()
	if len(code) <= maxLocalsCell {
		if sc := cell.Locals(code, at); sc != nil {
			ty.locals, ty.cellSc = sc.Vars, sc
		}
	}
	return ty
}

// typeSpec returns the declaration of a type of the cell being edited or of the
// session, or nil.
func (ty *typer) typeSpec(name string) *ast.TypeSpec {
	if ty.cellSc != nil {
		if ts := ty.cellSc.Types[name]; ts != nil {
			return ts
		}
	}
	return ty.s.pre.TypeSpec(name)
}

// methodDecls returns the methods of a type of the cell being edited or of the
// session (a type the cell declares again has the cell's methods alone).
func (ty *typer) methodDecls(name string) map[string]*ast.FuncDecl {
	if ty.cellSc == nil || ty.cellSc.Methods[name] == nil && ty.cellSc.Types[name] == nil {
		return ty.s.pre.MethodDecls(name)
	}
	ms := map[string]*ast.FuncDecl{}
	if ty.cellSc.Types[name] == nil {
		for k, d := range ty.s.pre.MethodDecls(name) {
			ms[k] = d
		}
	}
	for k, d := range ty.cellSc.Methods[name] {
		ms[k] = d
	}
	return ms
}

// funcDecl returns the declaration of a func of the cell being edited or of the
// session, or nil.
func (ty *typer) funcDecl(name string) *ast.FuncDecl {
	if ty.cellSc != nil {
		if d := ty.cellSc.Funcs[name]; d != nil {
			return d
		}
	}
	if ty.s.pre.Names()[name] == "func" {
		return ty.s.pre.FuncDecl(name)
	}
	return nil
}

// maxLocalsCell bounds the cells whose own variables completion looks for: it
// parses the cell at every request.
const maxLocalsCell = 1 << 16

// maxDepth bounds the recursion of typing (a type that embeds itself through a
// pointer, a chain of variables).
const maxDepth = 40

var predeclaredTypes = map[string]reflect.Type{
	"bool": reflect.TypeOf(false), "string": reflect.TypeOf(""), "error": reflect.TypeOf((*error)(nil)).Elem(),
	"any": reflect.TypeOf((*any)(nil)).Elem(), "int": reflect.TypeOf(0), "int8": reflect.TypeOf(int8(0)),
	"int16": reflect.TypeOf(int16(0)), "int32": reflect.TypeOf(int32(0)), "rune": reflect.TypeOf(rune(0)),
	"int64": reflect.TypeOf(int64(0)), "uint": reflect.TypeOf(uint(0)), "uint8": reflect.TypeOf(uint8(0)),
	"byte": reflect.TypeOf(byte(0)), "uint16": reflect.TypeOf(uint16(0)), "uint32": reflect.TypeOf(uint32(0)),
	"uint64": reflect.TypeOf(uint64(0)), "uintptr": reflect.TypeOf(uintptr(0)), "float32": reflect.TypeOf(float32(0)),
	"float64": reflect.TypeOf(0.0), "complex64": reflect.TypeOf(complex64(0)), "complex128": reflect.TypeOf(0i),
}

// declared reports whether a cell declared name (which then hides a predeclared
// name or a package of that name).
func (ty *typer) declared(name string) bool {
	if _, ok := ty.s.pre.Names()[name]; ok {
		return true
	}
	if ty.cellSc != nil {
		_, v := ty.cellSc.Vars[name]
		return v || ty.cellSc.Types[name] != nil || ty.cellSc.Funcs[name] != nil
	}
	return false
}

// packageOf returns the import path of a package name, if e is one (and no
// variable of the cell hides it).
func (ty *typer) packageOf(e ast.Expr) (string, bool) {
	if id, ok := e.(*ast.Ident); ok {
		if _, local := ty.locals[id.Name]; local {
			return "", false
		}
	}
	return ty.s.packageOf(e)
}

// typeText writes a type as Go source.
func (ty *typer) typeText(t staticType) string {
	if t.src != nil {
		return nodeText(t.src)
	}
	return t.rt.String()
}

// typeExpr resolves a type as written in a cell.
func (ty *typer) typeExpr(e ast.Expr) staticType {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return ty.typeExpr(x.X)
	case *ast.Ident:
		if ty.typeSpec(x.Name) != nil {
			return staticType{src: x}
		}
		if rt, ok := predeclaredTypes[x.Name]; ok && !ty.declared(x.Name) {
			return staticType{rt: rt}
		}
	case *ast.SelectorExpr:
		if p, ok := ty.packageOf(x.X); ok {
			if v, ok := packageSymbols()[p][x.Sel.Name]; ok && v.Kind() == reflect.Pointer && v.IsNil() {
				return staticType{rt: v.Type().Elem()}
			}
		}
	case *ast.StarExpr:
		return ty.pointerTo(ty.typeExpr(x.X))
	case *ast.IndexExpr: // an instance of a generic type
		return ty.typeExpr(x.X)
	case *ast.IndexListExpr:
		return ty.typeExpr(x.X)
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.StructType, *ast.InterfaceType:
		return staticType{src: e}
	}
	return staticType{}
}

func (ty *typer) pointerTo(t staticType) staticType {
	switch {
	case t.rt != nil:
		return staticType{rt: reflect.PointerTo(t.rt)}
	case t.src != nil:
		return staticType{src: &ast.StarExpr{X: t.src}}
	}
	return t
}

// sessionType returns the name of the cell type t is, or "".
func (ty *typer) sessionType(t staticType) string {
	if id, ok := t.src.(*ast.Ident); ok && ty.typeSpec(id.Name) != nil {
		return id.Name
	}
	return ""
}

// underlying returns the type a cell type is declared as (for `type P struct{...}`,
// the struct).
func (ty *typer) underlying(t staticType) staticType {
	for i := 0; i < 10; i++ {
		name := ty.sessionType(t)
		if name == "" {
			return t
		}
		t = ty.typeExpr(ty.typeSpec(name).Type)
	}
	return staticType{}
}

// deref returns the type a pointer type points to; ok is false for other types.
func (ty *typer) deref(t staticType) (staticType, bool) {
	u := ty.underlying(t)
	if u.rt != nil && u.rt.Kind() == reflect.Pointer {
		return staticType{rt: u.rt.Elem()}, true
	}
	if st, ok := u.src.(*ast.StarExpr); ok {
		return ty.typeExpr(st.X), true
	}
	return t, false
}

// elem returns the type of an element of t (t[i]).
func (ty *typer) elem(t staticType) staticType {
	if p, ok := ty.deref(t); ok { // a pointer to an array
		t = p
	}
	u := ty.underlying(t)
	if u.rt != nil {
		switch u.rt.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			return staticType{rt: u.rt.Elem()}
		case reflect.String:
			return staticType{rt: predeclaredTypes["byte"]}
		}
		return staticType{}
	}
	switch x := u.src.(type) {
	case *ast.ArrayType:
		return ty.typeExpr(x.Elt)
	case *ast.MapType:
		return ty.typeExpr(x.Value)
	}
	return staticType{}
}

// key returns the type of the keys of a map type, or int for the indexes of
// other types.
func (ty *typer) key(t staticType) staticType {
	u := ty.underlying(t)
	if u.rt != nil && u.rt.Kind() == reflect.Map {
		return staticType{rt: u.rt.Key()}
	}
	if m, ok := u.src.(*ast.MapType); ok {
		return ty.typeExpr(m.Key)
	}
	return staticType{rt: predeclaredTypes["int"]}
}

// result returns the type of result i of a func type.
func (ty *typer) result(t staticType, i int) staticType {
	u := ty.underlying(t)
	if u.rt != nil {
		if u.rt.Kind() == reflect.Func && i < u.rt.NumOut() {
			return staticType{rt: u.rt.Out(i)}
		}
		return staticType{}
	}
	ft, ok := u.src.(*ast.FuncType)
	if !ok || ft.Results == nil {
		return staticType{}
	}
	n := 0
	for _, f := range ft.Results.List {
		k := max(len(f.Names), 1)
		if i < n+k {
			return ty.typeExpr(f.Type)
		}
		n += k
	}
	return staticType{}
}

// exprType returns the type of an expression, without evaluating it.
func (ty *typer) exprType(e ast.Expr) staticType {
	ty.depth++
	defer func() { ty.depth-- }()
	if ty.depth > maxDepth {
		return staticType{}
	}
	switch x := e.(type) {
	case *ast.ParenExpr:
		return ty.exprType(x.X)
	case *ast.Ident:
		return ty.identType(x.Name)
	case *ast.BasicLit:
		switch x.Kind {
		case token.INT:
			return staticType{rt: predeclaredTypes["int"]}
		case token.FLOAT:
			return staticType{rt: predeclaredTypes["float64"]}
		case token.IMAG:
			return staticType{rt: predeclaredTypes["complex128"]}
		case token.CHAR:
			return staticType{rt: predeclaredTypes["rune"]}
		case token.STRING:
			return staticType{rt: predeclaredTypes["string"]}
		}
	case *ast.CompositeLit:
		if x.Type != nil {
			return ty.typeExpr(x.Type)
		}
	case *ast.FuncLit:
		return staticType{src: x.Type}
	case *ast.SelectorExpr:
		if p, ok := ty.packageOf(x.X); ok {
			if v, ok := packageSymbols()[p][x.Sel.Name]; ok && !(v.Kind() == reflect.Pointer && v.IsNil()) {
				return staticType{rt: v.Type()}
			}
			return staticType{}
		}
		if m, ok := ty.member(ty.exprType(x.X), x.Sel.Name); ok {
			return m.typ
		}
	case *ast.IndexExpr:
		return ty.elem(ty.exprType(x.X))
	case *ast.SliceExpr:
		return ty.exprType(x.X)
	case *ast.StarExpr:
		t, _ := ty.deref(ty.exprType(x.X))
		return t
	case *ast.UnaryExpr:
		if x.Op == token.AND {
			return ty.pointerTo(ty.exprType(x.X))
		}
		if x.Op != token.ARROW {
			return ty.exprType(x.X)
		}
		u := ty.underlying(ty.exprType(x.X)) // a receive: the channel's element
		if u.rt != nil && u.rt.Kind() == reflect.Chan {
			return staticType{rt: u.rt.Elem()}
		}
		if ch, ok := u.src.(*ast.ChanType); ok {
			return ty.typeExpr(ch.Value)
		}
	case *ast.BinaryExpr:
		switch x.Op {
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ, token.LAND, token.LOR:
			return staticType{rt: predeclaredTypes["bool"]}
		}
		if t := ty.exprType(x.X); t.known() {
			return t
		}
		return ty.exprType(x.Y)
	case *ast.TypeAssertExpr:
		if x.Type != nil {
			return ty.typeExpr(x.Type)
		}
	case *ast.CallExpr:
		return ty.callType(x, 0)
	}
	return staticType{}
}

// callType returns the type of result i of a call (or of a conversion).
func (ty *typer) callType(call *ast.CallExpr, i int) staticType {
	fun := ast.Unparen(call.Fun)
	if id, ok := fun.(*ast.Ident); ok && !ty.declared(id.Name) && len(call.Args) > 0 {
		switch id.Name {
		case "new":
			return ty.pointerTo(ty.typeExpr(call.Args[0]))
		case "make":
			return ty.typeExpr(call.Args[0])
		case "append", "min", "max":
			return ty.exprType(call.Args[0])
		case "len", "cap", "copy":
			return staticType{rt: predeclaredTypes["int"]}
		}
	}
	if i == 0 && ty.isType(fun) {
		return ty.typeExpr(fun)
	}
	return ty.result(ty.exprType(fun), i)
}

// isType reports whether an expression names a type (the callee of a conversion).
func (ty *typer) isType(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		if ty.typeSpec(x.Name) != nil {
			return true
		}
		_, basic := predeclaredTypes[x.Name]
		return basic && !ty.declared(x.Name)
	case *ast.SelectorExpr:
		p, ok := ty.packageOf(x.X)
		if !ok {
			return false
		}
		v, ok := packageSymbols()[p][x.Sel.Name]
		return ok && v.Kind() == reflect.Pointer && v.IsNil()
	case *ast.StarExpr:
		return ty.isType(ast.Unparen(x.X))
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.InterfaceType, *ast.StructType:
		return true
	}
	return false
}

// identType returns the type of a name used as a value: a variable of the cell
// being edited, or a name of the session.
func (ty *typer) identType(name string) staticType {
	if l, ok := ty.locals[name]; ok && !ty.busy["local "+name] {
		ty.busy["local "+name] = true // in `p := p.Inner`, the p on the right is the one before
		defer delete(ty.busy, "local "+name)
		if l.RangeOf == nil {
			return ty.defType(l.VarDef)
		}
		x := ty.exprType(l.RangeOf)
		if p, ok := ty.deref(x); ok { // a pointer to an array
			x = p
		}
		u := ty.underlying(x)
		if l.Key {
			return ty.key(u)
		}
		if u.rt != nil && u.rt.Kind() == reflect.String {
			return staticType{rt: predeclaredTypes["rune"]}
		}
		return ty.elem(u)
	}
	if d := ty.funcDecl(name); d != nil {
		return staticType{src: d.Type}
	}
	switch ty.s.pre.Names()[name] {
	case "var":
		var t staticType
		if def, ok := ty.s.pre.VarDef(name); ok && !ty.busy[name] {
			ty.busy[name] = true
			t = ty.defType(def)
			delete(ty.busy, name)
		}
		// What reflect knows of a variable is exact unless the cells declared its
		// type (then reflect has lost its name and methods), and that type is still
		// the variable's: a cell that declares it again makes a new type.
		if v, ok := ty.globals[name]; ok && v.IsValid() && (t.src == nil || !ty.fits(t, v.Type(), 0)) {
			return staticType{rt: v.Type()}
		}
		return t
	}
	if v, ok := ty.globals[name]; ok && v.IsValid() {
		return staticType{rt: v.Type()}
	}
	return staticType{}
}

// fits reports whether rt, the reflect type yaegi made for a type t of the cells,
// has t's shape: pointers, slices, maps and struct fields of the same names.
func (ty *typer) fits(t staticType, rt reflect.Type, depth int) bool {
	if depth > 5 || t.rt != nil {
		return true
	}
	if p, ok := ty.deref(t); ok {
		return rt.Kind() == reflect.Pointer && ty.fits(p, rt.Elem(), depth+1)
	}
	u := ty.underlying(t)
	if u.rt != nil {
		return u.rt.Kind() == rt.Kind()
	}
	switch x := u.src.(type) {
	case *ast.ArrayType:
		return (rt.Kind() == reflect.Slice || rt.Kind() == reflect.Array) && ty.fits(ty.typeExpr(x.Elt), rt.Elem(), depth+1)
	case *ast.MapType:
		return rt.Kind() == reflect.Map && ty.fits(ty.typeExpr(x.Value), rt.Elem(), depth+1)
	case *ast.StructType:
		if rt.Kind() != reflect.Struct {
			return false
		}
		i := 0
		for _, f := range x.Fields.List {
			names := []string{embeddedName(f.Type)}
			if len(f.Names) > 0 {
				names = names[:0]
				for _, nm := range f.Names {
					names = append(names, nm.Name)
				}
			}
			for _, n := range names {
				if !token.IsExported(n) {
					n = "X" + n
				}
				if i >= rt.NumField() || rt.Field(i).Name != n {
					return false
				}
				i++
			}
		}
		return i == rt.NumField()
	}
	return true
}

// defType returns the type a variable declaration gives.
func (ty *typer) defType(d cell.VarDef) staticType {
	if d.Type != nil {
		return ty.typeExpr(d.Type)
	}
	v := ast.Unparen(d.Value)
	if d.Index == 0 {
		if c, ok := v.(*ast.CallExpr); ok {
			return ty.callType(c, 0)
		}
		return ty.exprType(v)
	}
	switch x := v.(type) {
	case *ast.CallExpr:
		return ty.callType(x, d.Index)
	case *ast.IndexExpr, *ast.TypeAssertExpr, *ast.UnaryExpr: // v, ok := ...
		if d.Index == 1 {
			return staticType{rt: predeclaredTypes["bool"]}
		}
	}
	return staticType{}
}

// member returns the field or method name of t.
func (ty *typer) member(t staticType, name string) (member, bool) {
	for _, m := range ty.members(t) {
		if m.name == name {
			return m, true
		}
	}
	return member{}, false
}

// members lists the fields (promoted ones too) and methods of t, or of what t
// points to.
func (ty *typer) members(t staticType) []member {
	return ty.membersDepth(t, 0)
}

func (ty *typer) membersDepth(t staticType, depth int) []member {
	if depth > 4 {
		return nil
	}
	if p, ok := ty.deref(t); ok {
		t = p
	}
	var out []member
	if name := ty.sessionType(t); name != "" {
		for mname, d := range ty.methodDecls(name) {
			out = append(out, ty.cellMethod(mname, d))
		}
		u := ty.underlying(t)
		if u.rt != nil && u.rt.Kind() != reflect.Interface {
			// `type D dataset.Dataset` has the fields of Dataset, not its methods.
			for _, m := range ty.rtMembers(u.rt) {
				if !m.method {
					out = append(out, m)
				}
			}
			return out
		}
		return append(out, ty.membersDepth(u, depth)...)
	}
	switch x := t.src.(type) {
	case *ast.StructType:
		return ty.structFields(x, depth)
	case *ast.InterfaceType:
		for _, f := range x.Methods.List {
			for _, nm := range f.Names {
				ft, _ := f.Type.(*ast.FuncType)
				out = append(out, member{name: nm.Name, method: true, typ: staticType{src: ft}, about: func() (string, string) {
					return "func " + nm.Name + strings.TrimPrefix(nodeText(ft), "func"), cell.FirstComment(f.Doc, f.Comment)
				}})
			}
			if len(f.Names) == 0 { // an embedded interface
				out = append(out, ty.membersDepth(ty.typeExpr(f.Type), depth+1)...)
			}
		}
		return out
	}
	if t.rt != nil {
		return ty.rtMembers(t.rt)
	}
	return nil
}

// cellMethod describes a method declared in a cell.
func (ty *typer) cellMethod(name string, d *ast.FuncDecl) member {
	return member{name: name, method: true, typ: staticType{src: d.Type}, about: func() (string, string) {
		return ty.s.pre.Unmangle(nodeText(d)), cell.FirstComment(d.Doc)
	}}
}

// structFields lists the fields of a struct type written in a cell, with the
// fields and methods its embedded fields promote (unless a shallower one has the
// name).
func (ty *typer) structFields(st *ast.StructType, depth int) []member {
	var out, promoted []member
	for _, f := range st.Fields.List {
		ft := ty.typeExpr(f.Type)
		names := make([]string, 0, len(f.Names))
		for _, nm := range f.Names {
			names = append(names, nm.Name)
		}
		embedded := len(names) == 0
		if embedded {
			names = []string{embeddedName(f.Type)}
		}
		for _, name := range names {
			if name == "" || name == "_" {
				continue
			}
			rname := name
			if !token.IsExported(name) {
				rname = "X" + name // yaegi's reflect name of an unexported field
			}
			get := func(v reflect.Value) (reflect.Value, bool) {
				v, ok := indirect(v)
				if !ok || v.Kind() != reflect.Struct {
					return reflect.Value{}, false
				}
				fv := v.FieldByName(rname)
				return fv, fv.IsValid()
			}
			out = append(out, member{name: name, typ: ft, field: get, about: func() (string, string) {
				return "field " + name + " " + nodeText(f.Type), cell.FirstComment(f.Doc, f.Comment)
			}})
			if embedded {
				for _, m := range ty.membersDepth(ft, depth+1) {
					m.promoted = true
					if m.field != nil {
						inner := m.field
						m.field = func(v reflect.Value) (reflect.Value, bool) {
							if e, ok := get(v); ok {
								return inner(e)
							}
							return reflect.Value{}, false
						}
					}
					promoted = append(promoted, m)
				}
			}
		}
	}
	have := map[string]bool{}
	for _, m := range out {
		have[m.name] = true
	}
	for _, m := range promoted {
		if !have[m.name] {
			have[m.name] = true
			out = append(out, m)
		}
	}
	return out
}

// embeddedName returns the field name of an embedded type: T for T, *T, pkg.T and
// T[int].
func embeddedName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return embeddedName(x.X)
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.IndexExpr:
		return embeddedName(x.X)
	case *ast.IndexListExpr:
		return embeddedName(x.X)
	}
	return ""
}

// rtMembers lists the exported fields (promoted ones too) and methods of a type
// reflect knows, with the methods of its pointer type.
func (ty *typer) rtMembers(rt reflect.Type) []member {
	var out []member
	seen := map[string]bool{}
	sets := []reflect.Type{rt}
	if rt.Kind() != reflect.Interface && rt.Kind() != reflect.Pointer {
		sets = append(sets, reflect.PointerTo(rt))
	}
	for _, mt := range sets {
		for i := 0; i < mt.NumMethod(); i++ {
			m := mt.Method(i)
			if seen[m.Name] {
				continue
			}
			seen[m.Name] = true
			ftype := m.Type
			if rt.Kind() != reflect.Interface {
				ftype = methodFuncType(m.Type)
			}
			recv := mt
			out = append(out, member{name: m.Name, method: true, typ: staticType{rt: ftype}, about: func() (string, string) {
				if decl, doc := rtMethodDoc(rt, m.Name); decl != "" {
					return decl, doc
				}
				return fmt.Sprintf("method %s.%s %s", recv, m.Name, strings.TrimPrefix(ftype.String(), "func")), ""
			}})
		}
	}
	if rt.Kind() != reflect.Struct {
		return out
	}
	interpreted := rt.Name() == "" // a struct type of the cells, as yaegi made it
	for _, f := range reflect.VisibleFields(rt) {
		if !f.IsExported() || seen[f.Name] {
			continue
		}
		seen[f.Name] = true
		name := f.Name
		if interpreted && len(name) > 1 && name[0] == 'X' && !token.IsExported(name[1:]) {
			name = name[1:] // yaegi's name of an unexported field
		}
		out = append(out, member{name: name, typ: staticType{rt: f.Type}, promoted: len(f.Index) > 1,
			field: func(v reflect.Value) (reflect.Value, bool) {
				v, ok := indirect(v)
				if !ok || v.Type() != rt {
					return reflect.Value{}, false
				}
				fv, err := v.FieldByIndexErr(f.Index)
				return fv, err == nil
			},
			about: func() (string, string) {
				return fmt.Sprintf("field %s %s", name, f.Type), rtFieldDoc(rt, f)
			}})
	}
	return out
}

// methodFuncType returns a method's func type without its receiver.
func methodFuncType(t reflect.Type) reflect.Type {
	in := make([]reflect.Type, 0, t.NumIn())
	for i := 1; i < t.NumIn(); i++ {
		in = append(in, t.In(i))
	}
	out := make([]reflect.Type, 0, t.NumOut())
	for i := 0; i < t.NumOut(); i++ {
		out = append(out, t.Out(i))
	}
	return reflect.FuncOf(in, out, t.IsVariadic())
}

// indirect follows pointers and interfaces to a value; ok is false at a nil.
func indirect(v reflect.Value) (reflect.Value, bool) {
	for i := 0; i < 10 && v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface); i++ {
		if v.IsNil() {
			return reflect.Value{}, false
		}
		v = v.Elem()
	}
	return v, v.IsValid()
}

// rtMethodDoc returns the declaration and doc comment of a method of a compiled
// type, looking in the types it embeds for a promoted one.
func rtMethodDoc(rt reflect.Type, name string) (decl, doc string) {
	for i := 0; i < 5 && rt != nil; i++ {
		if rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		if rt.Name() != "" && rt.PkgPath() != "" {
			if decl, doc := docFor(rt.PkgPath(), rt.Name()+"."+name); decl != "" {
				return decl, doc
			}
		}
		if rt.Kind() != reflect.Struct {
			return "", ""
		}
		var next reflect.Type
		for j := 0; j < rt.NumField() && next == nil; j++ {
			f := rt.Field(j)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous {
				if _, ok := ft.MethodByName(name); ok {
					next = ft
				} else if _, ok := reflect.PointerTo(ft).MethodByName(name); ok {
					next = ft
				}
			}
		}
		rt = next
	}
	return "", ""
}

// rtFieldDoc returns the doc comment of a field of a compiled struct type, from
// its type's declaration.
func rtFieldDoc(rt reflect.Type, f reflect.StructField) string {
	owner := rt
	if len(f.Index) > 1 {
		owner = rt.FieldByIndex(f.Index[:len(f.Index)-1]).Type
		if owner.Kind() == reflect.Pointer {
			owner = owner.Elem()
		}
	}
	if owner.Name() == "" || owner.PkgPath() == "" {
		return ""
	}
	decl, _ := docFor(owner.PkgPath(), owner.Name())
	if decl == "" {
		return ""
	}
	file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+decl, parser.ParseComments)
	if err != nil {
		return ""
	}
	text := ""
	ast.Inspect(file, func(n ast.Node) bool {
		if fl, ok := n.(*ast.Field); ok {
			for _, nm := range fl.Names {
				if nm.Name == f.Name {
					text = cell.FirstComment(fl.Doc, fl.Comment)
				}
			}
			return false
		}
		return text == ""
	})
	return text
}

// nodeText prints a piece of syntax kept from a cell.
func nodeText(n ast.Node) string {
	var b strings.Builder
	switch d := n.(type) {
	case *ast.FuncDecl:
		c := *d
		c.Doc, c.Body = nil, nil
		n = &c
	case *ast.TypeSpec:
		c := *d
		c.Doc, c.Comment = nil, nil
		n = &c
	}
	(&printer.Config{Mode: printer.UseSpaces, Tabwidth: 4}).Fprint(&b, token.NewFileSet(), n)
	return b.String()
}

// valueOf returns the value of an expression when finding it runs nothing of the
// session: variables, fields, dereferences and indexes by a literal.
func (ty *typer) valueOf(e ast.Expr) (reflect.Value, bool) {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return ty.valueOf(x.X)
	case *ast.Ident:
		if _, local := ty.locals[x.Name]; local {
			return reflect.Value{}, false // not run yet
		}
		if k := ty.s.pre.Names()[x.Name]; k == "var" || k == "const" {
			v, ok := ty.globals[x.Name]
			return v, ok && v.IsValid()
		}
	case *ast.StarExpr:
		if v, ok := ty.valueOf(x.X); ok && v.Kind() == reflect.Pointer && !v.IsNil() {
			return v.Elem(), true
		}
	case *ast.SelectorExpr:
		if _, isPkg := ty.packageOf(x.X); isPkg {
			return reflect.Value{}, false
		}
		m, ok := ty.member(ty.exprType(x.X), x.Sel.Name)
		if !ok || m.field == nil {
			return reflect.Value{}, false
		}
		if v, ok := ty.valueOf(x.X); ok {
			return m.field(v)
		}
	case *ast.IndexExpr:
		lit, ok := x.Index.(*ast.BasicLit)
		if !ok {
			return reflect.Value{}, false
		}
		v, ok := ty.valueOf(x.X)
		if !ok {
			return reflect.Value{}, false
		}
		if v, ok = indirect(v); !ok {
			return reflect.Value{}, false
		}
		switch v.Kind() {
		case reflect.Slice, reflect.Array, reflect.String:
			i, err := strconv.Atoi(lit.Value)
			if err == nil && i >= 0 && i < v.Len() {
				return v.Index(i), true
			}
		case reflect.Map:
			var key reflect.Value
			switch lit.Kind {
			case token.STRING:
				if s, err := strconv.Unquote(lit.Value); err == nil {
					key = reflect.ValueOf(s)
				}
			case token.INT:
				if i, err := strconv.ParseInt(lit.Value, 0, 64); err == nil {
					key = reflect.ValueOf(i)
				}
			}
			if key.IsValid() && key.Type().ConvertibleTo(v.Type().Key()) {
				if mv := v.MapIndex(key.Convert(v.Type().Key())); mv.IsValid() {
					return mv, true
				}
			}
		}
	}
	return reflect.Value{}, false
}

// Finding expressions in a cell being edited.

type scanned struct {
	off int // byte offset in the code
	tok token.Token
}

// scanTokens returns the tokens of code, without the semicolons the scanner adds
// at line ends.
func scanTokens(code string) []scanned {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", -1, len(code))
	sc.Init(file, []byte(code), func(token.Position, string) {}, 0)
	var out []scanned
	for {
		pos, tok, lit := sc.Scan()
		if tok == token.EOF {
			return out
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue
		}
		out = append(out, scanned{off: file.Offset(pos), tok: tok})
	}
}

func closes(t token.Token) bool { return t == token.RPAREN || t == token.RBRACK || t == token.RBRACE }

func opener(t token.Token) token.Token {
	switch t {
	case token.RPAREN:
		return token.LPAREN
	case token.RBRACK:
		return token.LBRACK
	}
	return token.LBRACE
}

// operandStart returns the index of the first token of the primary expression
// (`ps[0]`, `f(x).Field`, `(*p)`, `cfg.Inner`) that ends with toks[last], or -1.
func operandStart(toks []scanned, last int) int {
	i := last
	for i >= 0 {
		start := -1
		switch t := toks[i].tok; {
		case t == token.IDENT:
			start = i
		case closes(t):
			depth := 0
			for j := i; j >= 0; j-- {
				switch {
				case toks[j].tok == t:
					depth++
				case toks[j].tok == opener(t):
					depth--
				}
				if depth == 0 {
					start = j
					break
				}
			}
		}
		if start < 0 {
			return -1
		}
		i = start - 1
		switch {
		case i >= 0 && toks[i].tok == token.PERIOD:
			i--
		case i >= 0 && toks[start].tok != token.IDENT && (toks[i].tok == token.IDENT || closes(toks[i].tok)):
			// a call, an index or a composite literal of what comes before
		default:
			return start
		}
	}
	return -1
}

// parseOperand parses code[start:end] as an expression.
func parseOperand(code string, start, end int) ast.Expr {
	e, err := parser.ParseExpr(code[start:end])
	if err != nil {
		return nil
	}
	return e
}

// operandBefore returns the expression that ends at byte offset end of code (a
// dot follows it) and the offset where it starts, or nil.
func operandBefore(code string, end int) (ast.Expr, int) {
	toks := scanTokens(code[:end])
	if len(toks) == 0 {
		return nil, end
	}
	start := operandStart(toks, len(toks)-1)
	if start < 0 {
		return nil, end
	}
	return parseOperand(code, toks[start].off, end), toks[start].off
}

// memberOperand returns the expression before the dot at byte offset dot of code
// and the offset where it starts, or nil when there is none or the dot is in a
// comment or a string.
func memberOperand(code string, dot int) (ast.Expr, int) {
	toks := scanTokens(code[:dot+1])
	if len(toks) < 2 || toks[len(toks)-1].tok != token.PERIOD || toks[len(toks)-1].off != dot {
		return nil, dot
	}
	start := operandStart(toks, len(toks)-2)
	if start < 0 {
		return nil, dot
	}
	return parseOperand(code, toks[start].off, dot), toks[start].off
}

// unclosed returns the indexes of the tokens that open a group still open at
// the end of toks, innermost last.
func unclosed(toks []scanned) []int {
	var open []int
	for i, t := range toks {
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			open = append(open, i)
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	return open
}

// identEnd returns the end of the identifier that contains or starts at off.
func identEnd(code string, off int) int {
	for off < len(code) {
		r, size := utf8.DecodeRuneInString(code[off:])
		if !isIdentRune(r) {
			break
		}
		off += size
	}
	return off
}
