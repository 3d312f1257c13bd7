package cell

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// Funcs that use a variable of their own cell's statements.
//
// A cell's declarations are evaluated before its statements, so a func that
// mentions a variable the cell defines with := (or with a var that runs as a
// statement) did not compile:
//
//	data := []float64{1, 2, 3}
//	func mean() float64 { ... data ... }   // undefined: data
//
// Such a func is declared in both halves: the declarations declare its variable
// (funcs are variables, see rewriteDecls), and the statements assign it where the
// func stands in the cell, `func mean()` becoming `mean=func()` in place (same
// length, so positions stay), after the statements that define what it uses.

// funcsUsingStmtVars marks the plain func declarations that mention a name the
// cell's statements define: they are then in both halves.
func funcsUsingStmtVars(src string, segs []segment) {
	defined := map[string]bool{}
	for _, sg := range segs {
		if sg.decl {
			continue
		}
		if sg.tok == token.VAR {
			for _, n := range varNames(src[sg.start:sg.end]) {
				defined[n] = true
			}
			continue
		}
		for _, n := range shortVarNames(src[sg.start:sg.end]) {
			defined[n] = true
		}
	}
	if len(defined) == 0 {
		return
	}
	for i, sg := range segs {
		if !sg.decl || sg.tok != token.FUNC {
			continue
		}
		m := funcName.FindStringSubmatch(src[sg.start:sg.end])
		if m == nil || m[1] == "init" || m[1] == "main" || m[1] == "_" || defined[m[1]] {
			continue
		}
		if rest := strings.TrimLeft(src[sg.start+len(m[0]):sg.end], " \t"); !strings.HasPrefix(rest, "(") {
			continue // generic: not a value
		}
		for _, id := range freeNames(src[sg.start:sg.end]) {
			if defined[id] {
				segs[i].both = true
				break
			}
		}
	}
}

// freeNames returns the identifiers a func declaration mentions but does not
// declare itself (its parameters, results and locals are not free), or all its
// identifiers when it does not parse alone.
func freeNames(text string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+text, 0)
	if err != nil {
		return identifiers(text)
	}
	var names []string
	for _, id := range f.Unresolved {
		names = append(names, id.Name)
	}
	return names
}

// shortVarNames returns the names a statement `a, b := ...` defines (none for
// other statements).
func shortVarNames(text string) []string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(text)), []byte(text), nil, 0)
	var names []string
	for {
		_, tok, lit := sc.Scan()
		if tok != token.IDENT {
			return nil
		}
		names = append(names, lit)
		_, tok, _ = sc.Scan()
		switch tok {
		case token.DEFINE:
			return names
		case token.COMMA:
		default:
			return nil
		}
	}
}

// asAssignment turns `func name` at the start of a func segment into `name=func`
// of the same length, for the statement half.
func asAssignment(b []byte, sg segment) {
	m := funcName.FindSubmatchIndex(b[sg.start:sg.end])
	if m == nil {
		return
	}
	name := string(b[sg.start+m[2] : sg.start+m[3]])
	repl := name + "=func" + strings.Repeat(" ", m[1]-len(name)-5)
	copy(b[sg.start:], repl)
}

// funcVarOnly rewrites the declaration of a func that the statements assign (see
// funcsUsingStmtVars) into the declaration of its variable alone.
func (r *rewriter) funcVarOnly(d *ast.FuncDecl, in string) []edit {
	name := d.Name.Name
	sig := r.sigKey(d.Type, in)
	r.p.funcSigs[name] = sig
	blank := r.blankEdit(in, d.Pos(), d.End())
	blank.order = -1000 // edits inside the declaration are dropped
	if old, ok := r.s.funcSigs[name]; !ok || old != sig {
		blank.text = "var " + name + " " + r.funcVarType(d.Type, in) + ";" + blank.text
	}
	return []edit{blank}
}
