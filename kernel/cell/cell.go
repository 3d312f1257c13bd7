// Package cell is the pre-pass that turns a notebook cell into code yaegi can evaluate
// with the semantics Go users expect.
//
// yaegi evaluates either a file fragment (imports and declarations) or a list of
// statements, decided by the first token; a cell mixes both in any order. Prepare
// splits the cell at its top-level boundaries with go/scanner, keeps every byte at its
// original offset (text of the other kind is blanked, newlines kept), and parses the
// two halves with go/parser. It then rewrites what yaegi gets wrong:
//
//   - imports are hoisted and de-duplicated against the session (yaegi refuses to
//     import a package twice), and packages used but not imported are imported for
//     the user when their name is unambiguous (fmt, strings, display, plot, ...);
//   - top-level funcs become package-level func variables, and a later definition with
//     the same signature assigns the variable, so callers compiled earlier see the new
//     body (yaegi binds calls statically);
//   - a type declared again gets a fresh internal name (Pointʹ2) and later cells use
//     the newest one (yaegi silently keeps the first definition);
//   - top-level if/for/switch statements that define two or more variables with := are
//     wrapped in a closure (yaegi issue #232: "undefined: a");
//   - min, max and clear (Go 1.21) call preloaded helpers, and range over an integer
//     (Go 1.22) becomes a three-clause loop;
//   - the last expression of the cell is assigned to goinvLast, so the executor can
//     show it (and call its HTML, PNG, ... methods, which reflect cannot see on
//     interpreted types);
//   - top-level type switches that bind a variable are wrapped like #232;
//   - a loop body whose closures capture the header's variables gets its own copy
//     of them, as since Go 1.22 (see loops.go), and a labelled break directly in a
//     select case is put in a block, where yaegi honours its label;
//   - methods of cell types call their body through a func variable, so that a
//     method declared again replaces the body for every value (see methods.go);
//   - every statement that can panic first records its site, so that a panic's
//     traceback shows the line and column of each running statement (see trace.go).
//
// Every rewrite is recorded, so positions the interpreter reports map back to the
// line and column of the cell as the user wrote it.
package cell

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/scanner"
	"go/token"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Names of the helpers the executor preloads into every session.
const (
	LastVar   = "goinvLast"  // the variable the cell's value is assigned to
	MinFunc   = "goinvMin"   // generic min
	MaxFunc   = "goinvMax"   // generic max
	ClearFunc = "goinvClear" // clear for maps and slices
	// ValuesFunc returns its arguments as a []interface{}: the values of a call
	// of several results (see Plan.ValuesTail).
	ValuesFunc = "goinvValues"
)

const (
	declPrefix = "package main;"
	// stmtWrap is what yaegi puts around a statement list; stmtLead is what we put
	// first so that the list never starts with a token yaegi would take as a
	// declaration (a cell starting with func(){...}() leaves yaegi in a broken state).
	stmtWrap = "package main; func main() {"
	stmtLead = ";"
)

// Session is the pre-pass state carried from cell to cell. The zero value is not
// usable: call NewSession.
type Session struct {
	// Imports maps the name a package is known by in the session to its path.
	Imports map[string]string
	// Packages maps package names to import paths for automatic imports.
	Packages map[string]string
	// IntVar reports whether a session variable has an integer type, so that
	// `for i := range n` can be rewritten before the first try. May be nil.
	IntVar func(name string) bool
	// VarType returns the type name of a session variable of a basic type ("int",
	// "float64", ...), or "". It picks the non-generic min and max helpers. May be nil.
	VarType func(name string) string
	// TypeOf returns the type of a session variable as Go source, if the session
	// can write it ("[]float64", "map[string]int"), or "". It types session
	// variables made from generic calls (see generic.go). May be nil.
	TypeOf func(name string) string
	// Results returns the number of results of the func name of the package at
	// path, or -1 if it is not a func the session knows. It lets the pre-pass
	// refuse a call of several results where one value is wanted, which yaegi
	// runs with the first (see multivalue.go). May be nil.
	Results func(path, name string) int
	// PkgType returns the type, as Go source, of the func or variable name of
	// the package at path ("func(int) string" for strconv.Itoa), or "". It types
	// such arguments of generic calls (see generic.go). May be nil.
	PkgType func(path, name string) string

	names    map[string]string // declared top-level name → kind (var, const, func, type)
	funcSigs map[string]string // func name → signature of its variable
	types    map[string]string // user type name → internal name
	typeGen  map[string]int
	docs     map[string]string       // declared name → doc comment
	methods  map[string]bool         // names of methods declared in cells
	recvM    map[string]string       // "internalType.Method" declared in cells → signature of its func variable
	generics map[string]*genericFunc // generic funcs declared in cells
	varTypes map[string]string       // session variable → its type as the pre-pass inferred it (generic.go)

	// Declarations as written, for completion and inspection (decls.go).
	typeSpecs   map[string]*ast.TypeSpec
	methodDecls map[string]map[string]*ast.FuncDecl // type name → method name → declaration
	funcDecls   map[string]*ast.FuncDecl
	varDefs     map[string]VarDef

	nextID int          // numbers site variables, sites and definitions
	sites  map[int]Site // site number → statement
	frames []Frame      // instrumented function bodies, oldest first

	// A top-level site is read only while its cell runs (TopVar is set again by
	// the next cell's first statement), so the top-level sites of a cell are
	// forgotten when the next cell is prepared: sites then grow with the function
	// bodies a session declares, not with the cells it runs.
	topCell   int
	topSites  []int
	bodyCells map[int]bool // cells with sites in function bodies
}

// NewSession returns an empty session.
func NewSession() *Session {
	return &Session{
		Imports:   map[string]string{},
		Packages:  map[string]string{},
		names:     map[string]string{},
		funcSigs:  map[string]string{},
		types:     map[string]string{},
		typeGen:   map[string]int{},
		docs:      map[string]string{},
		methods:   map[string]bool{},
		recvM:     map[string]string{},
		generics:  map[string]*genericFunc{},
		varTypes:  map[string]string{},
		sites:     map[int]Site{},
		bodyCells: map[int]bool{},

		typeSpecs:   map[string]*ast.TypeSpec{},
		methodDecls: map[string]map[string]*ast.FuncDecl{},
		funcDecls:   map[string]*ast.FuncDecl{},
		varDefs:     map[string]VarDef{},
	}
}

// Referenced reports whether sites in function bodies of cell n (Options.Cell)
// are recorded: a traceback may then show that cell's text, so keep it.
func (s *Session) Referenced(n int) bool { return s.bodyCells[n] }

// HasMethod reports whether some cell declared a method with this name.
func (s *Session) HasMethod(name string) bool { return s.methods[name] }

// Names returns the top-level names declared by the cells so far with their kind
// ("var", "const", "func" or "type").
func (s *Session) Names() map[string]string { return s.names }

// Doc returns the doc comment of a name declared in a cell.
func (s *Session) Doc(name string) string { return s.docs[name] }

// TypeName returns the internal name of the user's type name (itself unless the type
// was redeclared).
func (s *Session) TypeName(name string) string {
	if n, ok := s.types[name]; ok {
		return n
	}
	return name
}

// Unmangle replaces internal type names in a message by the names the user wrote.
func (s *Session) Unmangle(msg string) string {
	for user, internal := range s.types {
		if user != internal {
			msg = strings.ReplaceAll(msg, internal, user)
		}
	}
	return msg
}

// LastKind says what the executor should do with the cell's last statement.
type LastKind int

const (
	LastNone  LastKind = iota // not an expression: no execute_result
	LastShow                  // a single value: evaluate ShowStmts
	LastMaybe                 // a call whose arity is unknown: check FunExpr first
)

