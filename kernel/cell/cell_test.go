package cell

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strings"
	"testing"
)

func prep(t *testing.T, s *Session, src string) *Plan {
	t.Helper()
	p, err := s.Prepare(src, Options{})
	if err != nil {
		t.Fatalf("Prepare(%q): %v", src, err)
	}
	p.Commit()
	return p
}

// instr matches what the position instrumentation adds (see trace.go).
var instr = regexp.MustCompile(`var goinvS\d+(?:, goinvS\d+)* int; |goinv(?:S\d+|Top) = \d+; `)

// code returns the generated code without the position instrumentation, which
// TestInstrumentation checks on its own.
// splitPlan returns p after p.Split.
func splitPlan(p *Plan) *Plan {
	p.Split()
	return p
}

func code(src *Source) string {
	if src == nil {
		return ""
	}
	return instr.ReplaceAllString(src.Code, "")
}

func TestSplitKeepsOffsets(t *testing.T) {
	s := NewSession()
	src := "x := 1\ntype T struct{ A int }\ny := T{}\nconst c = 2\n"
	p := prep(t, s, src)
	if len(code(p.Decls)) != len(declPrefix)+len(src) {
		t.Errorf("declaration source changed length without edits:\n%q", code(p.Decls))
	}
	for i, line := range strings.Split(code(p.Stmts), "\n") {
		if i == 1 && strings.TrimSpace(line) != "" {
			t.Errorf("type line not blanked in statements: %q", line)
		}
	}
	if !strings.Contains(code(p.Stmts), "x := 1") || !strings.Contains(code(p.Stmts), "y := T{}") || !strings.Contains(code(p.Stmts), "const c = 2") {
		t.Errorf("statements lost: %q", code(p.Stmts))
	}
	if strings.Contains(code(p.Decls), "x := 1") {
		t.Errorf("statement in declarations: %q", code(p.Decls))
	}
}

func TestFuncDeclVersusLiteral(t *testing.T) {
	for src, decl := range map[string]bool{
		"func f() {}":                             true,
		"func (t T) M() {}":                       true,
		"func (t *T) M() int { return 0 }":        true,
		"func() {}()":                             false,
		"func() int { return 1 }()":               false,
		"func() (int, error) { return 1, nil }()": false,
		"func(a int) {}(3)":                       false,
	} {
		segs, err := split(src)
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 1 || segs[0].decl != decl {
			t.Errorf("%q: segments %+v, want decl=%v", src, segs, decl)
		}
	}
}

func TestImportsHoistedAndDeduplicated(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "x := 1\nimport \"strings\"\nimport (\n\t\"fmt\"\n\tm \"math\"\n)\nfmt.Println(strings.ToUpper(\"a\"), m.Pi, x)")
	if p.Imports["strings"] != "strings" || p.Imports["fmt"] != "fmt" || p.Imports["m"] != "math" {
		t.Errorf("imports %v", p.Imports)
	}
	p = prep(t, s, "import \"fmt\"\nimport \"os\"\nfmt.Println(os.Args)")
	if strings.Contains(code(p.Decls), `"fmt"`) || !strings.Contains(code(p.Decls), `"os"`) {
		t.Errorf("second import of fmt not dropped:\n%s", code(p.Decls))
	}
	if strings.Count(code(p.Decls), "\n") != strings.Count("import \"fmt\"\nimport \"os\"\nfmt.Println(os.Args)", "\n") {
		t.Errorf("dropping an import moved lines")
	}
}

func TestAutoImport(t *testing.T) {
	s := NewSession()
	s.Packages = map[string]string{"strings": "strings", "display": "github.com/goinv/goinv/stdlib/display"}
	p := prep(t, s, "display.HTML(strings.Repeat(\"x\", 3))")
	if !strings.Contains(code(p.Decls), `import display "github.com/goinv/goinv/stdlib/display";`) ||
		!strings.Contains(code(p.Decls), `import strings "strings";`) {
		t.Errorf("auto imports missing:\n%s", code(p.Decls))
	}
	// A local variable named like a package is not an import.
	p = prep(t, s, "strings := []string{\"a\"}\n_ = strings")
	if p.Decls != nil && strings.Contains(code(p.Decls), "import") {
		t.Errorf("imported a shadowed name:\n%s", code(p.Decls))
	}
	// Once imported, never again.
	p = prep(t, s, "display.Clear()")
	if p.Decls != nil && strings.Contains(code(p.Decls), "import") {
		t.Errorf("imported twice:\n%s", code(p.Decls))
	}
}

