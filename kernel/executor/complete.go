package executor

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

	"github.com/goinv/goinv/kernel/cell"
	"github.com/goinv/goinv/kernel/ipc"
	"github.com/goinv/goinv/stdlib/symbols"
)

var (
	pkgSymsOnce sync.Once
	pkgSyms     map[string]map[string]reflect.Value // import path → exported symbols
)

var (
	genericMember  = regexp.MustCompile(`(?m)^(func|type) ([A-Z]\w*)`)
	genericPackage = regexp.MustCompile(`^package (\w+)`)
)

// packageSymbols returns the symbols of every package a session can import, by path.
func packageSymbols() map[string]map[string]reflect.Value {
	pkgSymsOnce.Do(func() {
		pkgSyms = map[string]map[string]reflect.Value{}
		for _, tab := range []map[string]map[string]reflect.Value{stdlib.Symbols, unrestricted.Symbols, symbols.Symbols} {
			for key, syms := range tab {
				p := path.Dir(key)
				m := pkgSyms[p]
				if m == nil {
					m = map[string]reflect.Value{}
					pkgSyms[p] = m
				}
				for name, v := range syms {
					if token.IsExported(name) {
						m[name] = v
					}
				}
			}
		}
		// The generic packages are sources (see generics.go), not symbols: their
		// members stand in as a func value or a nil pointer (a type), for the
		// kind; signatures and docs come from the index.
		for _, src := range genericSources {
			m := map[string]reflect.Value{}
			for _, d := range genericMember.FindAllStringSubmatch(src, -1) {
				if d[1] == "func" {
					m[d[2]] = reflect.ValueOf(func() {})
				} else {
					m[d[2]] = reflect.ValueOf((*any)(nil))
				}
			}
			if p := genericPackage.FindStringSubmatch(stripComments(src)); p != nil {
				pkgSyms[p[1]] = m
			}
		}
	})
	return pkgSyms
}

var builtins = []string{"append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len", "make",
	"max", "min", "new", "panic", "print", "println", "real", "recover",
	"bool", "byte", "complex64", "complex128", "error", "float32", "float64", "int", "int8", "int16",
	"int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "any",
	"true", "false", "iota", "nil"}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// byteOffset converts a cursor in code points to a byte offset.
func byteOffset(code string, cursor int) int {
	if cursor < 0 {
		return 0
	}
	i := 0
	for n := 0; n < cursor && i < len(code); n++ {
		_, size := utf8.DecodeRuneInString(code[i:])
		i += size
	}
	return i
}

func runeCount(s string) int { return utf8.RuneCountInString(s) }

// wordBefore returns the start of the identifier that ends at off.
func wordBefore(code string, off int) int {
	start := off
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) {
			break
		}
		start -= size
	}
	return start
}

// packagePath resolves a package name as the session knows it.
func (s *session) packagePath(name string) (string, bool) {
	if p, ok := s.pre.Imports[name]; ok {
		return p, true
	}
	if _, declared := s.pre.Names()[name]; declared {
		return "", false
	}
	p, ok := s.pkgs[name]
	return p, ok
}

func (s *session) complete(code string, cursor int) map[string]any {
	off := byteOffset(code, cursor)
	if r, ok := completeMagic(code, off); ok {
		return r
	}
	start := wordBefore(code, off)
	prefix := code[start:off]
	cands := []string{} // a list even when empty: frontends index it
	seen := map[string]bool{}
	kinds := map[string]string{}
	addKind := func(name, kind string) {
		// "_" and "." (blank and dot imports) are no names a user can type.
		if strings.HasPrefix(name, prefix) && !seen[name] && isIdent(name) && name != "_" &&
			!strings.HasPrefix(name, "goinv") && !strings.Contains(name, "ʹ") {
			seen[name] = true
			cands = append(cands, name)
			kinds[name] = kind
		}
	}
	add := func(name string) { addKind(name, "") }
	fields := []string{} // the field names of a composite literal, listed first
	if start > 0 && code[start-1] == '.' {
		x, xs := memberOperand(code, start-1)
		ty := s.typer()
		if root := rootName(x); root != "" && mentions(code[:xs], root) {
			ty = s.typerAt(code, xs) // the cell may declare it
		}
		if p, ok := ty.packageOf(x); ok {
			for name, v := range packageSymbols()[p] {
				addKind(name, symbolKind(v))
			}
		} else if x != nil {
			for _, m := range ty.members(ty.exprType(x)) {
				addKind(m.name, memberKind(m))
			}
		}
	} else {
		for _, m := range s.literalFields(code, start) {
			addKind(m.name, "field")
		}
		fields = cands
		cands = []string{}
		if sc := cell.Locals(code, start); sc != nil {
			for name := range sc.Vars {
				addKind(name, "variable")
			}
			for name := range sc.Types {
				addKind(name, "class")
			}
			for name := range sc.Funcs {
				addKind(name, "function")
			}
		}
		for _, kw := range goKeywords() {
			addKind(kw, "keyword")
		}
		for _, b := range builtins {
			addKind(b, "builtin")
		}
		for name, kind := range s.pre.Names() {
			addKind(name, map[string]string{"func": "function", "type": "class", "var": "variable", "const": "constant"}[kind])
		}
		for name := range s.globals() {
			add(name)
		}
		for name := range s.pre.Imports {
			addKind(name, "module")
		}
		for name := range s.pkgs {
			addKind(name, "module")
		}
	}
	sort.Strings(fields)
	sort.Strings(cands)
	cands = append(fields, cands...)
	cs, ce := runeCount(code[:start]), runeCount(code[:off])
	types := make([]any, 0, len(cands))
	for _, c := range cands {
		k := kinds[c]
		if k == "" {
			k = "variable"
		}
		types = append(types, map[string]any{"start": cs, "end": ce, "text": c, "type": k})
	}
	return map[string]any{"status": "ok", "matches": cands, "cursor_start": cs, "cursor_end": ce,
		"metadata": map[string]any{"_jupyter_types_experimental": types}}
}