// Plan is a prepared cell.
type Plan struct {
	// Decls holds the imports and declarations, to evaluate first (nil if none).
	Decls *Source
	// Stmts holds the statements (nil if none); ShowStmts, filled by Split, is the
	// same with the last expression assigned to LastVar.
	Stmts, ShowStmts *Source
	// Last says how to treat the last statement. For LastMaybe, FunExpr is the
	// side-effect-free function expression of the call: evaluate it, and use
	// ShowStmts if its type has exactly one result.
	Last    LastKind
	FunExpr string
	// ArgTail, filled with Tail by Split, is the last statement passed to a
	// func(interface{}): it compiles if and only if the statement has exactly one
	// value (yaegi compiles `v := f()` for an f of no or two results).
	ArgTail *Source
	// ValuesTail, filled with Tail by Split, is the last statement passed to
	// ValuesFunc, for a call of several results: its value is their list.
	ValuesTail *Source
	// For LastMaybe, Head is Stmts without the last statement, and Tail and ShowTail
	// are that statement alone, plain and assigned to LastVar: run Head, then look at
	// FunExpr (which may name something Head defined), then one of the tails.
	Head, Tail, ShowTail *Source
	// Ranges are the cell offsets of `range X` expressions that were not rewritten
	// because X's type is unknown; if the interpreter cannot range over one, prepare
	// again with that offset in Options.IntRanges.
	Ranges []int
	// Imports are the imports this cell adds to the session, name → path.
	Imports map[string]string
	// Warnings tell the user about what the cell cannot do (print them).
	Warnings []string
	// Defers reports that the statements put calls on DeferList, which the
	// executor runs (RunDefers) when they end, whether or not they failed.
	Defers bool
	// VarInits are the package-level var declarations of Decls whose initializers can
	// panic: such a panic happens before any statement records its site, so the
	// executor names these instead.
	VarInits []Site

	s        *Session
	split    func() // fills Head, Tail and ShowTail; see Split
	names    map[string]string
	funcSigs map[string]string
	types    map[string]string
	docs     map[string]string
	methods  map[string]bool
	recvM    map[string]string
	generics map[string]*genericFunc
	varTypes map[string]string
	frames   []Frame

	typeSpecs   map[string]*ast.TypeSpec
	methodDecls map[string]map[string]*ast.FuncDecl
	funcDecls   map[string]*ast.FuncDecl
	varDefs     map[string]VarDef
}

// Commit records the plan's declarations in the session. Call it once the
// declarations compiled.
func (p *Plan) Commit() {
	s := p.s
	for k, v := range p.Imports {
		s.Imports[k] = v
	}
	for k, v := range p.names {
		s.names[k] = v
		if g := p.generics[k]; g != nil {
			s.generics[k] = g
		} else {
			delete(s.generics, k) // declared again, not as a generic func
		}
		if t := p.varTypes[k]; t != "" {
			s.varTypes[k] = t
		} else {
			delete(s.varTypes, k)
		}
	}
	for k, v := range p.funcSigs {
		s.funcSigs[k] = v
	}
	for k, v := range p.types {
		if v != k {
			s.typeGen[k]++
		}
		s.types[k] = v
	}
	for k, v := range p.docs {
		s.docs[k] = v
	}
	for k := range p.methods {
		s.methods[k] = true
	}
	for k, v := range p.recvM {
		s.recvM[k] = v
	}
	s.frames = append(s.frames, p.frames...)
	p.frames = nil
	p.commitDecls()
}

// Error is a syntax error in a cell, at a position in the cell as written.
type Error struct {
	Line, Col int // 1-based; Col counts code points
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Options tune Prepare.
type Options struct {
	// IntRanges lists cell offsets of range expressions known to be integers.
	IntRanges map[int]bool
	// Cell identifies the cell in the sites its instrumentation records (see Site).
	Cell int
}

type segment struct {
	start, end int
	decl       bool
	tok        token.Token
	// both marks a func declared in the declarations and assigned in the
	// statements (see funcsUsingStmtVars).
	both bool
	// late marks an import that follows another declaration: Go wants imports
	// first, so it is blanked in both halves and declared after the leading
	// imports (see rewriteDecls).
	late bool
}

// split cuts src into top-level declarations and statements.
func split(src string) ([]segment, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell.go", -1, len(src))
	var sc scanner.Scanner
	var firstErr error
	sc.Init(file, []byte(src), func(pos token.Position, msg string) {
		if firstErr == nil {
			firstErr = &Error{Line: pos.Line, Col: runeCol(src, pos.Offset), Msg: msg}
		}
	}, 0)
	type tk struct {
		off int
		tok token.Token
		lit string
	}
	var toks []tk
	for {
		pos, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		toks = append(toks, tk{file.Offset(pos), tok, lit})
	}
	if firstErr != nil {
		return nil, firstErr
	}
	var segs []segment
	depth := 0
	start := -1
	var open []tk // the brackets not closed yet, innermost last
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if start < 0 {
			if t.tok == token.SEMICOLON {
				continue
			}
			start = i
		}
		switch t.tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
			open = append(open, t)
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
		if depth <= 0 && (t.tok == token.SEMICOLON || i == len(toks)-1) {
			end := t.off
			if t.tok == token.SEMICOLON && t.lit == ";" {
				end++ // an explicit semicolon belongs to its statement
			}
			if t.tok != token.SEMICOLON {
				end = len(src)
				// the last token ends where the source's trimmed text ends
				end = len(strings.TrimRight(src, " \t\r\n"))
			}
			first := toks[start]
			seg := segment{start: first.off, end: end, tok: first.tok}
			switch first.tok {
			case token.IMPORT, token.TYPE, token.VAR, token.CONST:
				seg.decl = true
			case token.FUNC:
				seg.decl = isFuncDecl(toks[start:i+1], func(j int) token.Token { return toks[start+j].tok })
			}
			segs = append(segs, seg)
			start = -1
			depth, open = 0, open[:0]
		}
	}
	if depth > 0 && len(open) > 0 {
		// The cell ends inside a bracket: its last statement would be lost (yaegi
		// takes a source that ends early for the first lines of a longer one).
		o := open[len(open)-1]
		pos := file.Position(file.Pos(o.off))
		closer := map[token.Token]token.Token{token.LPAREN: token.RPAREN, token.LBRACE: token.RBRACE, token.LBRACK: token.RBRACK}[o.tok]
		return nil, &Error{Line: pos.Line, Col: runeCol(src, o.off),
			Msg: fmt.Sprintf("this %s is not closed: the cell ends before its %s", o.tok, closer)}
	}
	return segs, nil
}

var funcName = regexp.MustCompile(`^func\s+(\w+)`)