func TestFuncRedefinition(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "func f(a int) int { return a }")
	if !regexp.MustCompile(`var f func\(int\) int; func (goinvDef\d+)\(\) \{ f = func\(a int\) int \{ return a \} \}; func init\(\) \{ (goinvDef\d+)\(\) \}`).MatchString(code(p.Decls)) {
		t.Errorf("first definition: %s", code(p.Decls))
	}
	p = prep(t, s, "func f(b int) int { return b * 2 }")
	if !strings.Contains(code(p.Decls), "() { f = func(b int) int { return b * 2 } }") || strings.Contains(code(p.Decls), "var f") {
		t.Errorf("same signature must assign: %s", code(p.Decls))
	}
	p = prep(t, s, "func f(s string) string { return s }")
	if !strings.Contains(code(p.Decls), "var f func(string) string; func goinvDef") {
		t.Errorf("new signature must redeclare: %s", code(p.Decls))
	}
	p = prep(t, s, "func init() {}\nfunc g[T any](x T) T { return x }\nfunc (t T) M() {}")
	if strings.Contains(code(p.Decls), "var init") || strings.Contains(code(p.Decls), "var g") || strings.Contains(code(p.Decls), "var M") {
		t.Errorf("init, generic funcs and methods stay declarations: %s", code(p.Decls))
	}
	p = prep(t, s, "func h() int { return 1 }\nvar early = h()\nvar plain int")
	if !strings.Contains(code(p.Stmts), "var early = h()") {
		t.Errorf("a var calling a func of its cell must run after the func is assigned: %s", code(p.Decls))
	}
	// The variable's type names no parameter or result: yaegi takes a name there
	// for a use of the session variable of that name.
	p = prep(t, s, "func div(a, b int, xs ...float64) (q int, err error) { return a / b, nil }")
	if !strings.Contains(code(p.Decls), "var div func(int, int, ...float64) (int, error); func goinvDef") {
		t.Errorf("func variable's type: %s", code(p.Decls))
	}
}