// rootName returns the name an expression starts from (`ps` in `ps[0].Inner`).
func rootName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.CallExpr:
			e = x.Fun
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.UnaryExpr:
			e = x.X
		case *ast.TypeAssertExpr:
			e = x.X
		case *ast.SliceExpr:
			e = x.X
		default:
			return ""
		}
	}
}

// mentions reports whether name occurs in code as a whole word.
func mentions(code, name string) bool {
	for i := 0; ; {
		j := strings.Index(code[i:], name)
		if j < 0 {
			return false
		}
		a, b := i+j, i+j+len(name)
		before, _ := utf8.DecodeLastRuneInString(code[:a])
		after, _ := utf8.DecodeRuneInString(code[b:])
		if (a == 0 || !isIdentRune(before)) && (b == len(code) || !isIdentRune(after)) {
			return true
		}
		i = b
	}
}

func memberKind(m member) string {
	if m.method {
		return "method"
	}
	return "field"
}

// literalFields returns the fields that can be keys where a composite literal of
// a struct type has a key at byte offset at (`P{Na`, `train.Config{Epochs: 3, Ba`),
// or nil.
func (s *session) literalFields(code string, at int) []member {
	toks := scanTokens(code[:at])
	open := unclosed(toks)
	if len(open) == 0 || len(toks) == 0 {
		return nil
	}
	brace := open[len(open)-1]
	if toks[brace].tok != token.LBRACE {
		return nil
	}
	if last := toks[len(toks)-1].tok; len(toks)-1 != brace && last != token.COMMA {
		return nil // a value, not a key
	}
	ty := s.typerAt(code, at)
	t := s.literalType(ty, code, toks, open)
	if !t.known() {
		return nil
	}
	if p, ok := ty.deref(t); ok { // an element of a []*P literal
		t = p
	}
	var out []member
	for _, m := range ty.members(t) {
		if m.field != nil && !m.promoted {
			out = append(out, m)
		}
	}
	return out
}

// literalType returns the type of the composite literal whose brace is the last
// of open (toks[open[len(open)-1]]): its type as written before the brace, or
// the element type of the literal around it for an elided one (`[]P{{Na`).
func (s *session) literalType(ty *typer, code string, toks []scanned, open []int) staticType {
	brace := open[len(open)-1]
	if brace == 0 {
		return staticType{}
	}
	switch toks[brace-1].tok {
	case token.LBRACE, token.COMMA, token.COLON:
		if len(open) < 2 || toks[open[len(open)-2]].tok != token.LBRACE {
			return staticType{}
		}
		return ty.elem(s.literalType(ty, code, toks, open[:len(open)-1]))
	}
	// The longest run of tokens before the brace that is a type.
	var typ ast.Expr
	from := -1
	for i := brace - 1; i >= 0 && i >= brace-16; i-- {
		if e, err := parser.ParseExpr(code[toks[i].off:toks[brace].off]); err == nil && ty.isType(e) {
			typ, from = e, i
		}
	}
	if typ == nil {
		return staticType{}
	}
	if from > 0 {
		switch toks[from-1].tok {
		case token.RPAREN, token.FUNC, token.IDENT:
			return staticType{} // a func's result type: the brace opens its body
		}
	}
	return ty.typeExpr(typ)
}

// symbolKind names a package member's kind for Jupyter's completion types.
func symbolKind(v reflect.Value) string {
	switch {
	case v.Kind() == reflect.Func:
		return "function"
	case v.Kind() == reflect.Pointer && v.IsNil():
		return "class"
	case v.CanAddr():
		return "variable"
	}
	return "constant"
}

