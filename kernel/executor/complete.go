package executor

import (
	"fmt"
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
	start := wordBefore(code, off)
	prefix := code[start:off]
	cands := []string{} // a list even when empty: frontends index it
	seen := map[string]bool{}
	kinds := map[string]string{}
	addKind := func(name, kind string) {
		if strings.HasPrefix(name, prefix) && !seen[name] && !strings.HasPrefix(name, "goinv") && !strings.Contains(name, "ʹ") {
			seen[name] = true
			cands = append(cands, name)
			kinds[name] = kind
		}
	}
	add := func(name string) { addKind(name, "") }
	if start > 0 && code[start-1] == '.' {
		xs := wordBefore(code, start-1)
		x := code[xs : start-1]
		if p, ok := s.packagePath(x); ok {
			for name, v := range packageSymbols()[p] {
				addKind(name, symbolKind(v))
			}
		} else if v, ok := s.globals()[x]; ok && v.IsValid() {
			for _, name := range members(v.Type()) {
				add(name)
			}
		}
	} else {
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
	sort.Strings(cands)
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

// members lists the fields and methods of a type.
func members(t reflect.Type) []string {
	var out []string
	for _, tt := range []reflect.Type{t, reflect.PointerTo(t)} {
		for i := 0; i < tt.NumMethod(); i++ {
			out = append(out, tt.Method(i).Name)
		}
	}
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() == reflect.Struct {
		for i := 0; i < st.NumField(); i++ {
			if f := st.Field(i); f.IsExported() || !strings.HasPrefix(f.Name, "X") {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// identAt returns the (possibly qualified) identifier around a byte offset.
func identAt(code string, off int) (qual, name string) {
	end := off
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdentRune(r) {
			break
		}
		end += size
	}
	start := wordBefore(code, off)
	if start == end && off > 0 {
		// cursor right after "name(" or "name ": look at the word before
		k := off
		for k > 0 && (code[k-1] == '(' || code[k-1] == ' ') {
			k--
		}
		end = k
		start = wordBefore(code, k)
	}
	name = code[start:end]
	if start > 0 && code[start-1] == '.' {
		qs := wordBefore(code, start-1)
		qual = code[qs : start-1]
	}
	return qual, name
}

func (s *session) inspect(code string, cursor, detail int) map[string]any {
	off := byteOffset(code, cursor)
	qual, name := identAt(code, off)
	text := s.describe(qual, name)
	if text == "" {
		return map[string]any{"status": "ok", "found": false, "data": map[string]any{}, "metadata": map[string]any{}}
	}
	return map[string]any{"status": "ok", "found": true, "data": map[string]any{"text/plain": text}, "metadata": map[string]any{}}
}

// describe returns the signature and documentation of qual.name.
func (s *session) describe(qual, name string) string {
	if name == "" {
		return ""
	}
	if qual != "" {
		p, ok := s.packagePath(qual)
		if !ok {
			// a field or method of a session variable
			if v, ok := s.globals()[qual]; ok && v.IsValid() {
				if m, ok := v.Type().MethodByName(name); ok {
					return fmt.Sprintf("method %s.%s %s", v.Type(), name, strings.TrimPrefix(m.Type.String(), "func"))
				}
			}
			return ""
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
	if _, declared := s.pre.Names()[name]; declared {
		kind := s.pre.Names()[name]
		var b strings.Builder
		if v, ok := s.globals()[name]; ok && v.IsValid() {
			if kind == "func" {
				fmt.Fprintf(&b, "func %s%s", name, strings.TrimPrefix(v.Type().String(), "func"))
			} else {
				val := ""
				if v.CanInterface() {
					val = plainText(v.Interface())
				}
				if len(val) > 2000 {
					val = val[:2000] + "…"
				}
				fmt.Fprintf(&b, "%s %s %s = %s", kind, name, s.pre.Unmangle(v.Type().String()), val)
			}
		} else {
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