// yaegi orders a source's package-level vars by the session variables they name and
// never counts one of an earlier source as initialized ("variable definition
// loop"), so such vars run as statements, unless the cell's funcs, types or
// staying vars need them declared first.
func TestVarsUsingEarlierVariables(t *testing.T) {
	s := NewSession()
	prep(t, s, "x := 1\nfunc f(v int) int { return v }").Commit()
	for _, c := range []struct {
		cell       string
		stmt, decl []string // in the statements, in the declarations
	}{
		{"var y = x + 1", []string{"var y = x + 1"}, nil},
		{"var z = f(2)", []string{"var z = f(2)"}, nil},
		{"var cb func(x int) int", []string{"var cb func(x int) int"}, nil},
		{"var m = map[string]int{\"x\": 1}\nvar n = len(m)", nil, []string{"var m", "var n"}},
		// any identifier of that name counts (a field here), which does no harm
		{"var p = struct{ x int }{}\nvar q = p.x", []string{"var p", "var q"}, nil},
		{"var (\n\ta = x\n\tb = 2\n)\nvar c = a + b", []string{"var (", "var c = a + b"}, nil},
		// a func of the cell reads it: it stays (and still fails in yaegi)
		{"var w = x * 2\nfunc g() int { return w }", nil, []string{"var w = x * 2"}},
		// a staying var needs it: both stay
		{"var u = x\nvar v2 = u\nfunc h() int { return v2 }", nil, []string{"var u = x", "var v2 = u"}},
	} {
		p := prep(t, s, c.cell)
		for _, want := range c.stmt {
			if p.Stmts == nil || !strings.Contains(code(p.Stmts), want) {
				t.Errorf("%q: %q not among the statements:\n%v", c.cell, want, p.Stmts)
			}
		}
		for _, want := range c.decl {
			if p.Decls == nil || !strings.Contains(code(p.Decls), want) {
				t.Errorf("%q: %q not among the declarations:\n%v", c.cell, want, p.Decls)
			}
		}
	}
	for _, c := range [][2]string{
		{"var a, b int = f(x), 2", "a b"},
		{"var (\n\ta T\n\tb, c = 1, map[string]int{\"q\": 1}\n)", "a b c"},
		{"var cb func(x int) (y int)", "cb"},
		{"var g = func() { a := 1; b := 2; _, _ = a, b }", "g"},
	} {
		if got := strings.Join(varNames(c[0]), " "); got != c[1] {
			t.Errorf("varNames(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

func TestTypeRedefinition(t *testing.T) {
	s := NewSession()
	prep(t, s, "type P struct{ X int }")
	p := prep(t, s, "type P struct{ X, Y int }\nfunc (p P) Sum() int { return p.X + p.Y }\nq := P{X: 1, Y: 2}")
	if !strings.Contains(code(p.Decls), "type Pʹ2 struct{ X, Y int }") || !strings.Contains(code(p.Decls), "func (p Pʹ2) Sum()") {
		t.Errorf("declarations: %s", code(p.Decls))
	}
	if !strings.Contains(code(p.Stmts), "q := Pʹ2{X: 1, Y: 2}") {
		t.Errorf("statements: %s", code(p.Stmts))
	}
	p = prep(t, s, "var r P\nr.X = 3")
	if !strings.Contains(code(p.Decls), "var r Pʹ2") || !strings.Contains(code(p.Stmts), "r.X = 3") {
		t.Errorf("later cell uses newest type: %s / %s", code(p.Decls), code(p.Stmts))
	}
	p = prep(t, s, "type P int")
	if !strings.Contains(code(p.Decls), "type Pʹ3 int") {
		t.Errorf("third definition: %s", code(p.Decls))
	}
	if got := s.Unmangle("cannot use x (type Pʹ3)"); got != "cannot use x (type P)" {
		t.Errorf("Unmangle: %q", got)
	}
	// Field names and selectors called P are not types.
	p = prep(t, s, "type W struct{ P int }\nw := W{P: 1}\n_ = w.P")
	if strings.Contains(code(p.Decls), "Pʹ") || strings.Contains(code(p.Stmts), "Pʹ") {
		t.Errorf("renamed a field: %s / %s", code(p.Decls), code(p.Stmts))
	}
}

func TestMultiDefineWrapped(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "for i := 0; i < 3; i++ {\n\ta, b := f(i)\n\t_, _ = a, b\n}\nif true { x := 1; _ = x }")
	c := code(p.Stmts)
	if !strings.Contains(c, "func() { for i := 0") || !strings.Contains(c, "} }()") {
		t.Errorf("loop with a, b := not wrapped: %s", c)
	}
	if strings.Contains(c, "func() { if true") {
		t.Errorf("single define wrapped needlessly: %s", c)
	}
}

func TestRangeOverInt(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "for i := range 10 {\n\t_ = i\n}")
	if !strings.Contains(code(p.Stmts), "for i, goinvN1 := (10)-(10), (10); i < goinvN1; i++ {") {
		t.Errorf("literal: %s", code(p.Stmts))
	}
	p = prep(t, s, "n := 4\nfor range n {}")
	if !strings.Contains(code(p.Stmts), "goinvI1 < goinvN1") {
		t.Errorf("local int, no key: %s", code(p.Stmts))
	}
	p = prep(t, s, "for i := range f() {}")
	if len(p.Ranges) != 1 || strings.Contains(code(p.Stmts), "goinvN") {
		t.Errorf("unknown type must be left for a retry: %v %s", p.Ranges, code(p.Stmts))
	}
	p2, _ := s.Prepare("for i := range f() {}", Options{IntRanges: map[int]bool{p.Ranges[0]: true}})
	if !strings.Contains(code(p2.Stmts), "{ goinvN1 := f(); for i := goinvN1-goinvN1; i < goinvN1; i++ {} }") {
		t.Errorf("forced int range with side effects: %s", code(p2.Stmts))
	}
	p = prep(t, s, "xs := []int{1}\nfor i := range xs {}\nfor i := range []int{1} {}")
	if strings.Contains(code(p.Stmts), "goinvN") {
		t.Errorf("slice range rewritten: %s", code(p.Stmts))
	}
	s.IntVar = func(name string) bool { return name == "total" }
	p = prep(t, s, "outer: for i := range total { continue outer }")
	if !strings.Contains(code(p.Stmts), "outer: for i, goinvN1 := (total)-(total), (total)") {
		t.Errorf("labelled session int: %s", code(p.Stmts))
	}
}

func TestMinMaxClear(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "a := min(1, 2)\nb := max(2.5, 1)\nc := min(x, y)\nclear(m)")
	c := code(p.Stmts)
	for _, want := range []string{"goinvMin_int(1, 2)", "goinvMax_float64(2.5, 1)", "goinvMin(x, y)", "goinvClear(m)"} {
		if !strings.Contains(c, want) {
			t.Errorf("missing %s in %s", want, c)
		}
	}
	s.VarType = func(name string) string { return map[string]string{"x": "float32"}[name] }
	if c := code(splitPlan(prep(t, s, "min(x, 1)")).ShowStmts); !strings.Contains(c, "goinvMin_float32(x, 1)") {
		t.Errorf("session variable type: %s", c)
	}
	prep(t, s, "func min(a, b int) int { return a }")
	if c := code(splitPlan(prep(t, s, "min(1, 2)")).ShowStmts); strings.Contains(c, "goinvMin") {
		t.Errorf("user's own min replaced: %s", c)
	}
}

func TestLastExpression(t *testing.T) {
	s := NewSession()
	prep(t, s, "type T struct{}")
	for src, want := range map[string]LastKind{
		"1 + 2":                     LastShow,
		"x := 1":                    LastNone,
		"x := 1\nx":                 LastShow,
		"fmt.Println(1)":            LastMaybe,
		"f()":                       LastMaybe,
		"len(xs)":                   LastShow,
		"float64(3)":                LastShow,
		"T(x)":                      LastShow,
		"[]byte(s)":                 LastShow,
		"panic(1)":                  LastNone,
		"println(1)":                LastNone,
		"func() int { return 1 }()": LastShow,
		"func() { }()":              LastNone,
		"if true {}":                LastNone,
		"x = 2":                     LastNone,
		"// comment only\n":         LastNone,
	} {
		p, err := s.Prepare(src, Options{})
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if p.Last != want {
			t.Errorf("%q: Last = %v, want %v", src, p.Last, want)
		}
		if want != LastNone && !strings.Contains(code(splitPlan(p).ShowStmts), LastVar+" := ") {
			t.Errorf("%q: ShowStmts %q", src, code(p.ShowStmts))
		}
	}
	p, _ := s.Prepare("fmt.Println(1)", Options{})
	if p.FunExpr != "fmt.Println" {
		t.Errorf("FunExpr %q", p.FunExpr)
	}
}

func TestPositionsMapBack(t *testing.T) {
	s := NewSession()
	src := "x := 1\nfunc f(a int) int { return a + undefinedName }\n\ty := min(x, 2) + é + bad"
	p := prep(t, s, src)
	// "undefinedName" in the declarations: find it in the generated code.
	off := strings.Index(p.Decls.out, "undefinedName")
	line, col := lineColOf(p.Decls.out, off)
	l, c, ok := p.Decls.CellPos(line, col)
	if !ok || l != 2 || c != 32 {
		t.Errorf("declaration position -> %d:%d %v, want 2:32", l, c, ok)
	}
	// "bad" on line 3, after a rewritten min call and a 2-byte rune.
	off = strings.Index(p.Stmts.out, "bad")
	line, col = lineColOf(p.Stmts.out, off)
	l, c, ok = p.Stmts.CellPos(line, col)
	if !ok || l != 3 || c != 23 {
		t.Errorf("statement position -> %d:%d %v, want 3:23", l, c, ok)
	}
	// Line 1 of statements is shifted by yaegi's wrapper.
	off = strings.Index(p.Stmts.out, "x := 1")
	line, col = lineColOf(p.Stmts.out, off)
	if l, c, ok := p.Stmts.CellPos(line, col); !ok || l != 1 || c != 1 {
		t.Errorf("first statement -> %d:%d %v", l, c, ok)
	}
}

func lineColOf(s string, off int) (int, int) {
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if s[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, off - start + 1
}

func TestSyntaxErrorPosition(t *testing.T) {
	s := NewSession()
	_, err := s.Prepare("x := 1\ny := (2 +)\nz := 3", Options{})
	e, ok := err.(*Error)
	if !ok || e.Line != 2 {
		t.Errorf("error %v", err)
	}
	// A bracket left open is reported where it opens.
	_, err = s.Prepare("x := 1\ny := (2 +\nz := 3", Options{})
	if e, ok := err.(*Error); !ok || e.Line != 2 || e.Col != 6 {
		t.Errorf("unclosed bracket: %v", err)
	}
	_, err = s.Prepare("x := \"unterminated", Options{})
	if e, ok := err.(*Error); !ok || e.Line != 1 {
		t.Errorf("scanner error %v", err)
	}
}

func TestIsComplete(t *testing.T) {
	for src, want := range map[string]string{
		"x := 1":                        "complete",
		"":                              "complete",
		"for i := 0; i < 3; i++ {":      "incomplete",
		"f(1,\n":                        "incomplete",
		"x := 1 +":                      "incomplete",
		"s := `raw":                     "incomplete",
		"x := )":                        "invalid",
		"x := 1 1":                      "invalid",
		"%time":                         "complete",
		"!ls":                           "complete",
		"func f() {\n\tif x {\n":        "incomplete",
		"import \"fmt\"\nfmt.Println()": "complete",
	} {
		got, indent := IsComplete(src)
		if got != want {
			t.Errorf("IsComplete(%q) = %s, want %s", src, got, want)
		}
		if src == "func f() {\n\tif x {\n" && indent != "\t\t" {
			t.Errorf("indent %q", indent)
		}
	}
}

func TestEditsApply(t *testing.T) {
	out, kept := apply("abcdef", []edit{
		{pos: 2, end: 4, text: "XY"},
		{pos: 2, end: 2, text: "[", order: -1},
		{pos: 4, end: 4, text: "]", order: 1},
		{pos: 3, end: 5, text: "overlap"},
	})
	if out != "ab[XY]ef" || len(kept) != 3 {
		t.Errorf("apply = %q (%d kept)", out, len(kept))
	}
	src := &Source{out: out, edits: kept, cell: "abcdef"}
	if got := src.inOffset(6); got != 4 {
		t.Errorf("inOffset after edits = %d, want 4", got)
	}
	if got := src.inOffset(3); got != 2 {
		t.Errorf("inOffset inside inserted text = %d, want 2", got)
	}
}

func TestExplicitSemicolons(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "const w = 2\nimg := 1\nfor y := 0; y < w; y++ { img++ }; x := 1; func f() {}")
	d := regexp.MustCompile(`var f func\(\); func goinvDef\d+\(\) \{ f = func\(\) \{\} \}; func init\(\) \{ goinvDef\d+\(\) \}`).ReplaceAllString(strings.TrimPrefix(code(p.Decls), declPrefix), "")
	if strings.Contains(d, ";") {
		t.Errorf("statement semicolons left in declarations: %q", code(p.Decls))
	}
	if !strings.Contains(code(p.Stmts), "func() { for y := 0; y < w; y++ { img++ } }();") {
		t.Errorf("statements: %q", code(p.Stmts))
	}
}

func TestMethodRedefinition(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "type T struct{ X int }\nfunc (t T) M(k int, _ string, rest ...int) int { return t.X * k }")
	d := code(p.Decls)
	for _, want := range []string{
		"func (t T) M(k int, goinvA1 string, rest ...int) int { return goinvM_T_M(t, k, goinvA1, rest...) }",
		"var goinvM_T_M func(T, int, string, ...int) int",
		"goinvM_T_M = func(t T, k int, goinvA1 string, rest ...int) int { return t.X * k } }",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("first definition lacks %q:\n%s", want, d)
		}
	}
	// The same signature again only assigns the body.
	p = prep(t, s, "func (u T) M(k int, s string, more ...int) int { return u.X + k }")
	if d := code(p.Decls); strings.Contains(d, "func (u T) M") || strings.Contains(d, "var goinvM") || !strings.Contains(d, "goinvM_T_M = func(u T, k int, s string, more ...int) int { return u.X + k }") {
		t.Errorf("redefinition: %s", d)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %v", p.Warnings)
	}
	// A pointer receiver on a type of an earlier cell, unnamed receiver and results.
	p = prep(t, s, "func (*T) Reset() {}")
	if d := code(p.Decls); !strings.Contains(d, "func (goinvR *T) Reset() { goinvM_T_Reset(goinvR) }") {
		t.Errorf("pointer receiver: %s", d)
	}
	// A new signature is refused with the reason and the way out.
	_, err := s.Prepare("x := 1\nfunc (t *T) M(k int) int { return 2 }", Options{})
	var e *Error
	if !errorsAs(err, &e) || e.Line != 2 || !strings.Contains(e.Msg, "method T.M cannot change its signature") || !strings.Contains(e.Msg, "declare type T again") {
		t.Errorf("signature change: %v", err)
	}
	// Declaring the type again starts a new method set.
	p = prep(t, s, "type T struct{}\nfunc (T) M() int { return 3 }")
	if d := code(p.Decls); !strings.Contains(d, "func (goinvR Tʹ2) M() int { return goinvM_Tʹ2_M(goinvR) }") {
		t.Errorf("type declared again: %s", d)
	}
	// Methods of types the session does not know stay plain methods.
	p = prep(t, s, "func (x Unknown) M() {}")
	if d := code(p.Decls); !strings.Contains(d, "func (x Unknown) M() {}") {
		t.Errorf("unknown receiver: %s", d)
	}
}