func goKeywords() []string {
	var kws []string
	for t := token.BREAK; t <= token.VAR; t++ {
		if t.IsKeyword() {
			kws = append(kws, t.String())
		}
	}
	return kws
}

// unpanicked answers a complete or inspect request with an error reply if
// answering panics: a bug in typing a half-written cell must not end the
// session and its variables.
func unpanicked(answer func() map[string]any) (reply map[string]any) {
	defer func() {
		if r := recover(); r != nil {
			ipc.Tracef("executor: completion panicked: %v", r)
			reply = map[string]any{"status": "error", "ename": "InternalError", "evalue": fmt.Sprint(r), "traceback": []string{}}
		}
	}()
	return answer()
}

func (s *session) inspect(code string, cursor, detail int) map[string]any {
	text := s.describeAt(code, byteOffset(code, cursor))
	if text == "" {
		return map[string]any{"status": "ok", "found": false, "data": map[string]any{}, "metadata": map[string]any{}}
	}
	return map[string]any{"status": "ok", "found": true, "data": map[string]any{"text/plain": text}, "metadata": map[string]any{}}
}

// describeAt describes what a cursor at byte offset off is on, as IPython does:
// inside a call's parentheses, the func called (the frontends' call tooltip);
// else the name or selector the cursor touches (`p.Name`, `ps[0].Age`); right
// after a call, the func called.
func (s *session) describeAt(code string, off int) string {
	at := func(e ast.Expr, start int) string { return s.describeExpr(s.typerAt(code, start), e) }
	toks := scanTokens(code[:off])
	open := unclosed(toks)
	for k := len(open) - 1; k >= 0; k-- {
		paren := open[k]
		if toks[paren].tok == token.LBRACE {
			break // a block or literal: its own names
		}
		if toks[paren].tok != token.LPAREN || paren == 0 {
			continue
		}
		if start := operandStart(toks, paren-1); start >= 0 {
			if text := at(parseOperand(code, toks[start].off, toks[paren].off), toks[start].off); text != "" {
				return text
			}
		}
	}
	if end, start := identEnd(code, off), wordBefore(code, off); start < end {
		// a key of a struct literal: the field
		for _, m := range s.literalFields(code, start) {
			if m.name == code[start:end] {
				decl, doc := m.about()
				return strings.TrimSpace(decl + "\n\n" + doc)
			}
		}
		return at(operandBefore(code, end))
	}
	if e, start := operandBefore(code, off); e != nil {
		if call, ok := e.(*ast.CallExpr); ok {
			return at(call.Fun, start)
		}
		return at(e, start)
	}
	// after "name ": the name before
	k := off
	for k > 0 && code[k-1] == ' ' {
		k--
	}
	if k < off && wordBefore(code, k) < k {
		return at(operandBefore(code, k))
	}
	return ""
}

// packageOf returns the import path of a package name, if e is one.
func (s *session) packageOf(e ast.Expr) (string, bool) {
	if id, ok := e.(*ast.Ident); ok {
		return s.packagePath(id.Name)
	}
	return "", false
}

// describeExpr returns the signature and documentation of a name, a package
// member or a field or method (`cfg.Epochs`, `p.Hello`, `ps[0].Name`), or "".
func (s *session) describeExpr(ty *typer, e ast.Expr) string {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return s.describeExpr(ty, x.X)
	case *ast.Ident:
		if _, local := ty.locals[x.Name]; local {
			if t := ty.identType(x.Name); t.known() {
				return "var " + x.Name + " " + ty.typeText(t)
			}
			return ""
		}
		if sc := ty.cellSc; sc != nil && sc.Types[x.Name] != nil {
			return strings.TrimSpace("type " + nodeText(sc.Types[x.Name]) + "\n\n" + cell.FirstComment(sc.Types[x.Name].Doc))
		}
		if sc := ty.cellSc; sc != nil && sc.Funcs[x.Name] != nil {
			return strings.TrimSpace(nodeText(sc.Funcs[x.Name]) + "\n\n" + cell.FirstComment(sc.Funcs[x.Name].Doc))
		}
		return s.describe("", x.Name)
	case *ast.SelectorExpr:
		if _, isPkg := ty.packageOf(x.X); isPkg {
			return s.describe(x.X.(*ast.Ident).Name, x.Sel.Name)
		}
		m, ok := ty.member(ty.exprType(x.X), x.Sel.Name)
		if !ok {
			return ""
		}
		decl, doc := m.about()
		if m.field != nil {
			if v, ok := ty.valueOf(e); ok && v.CanInterface() {
				decl += " = " + s.valueText(v)
			}
		}
		return strings.TrimSpace(decl + "\n\n" + doc)
	}
	return ""
}