// moveVarsUsingGlobals moves to the statement list the package-level var
// declarations that mention a variable of an earlier cell (funcs of earlier cells
// are variables too, see rewriteDecls). yaegi orders a source's package-level var
// initializers by the global variables they mention, and one declared by an
// earlier source never counts as initialized: `var y = x + 1`, or even
// `var f func(x int)` (a parameter is matched by name), fails with "variable
// definition loop". In the statement list the declaration is a plain statement,
// run in order, and still declares a session variable.
//
// A var that the cell's other declarations (funcs, types, consts) mention stays,
// as they must compile before the statements run; a var that a staying var
// mentions stays with it. Such a var still fails when it mentions an earlier
// variable (rare: a func of the cell reading a var that is computed from an
// earlier cell's var).
func (s *Session) moveVarsUsingGlobals(src string, segs []segment) {
	var refs [][]string // identifiers each segment mentions, not as a selector's field
	moved := map[int]bool{}
	for i, sg := range segs {
		if !sg.decl || sg.tok == token.IMPORT {
			refs = append(refs, nil)
			continue
		}
		ids := identifiers(src[sg.start:sg.end])
		refs = append(refs, ids)
		if sg.tok != token.VAR {
			continue
		}
		for _, id := range ids {
			// A generic call's result must be converted to its type (generic.go),
			// which the pre-pass does in statements.
			_, declared := s.names[id]
			generic := !declared && slices.Contains(genericPackages, s.Imports[id]) ||
				!declared && s.Imports[id] == "" && slices.Contains(genericPackages, s.Packages[id])
			if k := s.names[id]; k == "var" || k == "func" || generic {
				moved[i] = true
				break
			}
		}
	}
	if len(moved) == 0 {
		return
	}
	declared := map[int][]string{}
	for i, sg := range segs {
		if sg.decl && sg.tok == token.VAR {
			declared[i] = varNames(src[sg.start:sg.end])
		}
	}
	mentions := func(j, i int) bool { // does segment j mention a name segment i declares?
		for _, id := range refs[j] {
			for _, n := range declared[i] {
				if id == n {
					return true
				}
			}
		}
		return false
	}
	// A var mentioning a var that moves moves too (it would run before it).
	for changed := true; changed; {
		changed = false
		for j := range declared {
			if moved[j] {
				continue
			}
			for i := range moved {
				if mentions(j, i) {
					moved[j], changed = true, true
					break
				}
			}
		}
	}
	// What a declaration that stays mentions stays too, until nothing changes.
	for changed := true; changed; {
		changed = false
		for i := range moved {
			for j, sg := range segs {
				if j != i && sg.decl && !moved[j] && mentions(j, i) {
					delete(moved, i)
					changed = true
					break
				}
			}
		}
	}
	for i := range moved {
		segs[i].decl = false
	}
}

// genericPackages are the standard packages of generic functions.
var genericPackages = []string{"slices", "maps", "cmp"}

// identifiers returns the identifiers of a piece of Go source, except those that
// follow a period (a selector's field or method).
func identifiers(text string) []string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(text)), []byte(text), nil, 0)
	var ids []string
	prev := token.ILLEGAL
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			return ids
		}
		if tok == token.IDENT && prev != token.PERIOD {
			ids = append(ids, lit)
		}
		prev = tok
	}
}

// varNames returns the names a var declaration declares: `var a, b = ...` or a
// group `var ( a T; b, c = ... )`.
func varNames(text string) []string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(text)), []byte(text), nil, 0)
	var names []string
	depth := 0
	group := false      // inside var ( ... )
	expectName := false // the next identifier is a declared name
	prev := token.ILLEGAL
	afterName := false // a comma now continues the list of names
	for {
		_, tok, lit := sc.Scan()
		switch tok {
		case token.EOF:
			return names
		case token.VAR:
			if depth == 0 {
				expectName = true
			}
			prev = tok
			continue
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
			if depth == 1 && tok == token.LPAREN && prev == token.VAR {
				group, expectName = true, true // each spec of the group starts with names
				prev = tok
				continue
			}
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		case token.SEMICOLON:
			if depth == 1 && group {
				expectName = true
				prev = tok
				continue
			}
		}
		prev = tok
		switch {
		case expectName && tok == token.IDENT:
			names = append(names, lit)
			expectName, afterName = false, true
		case afterName && tok == token.COMMA:
			expectName, afterName = true, false
		default:
			expectName, afterName = false, false
		}
	}
}

// isFuncDecl tells a func or method declaration from a func literal statement.
func isFuncDecl[T any](toks []T, tok func(int) token.Token) bool {
	if len(toks) < 2 {
		return false
	}
	if tok(1) == token.IDENT {
		return true
	}
	if tok(1) != token.LPAREN {
		return false
	}
	depth := 0
	for j := 1; j < len(toks); j++ {
		switch tok(j) {
		case token.LPAREN:
			depth++
		case token.RPAREN:
			depth--
			if depth == 0 {
				return j+2 < len(toks) && tok(j+1) == token.IDENT && tok(j+2) == token.LPAREN
			}
		}
	}
	return false
}

func runeCol(src string, off int) int {
	_, c := offsetLineCol(src, off)
	return c
}