func TestTypeSwitchWrapped(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "switch v := x.(type) {\ncase int:\n\t_ = v\n}")
	if !strings.HasPrefix(strings.TrimLeft(code(p.Stmts), "; "), "func() { switch v") {
		t.Errorf("binding type switch not wrapped: %q", code(p.Stmts))
	}
}

func errorsAs(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

func TestInstrumentation(t *testing.T) {
	s := NewSession()
	s.Packages = map[string]string{"fmt": "fmt"}
	src := "func f(xs []int, k int) int {\n\ts := 0\n\tfor i := 0; i < k; i++ {\n\t\ts += xs[i]\n\t}\n\tg := func() int { return s / k }\n\treturn g()\n}\ny := 3\ny++\nfmt.Println(f(nil, y))"
	p, err := s.Prepare(src, Options{Cell: 7})
	if err != nil {
		t.Fatal(err)
	}
	p.Commit()
	d, st := p.Decls.Code, p.Stmts.Code
	// Lines are kept, so positions in the generated code are positions in the cell;
	// the site variables are declared first, on the first line.
	if strings.Count(d, "\n") != strings.Count(src, "\n") || strings.Count(st, "\n") != strings.Count(src, "\n") {
		t.Errorf("declarations changed the line count:\n%s", d)
	}
	sites := regexp.MustCompile(`(goinv(?:S\d+|Top)) = (\d+); `)
	type rec struct {
		v    string
		site Site
		at   int    // the line the assignment is on
		text string // that line
	}
	var got []rec
	for _, code := range []string{d, st} {
		lines := strings.Split(code, "\n")
		for _, m := range sites.FindAllStringSubmatchIndex(code, -1) {
			id := 0
			for _, c := range code[m[4]:m[5]] {
				id = id*10 + int(c-'0')
			}
			site, ok := s.Site(id)
			if !ok {
				t.Fatalf("site %d not recorded", id)
			}
			line := strings.Count(code[:m[0]], "\n") + 1
			got = append(got, rec{code[m[2]:m[3]], site, line, strings.TrimSpace(instr.ReplaceAllString(lines[line-1], ""))})
		}
	}
	want := []struct {
		line, col int
		fn        string
		at        int
	}{
		{2, 2, "f", 2},                  // first statement of the body, always
		{4, 3, "f", 3},                  // s += xs[i] indexes; the loop's only site, set before it
		{6, 20, "func literal in f", 6}, // return s / k divides
		{7, 2, "f", 7},                  // return g() calls
		{9, 1, "", 9},                   // every top-level statement
		{10, 1, "", 10},
		{11, 1, "", 11},
	}
	if len(got) != len(want) {
		for _, g := range got {
			t.Logf("%+v", g)
		}
		t.Fatalf("%d sites, want %d:\n%s\n---\n%s", len(got), len(want), d, st)
	}
	for i, w := range want {
		g := got[i]
		if g.site.Line != w.line || g.site.Col != w.col || g.site.Func != w.fn || g.site.Cell != 7 || g.at != w.at {
			t.Errorf("site %d = %+v on line %d (%q), want line %d col %d in %q on line %d", i, g.site, g.at, g.text, w.line, w.col, w.fn, w.at)
		}
		if (w.fn == "") != (g.v == TopVar) {
			t.Errorf("site %d recorded in %s", i, g.v)
		}
	}
	// The bodies are found by the names yaegi prints.
	def := regexp.MustCompile(`func (goinvDef\d+)\(\)`).FindStringSubmatch(d)
	fr, ok := s.FrameFor("main."+def[1]+".func", 2)
	if !ok || fr.Func != "f" || fr.Var != got[0].v || fr.Skip {
		t.Errorf("frame of f: %+v %v", fr, ok)
	}
	fr, ok = s.FrameFor("main."+def[1]+".func.func", 6)
	if !ok || fr.Func != "func literal in f" || fr.Var != got[2].v {
		t.Errorf("frame of the literal: %+v %v", fr, ok)
	}
	if fr, ok := s.FrameFor("main", 1); !ok || fr.Var != TopVar {
		t.Errorf("top level: %+v", fr)
	}
	// The site variables are declared where they are used.
	if !strings.Contains(d, "var "+got[0].v+", "+got[2].v+" int;") {
		t.Errorf("declarations do not declare the site variables:\n%s", d)
	}
}

func TestInstrumentationHoist(t *testing.T) {
	s := NewSession()
	for _, c := range []struct {
		src     string
		inBody  bool // the body's site is assigned in the body, each iteration
		comment string
	}{
		{"func f(xs []int) {\n\tfor i := range xs {\n\t\txs[i] = 0\n\t}\n}", false, "one site, header cannot panic"},
		{"func f(xs []int) {\n\tfor _, x := range g() {\n\t\txs[x] = 0\n\t}\n}", true, "range over a call"},
		{"func f(xs []int) {\n\tfor i := range xs {\n\t\txs[i] = 0\n\t\txs[i+1] = 1\n\t}\n}", true, "two sites"},
		{"func f(xs [][]int) {\n\tfor i := range xs {\n\t\tfor j := range xs[i] {\n\t\t\txs[i][j] = 0\n\t\t}\n\t}\n}", true, "inner range indexes"},
		{"func f(xs [][]int, n int) {\n\tfor i := 0; i < n; i++ {\n\t\tfor j := 0; j < n; j++ {\n\t\t\txs[i][j] = 0\n\t\t}\n\t}\n}", false, "nested loops hoist twice"},
	} {
		p, err := s.Prepare(c.src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(p.Decls.Code, "\n")
		// The statement that indexes is on the line with "= 0".
		var body string
		for _, l := range lines {
			if strings.Contains(l, "= 0") {
				body = l
			}
		}
		if got := strings.Contains(body, "goinvS"); got != c.inBody {
			t.Errorf("%s: site in body = %v:\n%s", c.comment, got, p.Decls.Code)
		}
	}
}

// Generic calls that define session variables are converted to the result type
// inferred from their arguments (generic.go).
func TestGenericDefinesRewrite(t *testing.T) {
	s := NewSession()
	s.TypeOf = func(name string) string {
		if name == "fromSession" {
			return "map[string][]float64"
		}
		return ""
	}
	prep(t, s, "import \"slices\"\nimport \"maps\"\nxs := []int{1}\ntype P struct{ X int }\nps := []P{}\nfunc Sum[T any](vals []T) T { var z T; return z }\nfunc Two[K comparable, V any](m map[K]V) (K, V) { var k K; var v V; return k, v }")
	for _, c := range [][2]string{
		{"m := slices.Max(xs)", "m := (int)(slices.Max(xs))"},
		{"c := slices.Clone(ps)", "c := ([]P)(slices.Clone(ps))"},
		{"var v = slices.Insert(xs, 0, 2)", "v := ([]int)(slices.Insert(xs, 0, 2))"},
		{"var w []int = slices.Clone(xs)", "w := ([]int)(([]int)(slices.Clone(xs)))"},
		{"mc := maps.Clone(fromSession)", "mc := (map[string][]float64)(maps.Clone(fromSession))"},
		{"s := Sum([]float64{1})", "s := (float64)(Sum([]float64{1}))"},
		{"s2 := Sum(fromSession[\"a\"])", "s2 := (float64)(Sum(fromSession[\"a\"]))"},
		{"k, v2 := Two(fromSession)", "var k string; var v2 []float64; k, v2 = Two(fromSession)"},
		{"l := len(slices.Clone(xs[1:]))", "l := len(([]int)(slices.Clone(xs[1:])))"},
		{"f := func() int { return slices.Max(xs) }", "f := func() int { return slices.Max(xs) }"}, // local: untouched
	} {
		p := prep(t, s, c[0])
		if got := code(p.Stmts); !strings.Contains(got, c[1]) {
			t.Errorf("%q:\n got %s\nwant %s", c[0], got, c[1])
		}
	}
	// A variable of the cell keeps its inferred type for later cells.
	prep(t, s, "mine := slices.Clone(ps)")
	if got := code(prep(t, s, "again := slices.Clone(mine)").Stmts); !strings.Contains(got, "again := ([]P)(slices.Clone(mine))") {
		t.Errorf("a cell's variable's type: %s", got)
	}
	_, err := s.Prepare("q := 1\nbad := Sum(unknown)", Options{})
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Col != 8 || !strings.Contains(e.Msg, "`v := T(Sum(...))`") {
		t.Errorf("a generic call of unknown result type: %v", err)
	}
}

// A range over an iterator of maps or slices becomes the plain range it stands for.
func TestRangeIterators(t *testing.T) {
	s := NewSession()
	prep(t, s, "import \"slices\"\nimport \"maps\"\nm := map[string]int{}\nsl := []int{}")
	for _, c := range [][2]string{
		{"for k := range maps.Keys(m) {}", "for k := range m {}"},
		{"for v := range maps.Values(m) {}", "for _, v := range m {}"},
		{"for k, v := range maps.All(m) { _, _ = k, v }", "for k, v := range m {"},
		{"for range slices.Values(sl) {}", "for range sl {}"},
		{"for i, v := range slices.Backward(sl) { _, _ = i, v }", "for i := len(sl) - 1; i >= 0; i-- { v := sl[i]; _, _ = i, v }"},
		{"func f() { for k := range maps.Keys(map[string]int{}) { _ = k } }", "for k := range map[string]int{} {"},
	} {
		p := prep(t, s, c[0])
		got := code(p.Stmts) + code(p.Decls)
		if !strings.Contains(got, c[1]) {
			t.Errorf("%q:\n got %s\nwant %s", c[0], got, c[1])
		}
	}
}

// Go wants imports first. The pre-pass's own declarations (site variables) go after
// the cell's leading imports, and an import that follows a declaration moves there.
func TestImportsFirst(t *testing.T) {
	for _, src := range []string{
		"import \"math\"\nfunc f(xs []float64) float64 {\n\tfor i := range xs {\n\t\txs[i] = math.Abs(xs[i])\n\t}\n\treturn xs[0]\n}",
		"import \"math\"; func f(x float64) float64 { return math.Abs(x) / x }",
		"import (\n\t\"math\"\n\t\"os\"\n)\nfunc f() int { return os.Getpid() / int(math.Abs(1)) }",
		"func g() int { return 1 }\nimport \"strings\"\nx := strings.Repeat(\"a\", g())",
		"type T struct{}\nimport s2 \"strings\"\nfunc (T) M() string { return s2.ToUpper(\"a\") }",
	} {
		p := prep(t, NewSession(), src)
		if _, err := parser.ParseFile(token.NewFileSet(), "", p.Decls.Code, 0); err != nil {
			t.Errorf("%q: declarations do not parse: %v\n%s", src, err, p.Decls.Code)
		}
	}
	// An import of a package the session has is blanked, and is no place to put
	// declarations after.
	s := NewSession()
	prep(t, s, "import \"strings\"")
	for _, src := range []string{
		"import \"strings\" // again: harmless\nfunc f() int { for i := 0; i < 1; i++ { return len(strings.Repeat(\"a\", i)) }; return 0 }",
		"import \"strings\"\nimport \"os\"\nfunc f() int { for i := 0; i < 1; i++ { return len(strings.Repeat(\"a\", i)) }; return os.Getpid() }",
	} {
		p := prep(t, s, src)
		if _, err := parser.ParseFile(token.NewFileSet(), "", p.Decls.Code, 0); err != nil {
			t.Errorf("%q: declarations do not parse: %v\n%s", src, err, p.Decls.Code)
		}
	}
	// A late import is declared once, after the leading ones, and counts as imported.
	p := prep(t, NewSession(), "import \"os\"\nfunc g() int { return os.Getpid() }\nimport \"strings\"\nvar u = strings.ToUpper(\"a\")")
	if c := p.Decls.Code; strings.Count(c, "\"strings\"") != 1 || strings.Index(c, "\"strings\"") > strings.Index(c, "func") {
		t.Errorf("late import: %s", c)
	}
	if p.Imports["strings"] != "strings" {
		t.Errorf("late import not recorded: %v", p.Imports)
	}
}

// A cell that ends inside a bracket is an error at the bracket left open, not a
// cell whose last statement is silently dropped.
func TestUnclosedBracket(t *testing.T) {
	for src, want := range map[string][2]int{
		"fmt.Println(strconv.Itoa(3)":      {1, 12},
		"x := 1\nfmt.Println(\"x\"":        {2, 12},
		"xs := [3]int{1, 2":                {1, 13},
		"func g() {\n\tif true {\n\t\tx()": {2, 10},
	} {
		_, err := NewSession().Prepare(src, Options{})
		e, ok := err.(*Error)
		if !ok || e.Line != want[0] || e.Col != want[1] || !strings.Contains(e.Msg, "is not closed") {
			t.Errorf("Prepare(%q) = %v, want an unclosed-bracket error at %d:%d", src, err, want[0], want[1])
		}
	}
	if _, err := NewSession().Prepare("fmt.Println(\"a\")\nxs := []int{1, 2}", Options{}); err != nil {
		t.Errorf("balanced cell: %v", err)
	}
}

func TestUndefined(t *testing.T) {
	s := NewSession()
	s.Packages["fmt"] = "fmt"
	s.names["earlier"] = "var"
	for src, want := range map[string]string{
		"z := undefinedThing + 1":                             "undefinedThing 1:6",
		"fmt.Println(nope)":                                   "nope 1:13",
		"y := 2\nfunc f() int { return y + earlier + gone }":  "gone 2:37",
		"type T struct{ A int }\nt := T{A: 1}\nt.A + earlier": "",
		"for i := range 3 { fmt.Println(i, len(\"x\")) }":     "",
		"func g(n int) int { m := n; return m }":              "",
		"x := other.Field":                                    "other 1:6",
	} {
		name, line, col, ok := s.Undefined(src, func(n string) bool { return n == "sessionVar" })
		got := ""
		if ok {
			got = fmt.Sprintf("%s %d:%d", name, line, col)
		}
		if got != want {
			t.Errorf("Undefined(%q) = %q, want %q", src, got, want)
		}
	}
	if _, _, _, ok := s.Undefined("sessionVar + 1", func(n string) bool { return n == "sessionVar" }); ok {
		t.Errorf("a variable the session knows is reported undefined")
	}
}

func TestHideUnexported(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "type Rec struct {\n\tName string `json:\"name\"`\n\ttags []string\n\tn, m int `json:\"n\" yaml:\"n\"`\n\tA, b int\n\tEmbedded\n}")
	d := code(p.Decls)
	for _, want := range []string{"tags []string `json:\"-\"`", "n, m int \"json:\\\"-\\\" yaml:\\\"n\\\"\"", "Name string `json:\"name\"`", "A, b int\n", "Embedded\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("declarations lack %q:\n%s", want, d)
		}
	}
	if got := withoutTagKeys(`json:"a,omitempty" db:"x \"q\"" xml:"b"`, "json", "xml"); got != `db:"x \"q\""` {
		t.Errorf("withoutTagKeys = %q", got)
	}
	if got := withoutTagKeys(`not a tag`, "json"); got != `not a tag` {
		t.Errorf("withoutTagKeys of a free-form tag = %q", got)
	}
}

