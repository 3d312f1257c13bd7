package cell

import (
	"strings"
	"testing"
)

func TestFuncsUsingStatementVariables(t *testing.T) {
	s := NewSession()
	p := prep(t, s, "a := 1\nfunc useA(x int) (int, error) { return a * x, nil }\nfunc other() int { return 2 }\nvar b = 3\nfunc useB() int { return b }")
	d, st := code(p.Decls), code(p.Stmts)
	if !strings.Contains(d, "var useA func(int) (int, error);") || strings.Contains(d, "return a * x") {
		t.Errorf("declarations: want useA's variable alone:\n%s", d)
	}
	if !strings.Contains(st, "useA=func(x int) (int, error) { return a * x, nil }") {
		t.Errorf("statements: want useA assigned in place:\n%s", st)
	}
	if !strings.Contains(d, "other = func") || strings.Contains(st, "other") {
		t.Errorf("a func not using them stays a declaration:\n%s\n%s", d, st)
	}
	if !strings.Contains(st, "var b = 3") || !strings.Contains(st, "useB=func() int { return b }") {
		t.Errorf("a var after a statement is a statement, and so is the func using it:\n%s", st)
	}
	// Its own parameters, results and locals of a statement variable's name do not count.
	q := prep(t, NewSession(), "err := f()\nfunc g(a int) (err error) { b := 1; _ = b; return nil }\nb := 2")
	if !strings.Contains(code(q.Decls), "g = func") {
		t.Errorf("a func declaring the name itself stays a declaration:\n%s", code(q.Decls))
	}
	// Lines and columns stay where the user wrote them.
	if strings.Count(d, "\n") != 4 || strings.Count(st, "\n") != 4 {
		t.Errorf("lines moved:\n%s\n%s", d, st)
	}
	// Same signature again: the variable is only assigned.
	p = prep(t, s, "a := 2\nfunc useA(y int) (int, error) { return a + y, nil }")
	if strings.Contains(code(p.Decls), "var useA") || !strings.Contains(code(p.Stmts), "useA=func(y int)") {
		t.Errorf("redefinition:\n%s\n%s", code(p.Decls), code(p.Stmts))
	}
	for _, c := range [][2]string{{"a, b := f()", "a b"}, {"x := 1", "x"}, {"x = 1", ""}, {"m[k] := 1", ""}, {"fmt.Println(x)", ""}} {
		if got := strings.Join(shortVarNames(c[0]), " "); got != c[1] {
			t.Errorf("shortVarNames(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

func TestMethodExpressions(t *testing.T) {
	s := NewSession()
	prep(t, s, "type P struct{}\nfunc (p P) V(x int) int { return x }\nfunc (p *P) Q() {}")
	p := prep(t, s, "f := P.V\ng := (*P).Q\nh := (P).V\nvar v P\nk := v.V\nbad := (*P).V")
	st := code(p.Stmts)
	for _, want := range []string{"f := goinvM_P_V", "g := goinvM_P_Q", "h := (P).V", "k := v.V", "bad := (*P).V"} {
		if !strings.Contains(st, want) {
			t.Errorf("want %q in:\n%s", want, st)
		}
	}
}