// blank returns src with the given segments replaced by spaces, newlines kept.
func blank(src string, segs []segment, decl bool) string {
	b := []byte(src)
	for _, s := range segs {
		if s.both {
			if decl { // the statement half
				asAssignment(b, s)
			}
			continue
		}
		if s.decl != decl && !s.late {
			continue
		}
		for i := s.start; i < s.end && i < len(b); i++ {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	return string(b)
}

// Prepare rewrites a cell for evaluation.
func (s *Session) Prepare(src string, opt Options) (*Plan, error) {
	if opt.Cell != s.topCell {
		for _, id := range s.topSites {
			delete(s.sites, id)
		}
		s.topCell, s.topSites = opt.Cell, s.topSites[:0]
	}
	segs, err := split(src)
	if err != nil {
		return nil, err
	}
	var lateImports []string
	otherDecl := false
	for i := range segs {
		switch {
		case segs[i].tok == token.IMPORT && otherDecl:
			segs[i].late = true
			lateImports = append(lateImports, src[segs[i].start:segs[i].end])
		case segs[i].decl && segs[i].tok != token.IMPORT:
			otherDecl = true
		}
	}
	// var and const after a statement stay in the statement list, so that they see
	// the values computed before them in the same cell. So do vars whose initializer
	// calls a func of this cell: funcs are assigned in init, after package vars.
	var funcNames []string
	for _, sg := range segs {
		if sg.decl && sg.tok == token.FUNC {
			if m := funcName.FindStringSubmatch(src[sg.start:sg.end]); m != nil {
				funcNames = append(funcNames, regexp.QuoteMeta(m[1]))
			}
		}
	}
	var callsCellFunc *regexp.Regexp
	if len(funcNames) > 0 {
		callsCellFunc = regexp.MustCompile(`\b(?:` + strings.Join(funcNames, "|") + `)\s*\(`)
	}
	for i := range segs {
		if segs[i].tok == token.VAR && callsCellFunc != nil && callsCellFunc.MatchString(src[segs[i].start:segs[i].end]) {
			segs[i].decl = false
		}
	}
	s.moveVarsUsingGlobals(src, segs)
	seenStmt := false
	hasDecl, hasStmt := false, false
	for i := range segs {
		if !segs[i].decl {
			seenStmt = true
		} else if seenStmt && (segs[i].tok == token.VAR || segs[i].tok == token.CONST) {
			segs[i].decl = false
		}
	}
	funcsUsingStmtVars(src, segs)
	stmtFuncs := map[int]bool{} // cell offsets of funcs the statements assign
	for i := range segs {
		if segs[i].decl {
			hasDecl = true
		}
		if !segs[i].decl || segs[i].both {
			hasStmt = true
		}
		if segs[i].both {
			stmtFuncs[segs[i].start] = true
		}
	}
	p := &Plan{
		s:        s,
		Imports:  map[string]string{},
		names:    map[string]string{},
		funcSigs: map[string]string{},
		types:    map[string]string{},
		docs:     map[string]string{},
		methods:  map[string]bool{},
		recvM:    map[string]string{},
		generics: map[string]*genericFunc{},
		varTypes: map[string]string{},

		typeSpecs:   map[string]*ast.TypeSpec{},
		methodDecls: map[string]map[string]*ast.FuncDecl{},
		funcDecls:   map[string]*ast.FuncDecl{},
		varDefs:     map[string]VarDef{},
	}
	r := &rewriter{s: s, p: p, src: src, opt: opt, stmtFuncs: stmtFuncs, lateImports: lateImports}

	declIn := declPrefix + blank(src, segs, false)
	stmtIn := stmtWrap + stmtLead + blank(src, segs, true) + "\n}"
	fset := token.NewFileSet()
	var declF, stmtF *ast.File
	if hasDecl {
		declF, err = parser.ParseFile(fset, "cell.go", declIn, parser.ParseComments)
		if err != nil {
			return nil, r.syntaxError(err, len(declPrefix))
		}
	}
	if hasStmt {
		stmtF, err = parser.ParseFile(fset, "cell.go", stmtIn, 0)
		if err != nil {
			return nil, r.syntaxError(err, len(stmtWrap)+len(stmtLead))
		}
	}
	r.fset = fset
	attachFirstLineDoc(fset, declF)
	r.collect(declF, stmtF)
	if r.singleValueCheck(declF, stmtF); r.err != nil {
		return nil, r.err
	}
	if r.topLevelBranches(stmtF); r.err != nil {
		return nil, r.err
	}
	r.recordDecls(declF, stmtF)
	var declEdits, stmtEdits []edit
	if declF != nil {
		r.prefix = len(declPrefix)
		declEdits = r.rewriteDecls(declF, declIn)
		if r.err != nil {
			return nil, r.err
		}
		declEdits = append(declEdits, r.instrEdits...)
		r.instrEdits = nil
		if d := varDecl(r.declVars); d != "" {
			// Before the declarations: yaegi compiles a generic type's methods where
			// the type is instantiated (`var b Box[int]`), and a site variable
			// declared after that point is undefined there.
			at := len(declIn)
			for _, dd := range declF.Decls { // before the first declaration after the imports
				if g, ok := dd.(*ast.GenDecl); !ok || g.Tok != token.IMPORT {
					at = r.off(dd.Pos())
					break
				}
			}
			// First among the edits there: a rewrite of the declaration may replace it.
			declEdits = append(declEdits, edit{pos: at, end: at, text: d, order: -3000})
		}
		if len(r.lateImportDecls) > 0 {
			// Imports that followed another declaration, blanked there (see Prepare):
			// just before the first declaration after the leading imports, or at the end.
			at, text := len(declIn), "\n"+strings.Join(r.lateImportDecls, "; ")+"; "
			for _, dd := range declF.Decls {
				if g, ok := dd.(*ast.GenDecl); !ok || g.Tok != token.IMPORT {
					at, text = r.off(dd.Pos()), text[1:]
					break
				}
			}
			declEdits = append(declEdits, edit{pos: at, end: at, text: text, order: -3100})
		}
	}
	if stmtF != nil {
		r.prefix = len(stmtWrap) + len(stmtLead)
		stmtEdits = r.rewriteStmts(stmtF, stmtIn)
		if r.err != nil {
			return nil, r.err
		}
		stmtEdits = append(stmtEdits, r.instrEdits...)
		r.instrEdits = nil
		if d := varDecl(r.stmtVars); d != "" {
			stmtEdits = append(stmtEdits, edit{pos: r.prefix, end: r.prefix, text: d, order: -2000})
		}
	}
	// Automatic imports go into the declaration source, which exists even when the
	// cell has only statements.
	auto := r.autoImports(declF, stmtF)
	if len(auto) > 0 || declF != nil {
		if declF == nil {
			declIn = declPrefix + blank(src, segs, false)
		}
		var b strings.Builder
		for _, name := range auto {
			fmt.Fprintf(&b, "import %s %q;", name, p.Imports[name])
		}
		if b.Len() > 0 {
			declEdits = append(declEdits, edit{pos: len(declPrefix), end: len(declPrefix), text: b.String(), order: -5000}) // first of all
		}
		p.Decls = newSource(declIn, declEdits, len(declPrefix), src, 0)
	}
	if stmtF != nil {
		p.Stmts = newSource(stmtIn, stmtEdits, len(stmtWrap)+len(stmtLead), src, len(stmtWrap))
		pre := len(stmtWrap) + len(stmtLead)
		with := func(extra ...edit) *Source {
			return newSource(stmtIn, append(append([]edit(nil), stmtEdits...), extra...), pre, src, len(stmtWrap))
		}
		p.split = func() {
			if r.lastEdits != nil {
				p.ShowStmts = with(r.lastEdits...)
			}
			blankHead := blankRange(stmtIn, pre, r.lastStart)
			p.Head = with(blankRange(stmtIn, r.lastStart, r.lastEnd))
			p.Tail = with(blankHead)
			p.ShowTail = with(append([]edit{blankHead}, r.lastEdits...)...)
			if r.argEdits != nil {
				p.ArgTail = with(append([]edit{blankHead}, r.argEdits...)...)
				p.ValuesTail = with(blankHead,
					edit{pos: r.lastExprStart, end: r.lastExprStart, text: ValuesFunc + "(", order: -40},
					edit{pos: r.lastExprEnd, end: r.lastExprEnd, text: ")", order: 40})
			}
		}
		if p.Last == LastMaybe {
			p.Split()
		}
	}
	return p, nil
}

// Split fills ShowStmts, Head, Tail, ShowTail and ArgTail (which Prepare fills for
// LastMaybe only; each is one more rewrite of the cell) for a plan whose last
// statement is shown, so that the executor can run the statements before it
// first and look at that statement with their names defined. It reports whether
// the plan has them.
func (p *Plan) Split() bool {
	if p.Head == nil && p.split != nil && p.Last != LastNone {
		p.split()
	}
	p.split = nil
	return p.Head != nil
}

// Empty reports whether src has no statement to run (a Head of blanks).
func (src *Source) Empty() bool {
	return strings.Trim(src.Code, "; \t\n") == ""
}

// blankRange is an edit that turns in[a:b] into spaces, keeping newlines. It sorts
// before other edits at a, so that edits inside the range are dropped.
func blankRange(in string, a, b int) edit {
	t := []byte(in[a:b])
	for i := range t {
		if t[i] != '\n' {
			t[i] = ' '
		}
	}
	return edit{pos: a, end: b, text: string(t), order: -1000}
}

func newSource(in string, edits []edit, prefix int, cell string, wrap int) *Source {
	out, kept := apply(in, edits)
	code := out
	if wrap > 0 {
		code = out[wrap : len(out)-2] // yaegi puts back "package main; func main() {" and "}"
	}
	return &Source{Code: code, out: out, prefix: prefix, cell: cell, edits: kept}
}

func (r *rewriter) syntaxError(err error, prefix int) error {
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		off := e.Pos.Offset - prefix
		if off < 0 {
			off = 0
		}
		if off > len(r.src) {
			off = len(r.src)
		}
		l, c := offsetLineCol(r.src, off)
		msg := e.Msg
		if msg == "expected 1 expression" {
			// `a, b` alone, as a last line: Go has no tuples to show.
			msg += " (a cell shows one value: to see several, print them, fmt.Println(a, b))"
		}
		return &Error{Line: l, Col: c, Msg: msg}
	}
	return err
}

type rewriter struct {
	s    *Session
	p    *Plan
	src  string
	opt  Options
	fset *token.FileSet

	cellNames map[string]bool // names declared anywhere in this cell
	renames   map[string]string
	excluded  map[*ast.Ident]bool
	lastEdits []edit
	argEdits  []edit // pass the last expression to a func(interface{}) (see Plan.ArgTail)
	// lastExprStart and lastExprEnd delimit the last expression in the statement input.
	lastExprStart, lastExprEnd int
	lastStart                  int // the last statement in the statement input
	lastEnd                    int
	rangeN                     int
	deferN                     int // numbers the temporaries of deferred calls (see defers.go)
	seenRange                  map[*ast.RangeStmt]bool
	// stmtFuncs are the cell offsets of the funcs that the statements assign (see
	// funcsUsingStmtVars).
	stmtFuncs map[int]bool
	// lateImports are the texts of the cell's imports that follow another
	// declaration; lateImportDecls what of them the session lacks (see Prepare).
	lateImports     []string
	lateImportDecls []string
	// loopsCopied are the loops whose bodies copy the header's variables (see loops.go).
	loopsCopied map[ast.Stmt]bool
	stmtOff     int // offset of the user's text in the statement input

	prefix     int    // offset of the user's text in the half being rewritten
	instrEdits []edit // site assignments (see trace.go)
	declVars   []string
	stmtVars   []string
	err        error // a cell the pre-pass must refuse
}

// collect records the cell's top-level declarations and decides type renames.
func (r *rewriter) collect(declF, stmtF *ast.File) {
	r.cellNames = map[string]bool{}
	r.renames = map[string]string{}
	for k, v := range r.s.types {
		r.renames[k] = v
	}
	r.excluded = map[*ast.Ident]bool{}
	for _, f := range []*ast.File{declF, stmtF} {
		if f == nil {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				r.excluded[x.Sel] = true
			case *ast.StructType:
				for _, fl := range x.Fields.List {
					for _, nm := range fl.Names {
						r.excluded[nm] = true
					}
				}
			case *ast.InterfaceType:
				for _, fl := range x.Methods.List {
					for _, nm := range fl.Names {
						r.excluded[nm] = true
					}
				}
			case *ast.CompositeLit:
				for _, el := range x.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if id, ok := kv.Key.(*ast.Ident); ok {
							r.excluded[id] = true
						}
					}
				}
			case *ast.FuncDecl:
				if x.Recv != nil {
					r.excluded[x.Name] = true
				}
			case *ast.LabeledStmt:
				r.excluded[x.Label] = true
			case *ast.BranchStmt:
				if x.Label != nil {
					r.excluded[x.Label] = true
				}
			case *ast.AssignStmt:
				if x.Tok == token.DEFINE {
					for _, l := range x.Lhs {
						if id, ok := l.(*ast.Ident); ok {
							r.cellNames[id.Name] = true
						}
					}
				}
			case *ast.ValueSpec:
				for _, nm := range x.Names {
					r.cellNames[nm.Name] = true
				}
			case *ast.TypeSpec:
				r.cellNames[x.Name.Name] = true
			case *ast.Field:
				for _, nm := range x.Names {
					r.cellNames[nm.Name] = true
				}
			}
			return true
		})
	}
	if declF != nil {
		for _, d := range declF.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						name := sp.Name.Name
						if name == "_" {
							continue
						}
						internal := name
						if _, declared := r.s.types[name]; declared {
							internal = fmt.Sprintf("%sʹ%d", name, r.s.typeGen[name]+2)
						}
						r.renames[name] = internal
						r.p.types[name] = internal
						r.p.names[name] = "type"
						r.p.docs[name] = FirstComment(sp.Doc, d.Doc)
					case *ast.ValueSpec:
						for _, nm := range sp.Names {
							if nm.Name != "_" {
								r.p.names[nm.Name] = d.Tok.String()
								r.p.docs[nm.Name] = FirstComment(sp.Doc, d.Doc)
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil {
					r.cellNames[d.Name.Name] = true
				} else {
					r.p.methods[d.Name.Name] = true
				}
				if d.Recv == nil && d.Name.Name != "init" && d.Name.Name != "_" {
					r.p.names[d.Name.Name] = "func"
					r.p.docs[d.Name.Name] = FirstComment(d.Doc)
				}
			}
		}
	}
	if stmtF != nil {
		for _, st := range mainBody(stmtF) {
			switch st := st.(type) {
			case *ast.AssignStmt:
				if st.Tok == token.DEFINE {
					for _, l := range st.Lhs {
						if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
							r.p.names[id.Name] = "var"
						}
					}
				}
			case *ast.DeclStmt:
				if g, ok := st.Decl.(*ast.GenDecl); ok {
					for _, sp := range g.Specs {
						if vs, ok := sp.(*ast.ValueSpec); ok {
							for _, nm := range vs.Names {
								if nm.Name != "_" {
									r.p.names[nm.Name] = g.Tok.String()
								}
							}
						}
					}
				}
			}
		}
	}
}