func TestExpressionListHint(t *testing.T) {
	_, err := NewSession().Prepare("s := \"héllo\"\nlen(s), len([]rune(s))", Options{})
	e, ok := err.(*Error)
	if !ok || e.Line != 2 || !strings.Contains(e.Msg, "fmt.Println(a, b)") {
		t.Errorf("Prepare of an expression list = %v", err)
	}
}

// TestFirstLineDoc: a doc comment that starts on a cell's first line documents the
// declaration below it (behind the "package main;" the pre-pass puts on that line,
// the parser took it for the package clause's comment).
func TestFirstLineDoc(t *testing.T) {
	for src, want := range map[string]string{
		"// Foo says hi.\nfunc Foo() {}":             "Foo says hi.\n",
		"// Foo says hi.\n// Really.\nfunc Foo() {}": "Foo says hi.\nReally.\n",
		"// T is a type.\ntype Foo int":              "T is a type.\n",
		"// a note\n\nfunc Foo() {}":                 "",
		"func Foo() {} // not a doc":                 "",
	} {
		s := NewSession()
		p, err := s.Prepare(src, Options{})
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		p.Commit()
		if got := s.Doc("Foo"); got != want {
			t.Errorf("%q: doc %q, want %q", src, got, want)
		}
	}
}

// TestVarDefsKeepNoBodies: the declarations kept for completion hold no func
// bodies or literal elements, also inside a call's arguments.
func TestVarDefsKeepNoBodies(t *testing.T) {
	s := NewSession()
	p, err := s.Prepare("func f(g func() int, xs []int) int { return g() }\nr := f(func() int { return 1 }, []int{1, 2, 3})\nt := []int{4, 5}", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Commit()
	d, ok := s.VarDef("r")
	call, _ := d.Value.(*ast.CallExpr)
	if !ok || call == nil || len(call.Args) != 2 {
		t.Fatalf("VarDef(r) = %#v", d)
	}
	if fl, _ := call.Args[0].(*ast.FuncLit); fl == nil || fl.Body != nil {
		t.Errorf("func literal argument kept: %#v", call.Args[0])
	}
	if cl, _ := call.Args[1].(*ast.CompositeLit); cl == nil || cl.Elts != nil {
		t.Errorf("composite literal argument kept: %#v", call.Args[1])
	}
	if d, _ := s.VarDef("t"); d.Value.(*ast.CompositeLit).Elts != nil {
		t.Errorf("composite literal kept: %#v", d.Value)
	}
	if fd := s.FuncDecl("f"); fd == nil || fd.Body != nil {
		t.Errorf("FuncDecl(f) = %#v", fd)
	}
}
