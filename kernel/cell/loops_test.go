package cell

import (
	"strings"
	"testing"
)

func TestLoopVariableCopies(t *testing.T) {
	for _, c := range []struct {
		cell, want string // want: the copies the first loop's body starts with ("" for none)
		wrapped    bool   // the top-level loop is wrapped in a func literal
	}{
		{"for i := 0; i < 3; i++ { fs = append(fs, func() int { return i }) }", "{ i := i; ", true},
		{"for k, v := range m { go func() { use(k, v) }() }", "{ k := k; v := v; ", true},
		{"for _, v := range xs { ps = append(ps, &v) }", "{ v := v; ", true},
		{"for _, v := range xs { f := func(v int) {}; f(v) }", "", false}, // the literal's own v
		{"for i := 0; i < 3; i++ { use(i) }", "", true},                   // i is the loop's own (initDefines)
		{"for i := 0; i < 9; i++ { i++; go func() { use(i) }() }", "", true},
		{"for i := 0; i < 9; i++ { p := &i; go func() { use(i, p) }() }", "", true},
		{"for i = 0; i < 3; i++ { go func() { use(i) }() }", "", false},
		{"if ok { for _, v := range xs { go func() { use(v) }() } }", "{ v := v; ", true},
		{"go func() { for _, v := range xs { go func() { use(v) }() } }()", "{ v := v; ", false},
		{"func f() { for _, v := range xs { go func() { use(v) }() } }", "{ v := v; ", false},
	} {
		p := prep(t, NewSession(), c.cell)
		got := code(p.Decls) + code(p.Stmts)
		if c.want == "" && strings.Contains(got, " := i;") || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%q: want copies %q:\n%s", c.cell, c.want, got)
		}
		st := code(p.Stmts)
		if wrapped := strings.HasPrefix(st, ";func() { "); wrapped != c.wrapped {
			t.Errorf("%q: wrapped %v, want %v:\n%s", c.cell, wrapped, c.wrapped, code(p.Stmts))
		}
	}
}

func TestSelectBreakInBlock(t *testing.T) {
	p := prep(t, NewSession(), "loop:\nfor {\n\tselect {\n\tcase <-c:\n\t\tbreak loop\n\tdefault:\n\t\tif x { break loop }\n\t\tbreak\n\t}\n}")
	got := code(p.Stmts)
	if !strings.Contains(got, "case <-c:\n\t\t{ break loop }") || !strings.Contains(got, "if x { break loop }") || !strings.Contains(got, "\t\tbreak\n") {
		t.Errorf("labelled breaks of select cases:\n%s", got)
	}
}

func TestTopLevelShadowingWrapped(t *testing.T) {
	s := NewSession()
	prep(t, s, "x := 1\nfunc f() {}")
	for cell, wrapped := range map[string]bool{
		"{\n\tx := 2\n}":                 true,
		"for x := 0; x < 2; x++ {\n}":    true,
		"if f := 3; f > 1 {\n}":          true, // a func is a variable
		"for _, x := range xs {\n}":      true,
		"{\n\tvar x = 2\n\t_ = x\n}":     true,
		"y := 1\nif true {\n\ty := 2\n}": true,
		"for j := 0; j < 2; j++ {\n}":    true, // j is the loop's own (initDefines)
		"for j = 0; j < 2; j++ {\n}":     false,
		"{\n\tgo func() { x := 2 }()\n}": false,
		"if true {\n\ty := 2\n}\ny := 1": true, // a name the cell's top level declares
	} {
		p := prep(t, s, cell)
		got := strings.Contains(code(p.Stmts), "func() { ")
		if strings.Contains(cell, "go func") {
			got = strings.HasPrefix(code(p.Stmts), ";func() { ")
		}
		if got != wrapped {
			t.Errorf("%q: wrapped %v, want %v:\n%s", cell, got, wrapped, code(p.Stmts))
		}
	}
}

func TestCommaOkAssertDeclared(t *testing.T) {
	p := prep(t, NewSession(), "v, ok := x.(int)\n_, ok2 := y.(*T)\nw, ok := z.(string)")
	st := code(p.Stmts)
	for _, want := range []string{"var v int; var ok bool; v, ok = x.(int)", "var ok2 bool; _, ok2 = y.(*T)", "var w string; w, ok = z.(string)"} {
		if !strings.Contains(st, want) {
			t.Errorf("want %q in:\n%s", want, st)
		}
	}
}

func TestTopLevelDefersListed(t *testing.T) {
	p := prep(t, NewSession(), "defer cancel()\nfor _, f := range fs {\n\tdefer f.Close()\n}\ngo func() { defer wg.Done() }()")
	st := code(p.Stmts)
	if !p.Defers || !strings.Contains(st, DeferList+" = append("+DeferList+", func() { cancel() })") ||
		!strings.Contains(st, "f := f; ") || !strings.Contains(st, "func() { f.Close() })") || !strings.Contains(st, "go func() { defer wg.Done() }()") {
		t.Errorf("top-level defers (Defers %v):\n%s", p.Defers, st)
	}
}