// recvTypeName returns the name of a method's receiver type.
func recvTypeName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return ""
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.IndexExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// FirstComment is the text of the first of groups that is not nil (a spec's
// own doc comment before its declaration group's, a field's doc comment before
// its line comment), or "".
func FirstComment(groups ...*ast.CommentGroup) string {
	for _, g := range groups {
		if g != nil {
			return g.Text()
		}
	}
	return ""
}

func mainBody(f *ast.File) []ast.Stmt {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "main" && fd.Body != nil {
			return fd.Body.List
		}
	}
	return nil
}

// common rewrites for both halves: type renames, min/max/clear, range over int.
func (r *rewriter) common(f *ast.File, in string, prefix int) []edit {
	edits := r.deferArgs(f, in)
	declaredHere := func(id *ast.Ident) bool { return id.Obj != nil }
	sessionHas := func(name string) bool {
		_, ok := r.s.names[name]
		return ok || r.cellNames[name]
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			if r.excluded[x] {
				return true
			}
			if internal, ok := r.renames[x.Name]; ok && internal != x.Name {
				edits = append(edits, edit{pos: r.off(x.Pos()), end: r.off(x.End()), text: internal})
			}
		case *ast.CallExpr:
			edits = append(edits, r.explicitTypeArgs(x)...)
			if id, ok := x.Fun.(*ast.Ident); ok && !declaredHere(id) && !sessionHas(id.Name) {
				repl := map[string]string{"min": MinFunc, "max": MaxFunc, "clear": ClearFunc}[id.Name]
				if repl != "" && id.Name != "clear" {
					// yaegi cannot type a package-level variable defined from a generic
					// call, so use the helper for the arguments' type when it is known.
					if t := r.argsType(x.Args); t != "" {
						repl += "_" + t
					}
				}
				if repl != "" {
					edits = append(edits, edit{pos: r.off(id.Pos()), end: r.off(id.End()), text: repl})
				}
			}
		case *ast.LabeledStmt:
			if rs, ok := x.Stmt.(*ast.RangeStmt); ok {
				if es, ok := r.rangeIter(rs, in); ok {
					edits = append(edits, es...)
					r.markRange(rs)
				} else {
					edits = append(edits, r.rangeInt(rs, x, in, prefix)...)
				}
			}
		case *ast.RangeStmt:
			edits = append(edits, r.loopCopies(x)...)
			if r.seenRange[x] {
				break
			}
			if es, ok := r.rangeIter(x, in); ok {
				edits = append(edits, es...)
			} else {
				edits = append(edits, r.rangeInt(x, nil, in, prefix)...)
			}
		case *ast.ForStmt:
			edits = append(edits, r.loopCopies(x)...)
		case *ast.CommClause:
			edits = append(edits, r.selectBreaks(x)...)
		case *ast.StructType:
			edits = append(edits, r.hideUnexported(x)...)
		case *ast.SelectorExpr:
			if es := r.methodExpr(x); es != nil {
				edits = append(edits, es...)
				return false
			}
		}
		return true
	})
	return edits
}

func (r *rewriter) off(p token.Pos) int { return r.fset.Position(p).Offset }

// markRange records that a range statement was rewritten (through its label).
func (r *rewriter) markRange(rs *ast.RangeStmt) {
	if r.seenRange == nil {
		r.seenRange = map[*ast.RangeStmt]bool{}
	}
	r.seenRange[rs] = true
}