// unmangleFields gives the unexported fields of cell types in a printed value
// (`{Name:a Xage:3}`) the names the cell wrote (`{Name:a age:3}`).
func (s *session) unmangleFields(text string) string {
	names := s.pre.UnexportedFields()
	if len(names) == 0 || !strings.Contains(text, "X") {
		return text
	}
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	re := regexp.MustCompile(`([{ ])X(` + strings.Join(names, "|") + `):`)
	return re.ReplaceAllString(text, "$1$2:")
}

// valueText shows a value in an inspection, cut where it would flood the pane.
func (s *session) valueText(v reflect.Value) string {
	val := s.unmangleFields(plainText(v.Interface()))
	if len(val) > 2000 {
		val = val[:2000] + "…"
	}
	return val
}

// describe returns the signature and documentation of qual.name, where qual is a
// package or "".
func (s *session) describe(qual, name string) string {
	if name == "" {
		return ""
	}
	if qual != "" {
		p, ok := s.packagePath(qual)
		if !ok {
			return s.describeExpr(s.typer(), &ast.SelectorExpr{X: ast.NewIdent(qual), Sel: ast.NewIdent(name)})
		}
		v, ok := packageSymbols()[p][name]
		if !ok {
			return ""
		}
		sig, doc := docFor(p, name)
		if sig == "" {
			sig = reflectSig(path.Base(p), name, v)
		}
		return strings.TrimSpace(sig + "\n\n" + doc)
	}
	if kind, declared := s.pre.Names()[name]; declared {
		var b strings.Builder
		v, ok := s.globals()[name]
		ok = ok && v.IsValid()
		switch {
		case kind == "func" && s.pre.FuncDecl(name) != nil:
			b.WriteString(s.pre.Unmangle(nodeText(s.pre.FuncDecl(name))))
		case kind == "type" && s.pre.TypeSpec(name) != nil:
			b.WriteString("type " + nodeText(s.pre.TypeSpec(name)))
			ms := s.pre.MethodDecls(name)
			names := make([]string, 0, len(ms))
			for m := range ms {
				names = append(names, m)
			}
			sort.Strings(names)
			for i, m := range names {
				if i == 0 {
					b.WriteString("\n")
				}
				b.WriteString("\n" + s.pre.Unmangle(nodeText(ms[m])))
			}
		case ok && kind == "func":
			fmt.Fprintf(&b, "func %s%s", name, strings.TrimPrefix(v.Type().String(), "func"))
		case ok:
			typ := s.pre.Unmangle(v.Type().String())
			if t := s.typer().identType(name); t.src != nil {
				typ = nodeText(t.src) // as written: reflect has lost the names of cell types
			}
			val := ""
			if v.CanInterface() {
				val = s.valueText(v)
			}
			fmt.Fprintf(&b, "%s %s %s = %s", kind, name, typ, val)
		default:
			fmt.Fprintf(&b, "%s %s", kind, name)
		}
		if d := s.pre.Doc(name); d != "" {
			b.WriteString("\n\n" + d)
		}
		return b.String()
	}
	if v, ok := s.globals()[name]; ok && v.IsValid() && !strings.HasPrefix(name, "goinv") {
		val := ""
		if v.CanInterface() {
			val = plainText(v.Interface())
		}
		return fmt.Sprintf("var %s %s = %s", name, v.Type(), val)
	}
	if p, ok := s.packagePath(name); ok {
		_, doc := docFor(p, "")
		return strings.TrimSpace(fmt.Sprintf("package %s // import %q\n\n%s", path.Base(p), p, doc))
	}
	for _, b := range builtins {
		if b == name {
			_, doc := docFor("builtin", name)
			if doc == "" {
				return "builtin " + name
			}
			sig, _ := docFor("builtin", name)
			return strings.TrimSpace(sig + "\n\n" + doc)
		}
	}
	return ""
}

// reflectSig describes a symbol from its reflect value alone.
func reflectSig(pkg, name string, v reflect.Value) string {
	switch {
	case v.Kind() == reflect.Func:
		return fmt.Sprintf("func %s.%s%s", pkg, name, strings.TrimPrefix(v.Type().String(), "func"))
	case v.Kind() == reflect.Pointer && v.IsNil():
		return fmt.Sprintf("type %s.%s %s", pkg, name, v.Type().Elem().Kind())
	case v.CanAddr():
		return fmt.Sprintf("var %s.%s %s", pkg, name, v.Type())
	default:
		return fmt.Sprintf("const %s.%s = %v", pkg, name, v)
	}
}

func isComplete(code string) map[string]any {
	if _, ok := helpTarget(code); ok {
		return map[string]any{"status": "complete"}
	}
	status, indent := cell.IsComplete(code)
	out := map[string]any{"status": status}
	if status == "incomplete" {
		out["indent"] = indent
	}
	return out
}