// rangeInt rewrites `for k := range X` when X is an integer.
func (r *rewriter) rangeInt(rs *ast.RangeStmt, label *ast.LabeledStmt, in string, prefix int) []edit {
	if rs.Value != nil && rs.X != nil && r.err == nil && r.intExpr(rs.X) {
		// Go's error; the interpreter panicked ("nil type").
		line, col := offsetLineCol(r.src, r.off(rs.Value.Pos())-prefix)
		r.err = &Error{Line: line, Col: col, Msg: fmt.Sprintf("range over %s permits only one iteration variable", in[r.off(rs.X.Pos()):r.off(rs.X.End())])}
	}
	if rs.Value != nil || rs.X == nil {
		return nil
	}
	// Rewrite each range statement once, whether reached through its label or not.
	if r.seenRange == nil {
		r.seenRange = map[*ast.RangeStmt]bool{}
	}
	if r.seenRange[rs] {
		return nil
	}
	r.seenRange[rs] = true
	xoff := r.off(rs.X.Pos()) - prefix
	isInt := r.opt.IntRanges[xoff] || r.intExpr(rs.X)
	if !isInt {
		if id, ok := rs.X.(*ast.Ident); ok && id.Obj == nil && r.s.IntVar != nil && r.s.IntVar(id.Name) {
			isInt = true
		}
	}
	if !isInt {
		if knownNonInt(rs.X) {
			return nil
		}
		r.p.Ranges = append(r.p.Ranges, xoff)
		return nil
	}
	r.rangeN++
	n := fmt.Sprintf("goinvN%d", r.rangeN)
	key := fmt.Sprintf("goinvI%d", r.rangeN)
	assign := ":="
	if rs.Key != nil {
		key = in[r.off(rs.Key.Pos()):r.off(rs.Key.End())]
		if key == "_" {
			key = fmt.Sprintf("goinvI%d", r.rangeN)
		}
		if rs.Tok == token.ASSIGN {
			assign = "="
		}
	}
	xs := in[r.off(rs.X.Pos()):r.off(rs.X.End())]
	if simpleExpr(rs.X) && assign == ":=" {
		init := fmt.Sprintf("%s, %s := (%s)-(%s), (%s)", key, n, xs, xs, xs)
		return []edit{{pos: r.off(rs.For), end: r.off(rs.Body.Lbrace), text: fmt.Sprintf("for %s; %s < %s; %s++ ", init, key, n, key)}}
	}
	// X may have side effects: evaluate it once, in a block around the loop.
	start := rs.For
	lab := ""
	if label != nil {
		start = label.Pos()
		lab = label.Label.Name + ": "
	}
	return []edit{
		{pos: r.off(start), end: r.off(rs.X.Pos()), text: "{ " + n + " := ", order: -20},
		{pos: r.off(rs.X.End()), end: r.off(rs.Body.Lbrace), text: fmt.Sprintf("; %sfor %s %s %s-%s; %s < %s; %s++ ", lab, key, assign, n, n, key, n, key)},
		{pos: r.off(rs.Body.End()), end: r.off(rs.Body.End()), text: " }", order: 20},
	}
}

// intExpr reports whether e is an integer by its syntax alone.
func (r *rewriter) intExpr(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Kind == token.INT
	case *ast.ParenExpr:
		return r.intExpr(x.X)
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && id.Obj == nil {
			switch id.Name {
			case "len", "cap", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr":
				return true
			}
		}
	case *ast.BinaryExpr:
		switch x.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.SHL, token.SHR, token.AND, token.OR, token.XOR, token.AND_NOT:
			return r.intExpr(x.X) || r.intExpr(x.Y)
		}
	case *ast.Ident:
		// A variable or parameter of this cell of an integer type, or defined from
		// an integer expression.
		typ, value := definition(x)
		if t, ok := typ.(*ast.Ident); ok {
			return intTypeName(t.Name)
		}
		if value != nil {
			return r.intExpr(value)
		}
	}
	return false
}

// definition returns what declares id in the cell: the declared type and the
// initial value of a variable (either may be nil), or the type of a parameter.
// Both are nil for an identifier the cell does not declare, or declares
// otherwise (`a, b := f()`).
func definition(id *ast.Ident) (typ, value ast.Expr) {
	if id.Obj == nil {
		return nil, nil
	}
	switch d := id.Obj.Decl.(type) {
	case *ast.AssignStmt:
		for i, l := range d.Lhs {
			if l, ok := l.(*ast.Ident); ok && l.Name == id.Name && len(d.Rhs) == len(d.Lhs) {
				return nil, d.Rhs[i]
			}
		}
	case *ast.ValueSpec:
		for i, n := range d.Names {
			if n.Name == id.Name {
				if i < len(d.Values) {
					value = d.Values[i]
				}
				return d.Type, value
			}
		}
	case *ast.Field:
		return d.Type, nil
	}
	return nil, nil
}

// intTypeName reports whether name is one of Go's integer types.
func intTypeName(name string) bool {
	switch name {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "byte", "rune":
		return true
	}
	return false
}

// knownNonInt reports whether e is certainly not an integer (a literal of another kind).
func knownNonInt(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.CompositeLit, *ast.FuncLit:
		return true
	case *ast.BasicLit:
		return x.Kind != token.INT
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "make" || id.Name == "append") {
			return true
		}
	case *ast.SliceExpr:
		return true
	}
	return false
}

// simpleExpr reports whether e can be evaluated more than once without side effects.
func simpleExpr(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit, *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return simpleExpr(x.X)
	case *ast.ParenExpr:
		return simpleExpr(x.X)
	case *ast.BinaryExpr:
		return simpleExpr(x.X) && simpleExpr(x.Y)
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") && len(x.Args) == 1 {
			return simpleExpr(x.Args[0])
		}
	}
	return false
}

func (r *rewriter) rewriteDecls(f *ast.File, in string) []edit {
	edits := r.common(f, in, len(declPrefix))
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.VAR {
				r.varInits(d)
				for _, sp := range d.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, id := range vs.Names {
						if vs.Type != nil {
							r.p.varTypes[id.Name] = r.typeOf(id)
						} else if len(vs.Values) == len(vs.Names) {
							r.p.varTypes[id.Name] = r.typeOf(vs.Values[i])
						}
					}
				}
			}
			if d.Tok != token.IMPORT {
				continue
			}
			kept := 0
			var drops []edit
			for _, sp := range d.Specs {
				is := sp.(*ast.ImportSpec)
				if keep, valid := r.keepImport(is); valid && keep {
					kept++
				} else if valid {
					drops = append(drops, r.blankEdit(in, is.Pos(), is.End()))
				}
			}
			if kept == 0 {
				edits = append(edits, r.blankEdit(in, d.Pos(), d.End()))
			} else {
				edits = append(edits, drops...)
			}
		case *ast.FuncDecl:
			if d.Body == nil {
				continue
			}
			if d.Recv != nil {
				edits = append(edits, r.rewriteMethod(d, in)...)
				continue
			}
			if r.stmtFuncs[r.off(d.Pos())-len(declPrefix)] {
				edits = append(edits, r.funcVarOnly(d, in)...)
				continue
			}
			name := d.Name.Name
			if d.Type.TypeParams != nil && name != "_" {
				r.recordGeneric(d, in)
			}
			if name == "init" || name == "main" || name == "_" || d.Type.TypeParams != nil {
				r.instrFunc(d.Body, "main."+name, name, true)
				continue
			}
			sig := r.sigKey(d.Type, in)
			r.p.funcSigs[name] = sig
			// Declare the variable and assign it from an init func: a variable whose
			// initializer calls a func variable of an earlier cell makes yaegi report a
			// "variable definition loop". The assignment is in a func of its own, whose
			// unique name is what yaegi's panic report calls the body ("main.goinvDef7.func").
			def := r.defName()
			head := "func " + def + "() { " + name + " = func"
			if old, ok := r.s.funcSigs[name]; !ok || old != sig {
				head = "var " + name + " " + r.funcVarType(d.Type, in) + "; " + head
			}
			edits = append(edits,
				edit{pos: r.off(d.Type.Func), end: r.off(d.Name.End()), text: head},
				edit{pos: r.off(d.Body.End()), end: r.off(d.Body.End()), text: " }; func init() { " + def + "() }", order: 20})
			r.instrFunc(d.Body, "main."+def+".func", name, true)
		}
	}
	r.declareLateImports(r.lateImports)
	return edits
}

// keepImport decides whether an import spec stays: not when the session or the
// cell already imports the package under that name (yaegi refuses a second
// import). valid is false for a spec whose path is not a string literal.
func (r *rewriter) keepImport(is *ast.ImportSpec) (keep, valid bool) {
	p, err := strconv.Unquote(is.Path.Value)
	if err != nil {
		return false, false
	}
	name := importName(p)
	if is.Name != nil {
		name = is.Name.Name
	}
	if name == "_" || name == "." {
		return true, true
	}
	if r.sessionImports(p) || r.p.Imports[name] == p {
		return false, true
	}
	r.p.Imports[name] = p
	return true, true
}

// declareLateImports keeps, for Prepare to declare after the leading imports,
// the imports of the cell that follow another declaration (blanked where they
// are, see Prepare) and that the session lacks.
func (r *rewriter) declareLateImports(texts []string) {
	for _, text := range texts {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+text, parser.ImportsOnly)
		if err != nil {
			continue // the declaration half's parse reported it
		}
		var specs []string
		for _, is := range f.Imports {
			if keep, valid := r.keepImport(is); keep && valid {
				spec := is.Path.Value
				if is.Name != nil {
					spec = is.Name.Name + " " + spec
				}
				specs = append(specs, spec)
			}
		}
		if len(specs) > 0 {
			r.lateImportDecls = append(r.lateImportDecls, "import ("+strings.Join(specs, "; ")+")")
		}
	}
}

func (r *rewriter) sessionImports(p string) bool {
	for _, v := range r.s.Imports {
		if v == p {
			return true
		}
	}
	return false
}

// blankEdit replaces [pos, end) by spaces, keeping newlines so lines stay put.
func (r *rewriter) blankEdit(in string, pos, end token.Pos) edit {
	a, b := r.off(pos), r.off(end)
	t := []byte(in[a:b])
	for i := range t {
		if t[i] != '\n' {
			t[i] = ' '
		}
	}
	return edit{pos: a, end: b, text: string(t)}
}

// sigKey prints a func type without parameter names and with type renames applied,
// to compare signatures.
func (r *rewriter) sigKey(ft *ast.FuncType, in string) string {
	list := func(fl *ast.FieldList) string {
		if fl == nil {
			return "()"
		}
		var parts []string
		for _, f := range fl.List {
			var buf bytes.Buffer
			printer.Fprint(&buf, token.NewFileSet(), f.Type)
			n := len(f.Names)
			if n == 0 {
				n = 1
			}
			for i := 0; i < n; i++ {
				parts = append(parts, buf.String())
			}
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	key := list(ft.Params) + " " + list(ft.Results)
	for user, internal := range r.renames {
		if user != internal {
			key = replaceIdent(key, user, internal)
		}
	}
	return strings.Join(strings.Fields(key), " ")
}

// funcVarType is the type of the variable that holds a func of type ft: its
// parameters and results without names. A name in a package-level var's type is
// taken by yaegi for a use of the session variable of that name, which fails (see
// moveVarsUsingGlobals): `var f func(x int)` after `x := 1`.
func (r *rewriter) funcVarType(ft *ast.FuncType, in string) string {
	return "func(" + strings.Join(r.fieldTypes(ft.Params, in), ", ") + ")" + r.resultTypes(ft.Results, in)
}

// resultTypes is a func type's result list without names ("", " T" or " (T, U)").
func (r *rewriter) resultTypes(fl *ast.FieldList, in string) string {
	ts := r.fieldTypes(fl, in)
	switch len(ts) {
	case 0:
		return ""
	case 1:
		return " " + ts[0]
	}
	return " (" + strings.Join(ts, ", ") + ")"
}

// fieldTypes lists the types of a parameter or result list, one per name, as
// written in the cell with the cell's type renames applied.
func (r *rewriter) fieldTypes(fl *ast.FieldList, in string) []string {
	if fl == nil {
		return nil
	}
	var ts []string
	for _, f := range fl.List {
		t := r.renamed(in[r.off(f.Type.Pos()):r.off(f.Type.End())])
		n := max(len(f.Names), 1)
		for range n {
			ts = append(ts, t)
		}
	}
	return ts
}

func replaceIdent(s, old, new string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before := i == 0 || !isIdentByte(s[i-1])
		after := i+len(old) == len(s) || !isIdentByte(s[i+len(old)])
		b.WriteString(s[:i])
		if before && after {
			b.WriteString(new)
		} else {
			b.WriteString(old)
		}
		s = s[i+len(old):]
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func importName(p string) string {
	name := path.Base(p)
	if strings.HasPrefix(name, "v") && len(name) > 1 && strings.Trim(name[1:], "0123456789") == "" {
		name = path.Base(path.Dir(p))
	}
	name = strings.TrimPrefix(name, "go-")
	return strings.NewReplacer("-", "_", ".", "_").Replace(name)
}

func (r *rewriter) rewriteStmts(f *ast.File, in string) []edit {
	prefix := len(stmtWrap) + len(stmtLead)
	edits := r.common(f, in, prefix)
	body := mainBody(f)
	topFn := &fnCtx{name: "main", v: TopVar}
	top := topNames(body)
	before := map[string]bool{} // names declared by the statements so far
	for _, st := range body {
		if _, empty := st.(*ast.EmptyStmt); empty {
			continue
		}
		// Every top-level statement records its site (each runs once, so this costs
		// nothing that matters): the top level then never reports a site of an earlier
		// cell, and an interrupt can say which statement was running.
		r.site(st, topFn)
		fc := topFn
		switch st.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt, *ast.BlockStmt, *ast.LabeledStmt:
			if multiDefine(st) || bindingTypeSwitch(st) || r.copiesLoopVars(st) || r.shadowsGlobal(st, top) || initDefines(st) || r.definesIntRange(st, prefix) {
				edits = append(edits,
					edit{pos: r.off(st.Pos()), end: r.off(st.Pos()), text: "func() { ", order: -50},
					edit{pos: r.off(st.End()), end: r.off(st.End()), text: " }()", order: 50})
				// The wrapper is a frame of its own in yaegi's report, on the top level's variable.
				line, _ := offsetLineCol(r.src, r.off(st.Pos())-r.prefix)
				r.p.frames = append(r.p.frames, Frame{Name: "main.func", Line: line, Var: TopVar})
				fc = &fnCtx{name: "main.func", v: TopVar}
			}
		}
		edits = append(edits, r.commaOkAssert(st, in, before)...)
		edits = append(edits, r.topDefers(st)...)
		for n := range topNames([]ast.Stmt{st}) {
			before[n] = true
		}
		mark := len(r.instrEdits)
		r.instrChildren(st, fc, false)
		r.hoist(st, fc, mark)
	}
	defines, lastConv := r.genericDefines(body)
	edits = append(edits, defines...)
	// The last expression.
	var last ast.Stmt
	for i := len(body) - 1; i >= 0; i-- {
		if _, ok := body[i].(*ast.EmptyStmt); !ok {
			last = body[i]
			break
		}
	}
	es, ok := last.(*ast.ExprStmt)
	if !ok {
		return edits
	}
	r.p.Last = LastShow
	r.lastStart, r.lastEnd = r.off(es.Pos()), r.off(es.End())
	if call, ok := es.X.(*ast.CallExpr); ok {
		r.p.Last, r.p.FunExpr = r.callArity(call, in)
	}
	if r.p.Last != LastNone {
		r.lastEdits = append([]edit{
			{pos: r.off(es.X.Pos()), end: r.off(es.X.Pos()), text: LastVar + " := ", order: -40},
		}, lastConv...)
		r.argEdits = []edit{
			{pos: r.off(es.X.Pos()), end: r.off(es.X.Pos()), text: "func(interface{}) {}(", order: -40},
			{pos: r.off(es.X.End()), end: r.off(es.X.End()), text: ")", order: 40},
		}
		r.lastExprStart, r.lastExprEnd = r.off(es.X.Pos()), r.off(es.X.End())
	}
	return edits
}

// callArity decides whether the value of a call as last statement is shown.
func (r *rewriter) callArity(call *ast.CallExpr, in string) (LastKind, string) {
	switch fun := call.Fun.(type) {
	case *ast.Ident:
		if fun.Obj == nil {
			if _, declared := r.s.names[fun.Name]; !declared && !r.cellNames[fun.Name] {
				switch fun.Name {
				case "len", "cap", "append", "complex", "real", "imag", "new", "make", "min", "max", "copy", "recover",
					"bool", "string", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
					"float32", "float64", "complex64", "complex128", "byte", "rune", "any", "error":
					return LastShow, ""
				case "panic", "print", "println", "close", "delete", "clear":
					return LastNone, ""
				}
			}
		}
		if r.s.types[fun.Name] != "" || r.p.types[fun.Name] != "" {
			return LastShow, "" // a conversion
		}
		return LastMaybe, in[r.off(fun.Pos()):r.off(fun.End())]
	case *ast.SelectorExpr:
		if simpleExpr(fun) {
			return LastMaybe, in[r.off(fun.Pos()):r.off(fun.End())]
		}
		return LastMaybe, ""
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.InterfaceType, *ast.StarExpr:
		return LastShow, "" // conversions
	case *ast.ParenExpr:
		return LastShow, ""
	case *ast.FuncLit:
		if fun.Type.Results != nil && fun.Type.Results.NumFields() == 1 {
			return LastShow, ""
		}
		return LastNone, ""
	}
	return LastMaybe, ""
}

// bindingTypeSwitch reports whether st is a type switch that binds a variable
// (`switch v := x.(type)`), which yaegi mishandles at the top level ("index out of
// range").
func bindingTypeSwitch(st ast.Stmt) bool {
	ts, ok := unlabeled(st).(*ast.TypeSwitchStmt)
	if !ok {
		return false
	}
	_, ok = ts.Assign.(*ast.AssignStmt)
	return ok
}

// multiDefine reports whether st defines two or more variables at once somewhere inside.
// unlabeled is the statement under st's labels (st itself if it has none).
func unlabeled(st ast.Stmt) ast.Stmt {
	for {
		l, ok := st.(*ast.LabeledStmt)
		if !ok {
			return st
		}
		st = l.Stmt
	}
}

// initDefines reports whether st (under its labels) is an if, for or switch whose
// init statement defines variables. yaegi's top level makes them session
// variables: after `for i := 0; i < n; i++ {}`, i was 200000, and %whos listed it.
func initDefines(st ast.Stmt) bool {
	st = unlabeled(st)
	var init ast.Stmt
	switch x := st.(type) {
	case *ast.IfStmt:
		init = x.Init
	case *ast.ForStmt:
		init = x.Init
	case *ast.SwitchStmt:
		init = x.Init
	case *ast.TypeSwitchStmt:
		init = x.Init
	}
	a, ok := init.(*ast.AssignStmt)
	return ok && a.Tok == token.DEFINE
}

// definesIntRange reports whether st (under its labels) is `for i := range n` over
// an integer, which rangeInt rewrites as a three-clause loop whose i yaegi's top
// level would make a session variable, as for initDefines.
func (r *rewriter) definesIntRange(st ast.Stmt, prefix int) bool {
	st = unlabeled(st)
	rs, ok := st.(*ast.RangeStmt)
	if !ok || rs.Tok != token.DEFINE || rs.Key == nil || rs.X == nil {
		return false
	}
	if r.opt.IntRanges[r.off(rs.X.Pos())-prefix] || r.intExpr(rs.X) {
		return true
	}
	id, ok := rs.X.(*ast.Ident)
	return ok && id.Obj == nil && r.s.IntVar != nil && r.s.IntVar(id.Name)
}

func multiDefine(st ast.Stmt) bool {
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE && len(x.Lhs) > 1 {
				found = true
			}
		case *ast.ValueSpec:
			if len(x.Names) > 1 {
				found = true
			}
		}
		return !found
	})
	return found
}

// autoImports returns the names of packages the cell uses without importing them,
// registering their paths in the plan.
func (r *rewriter) autoImports(declF, stmtF *ast.File) []string {
	used := map[string]bool{}
	for _, f := range []*ast.File{declF, stmtF} {
		if f == nil {
			continue
		}
		unresolved := map[*ast.Ident]bool{}
		for _, id := range f.Unresolved {
			unresolved[id] = true
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && unresolved[id] {
					used[id.Name] = true
				}
			}
			return true
		})
	}
	var names []string
	for name := range used {
		if _, ok := r.s.Imports[name]; ok {
			continue
		}
		if _, ok := r.p.Imports[name]; ok {
			continue
		}
		if _, ok := r.s.names[name]; ok || r.cellNames[name] {
			continue
		}
		p, ok := r.s.Packages[name]
		if !ok || r.sessionImports(p) {
			continue
		}
		r.p.Imports[name] = p
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// BasicTypes are the types with non-generic min and max helpers (goinvMin_int, ...).
var BasicTypes = []string{"int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "float32", "float64", "string"}

// argsType infers the common type of min/max arguments by their syntax, or "".
func (r *rewriter) argsType(args []ast.Expr) string {
	untyped := ""
	for _, a := range args {
		t := r.exprType(a)
		switch t {
		case "":
			return ""
		case "untyped int":
			if untyped == "" {
				untyped = "int"
			}
		case "untyped float":
			untyped = "float64"
		default:
			return t
		}
	}
	return untyped
}

func (r *rewriter) exprType(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.BasicLit:
		switch x.Kind {
		case token.INT:
			return "untyped int"
		case token.FLOAT:
			return "untyped float"
		case token.STRING:
			return "string"
		}
	case *ast.ParenExpr:
		return r.exprType(x.X)
	case *ast.UnaryExpr:
		return r.exprType(x.X)
	case *ast.BinaryExpr:
		switch x.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM:
			a, b := r.exprType(x.X), r.exprType(x.Y)
			if a == "" || b == "" {
				return ""
			}
			if !strings.HasPrefix(a, "untyped") {
				return a
			}
			if !strings.HasPrefix(b, "untyped") {
				return b
			}
			if a == "untyped float" || b == "untyped float" {
				return "untyped float"
			}
			return a
		}
	case *ast.CallExpr:
		if t, generic := r.genericResult(x); generic {
			return t
		}
		if id, ok := x.Fun.(*ast.Ident); ok && id.Obj == nil {
			switch id.Name {
			case "len", "cap":
				return "int"
			case "min", "max":
				return r.argsType(x.Args)
			}
			for _, t := range BasicTypes {
				if id.Name == t {
					return t
				}
			}
		}
	case *ast.Ident:
		if x.Obj != nil {
			typ, value := definition(x)
			if t, ok := typ.(*ast.Ident); ok && slices.Contains(BasicTypes, t.Name) {
				return t.Name
			}
			if typ != nil || value == nil {
				return ""
			}
			return defaultType(r.exprType(value))
		}
		if r.s.VarType != nil {
			return r.s.VarType(x.Name)
		}
	}
	return ""
}
