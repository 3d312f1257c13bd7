package executor

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goinv/goinv/kernel/ipc"
)

// memberSession declares cell types with methods, unexported and embedded fields,
// and variables of them reached through pointers, slices, maps and calls.
const memberSession = `import "github.com/goinv/goinv/stdlib/train"
type P struct{ Name string; Age int; secret int }
// Hello greets.
func (p P) Hello() string { return "hi " + p.Name }
func (p *P) Grow() { p.Age++ }
type Q struct {
	P
	Extra float64
	Inner P // the inner one
	ptr   *P
}
func mk() P { return P{Name: "m"} }
func mkPtr() (*P, error) { return &P{}, nil }
p := P{"a", 3, 4}
ps := []P{p}
pp := &p
m := map[string]P{"x": p}
q := Q{P: p, Inner: P{Name: "in"}}
r, rerr := mkPtr()
cfg := train.Config{Epochs: 7}
var sb strings.Builder`

func (p *proc) completion(code string) (matches []string, start, end int) {
	p.t.Helper()
	r := p.request(ipc.Request{Kind: ipc.KindComplete, Code: code, Cursor: utf8.RuneCountInString(code)})
	m, _ := r.reply["matches"].([]any)
	for _, x := range m {
		matches = append(matches, x.(string))
	}
	s, _ := r.reply["cursor_start"].(float64)
	e, _ := r.reply["cursor_end"].(float64)
	return matches, int(s), int(e)
}

func (p *proc) inspection(code string, cursor int) string {
	p.t.Helper()
	r := p.request(ipc.Request{Kind: ipc.KindInspect, Code: code, Cursor: cursor})
	d, _ := r.reply["data"].(map[string]any)
	s, _ := d["text/plain"].(string)
	return s
}

// TestCompleteMembers completes the fields and methods of what comes before a dot:
// cell types with their methods and unexported fields as written, through
// pointers, indexes, calls, field chains and embedded fields, and compiled types.
func TestCompleteMembers(t *testing.T) {
	p := start(t)
	p.ok(memberSession)
	pMembers := "[Age Grow Hello Name secret]"
	for code, want := range map[string]string{
		"p.":                 pMembers,
		"p.He":               "[Hello]",
		"pp.":                pMembers,
		"(*pp).":             pMembers,
		"ps[0].":             pMembers,
		`m["x"].`:            pMembers,
		"mk().":              pMembers,
		"r.":                 pMembers,
		"q.Inner.":           pMembers,
		"q.ptr.":             pMembers,
		"q.":                 "[Age Extra Grow Hello Inner Name P ptr secret]",
		"x := p.Name + q.P.": pMembers,
		"f(ps[len(ps)-1].A":  "[Age]",
		"mk().Hello().":      "[]", // a string has no members
		"cfg.Ep":             "[Epochs]",
		"cfg.LR":             "[LR LRAt]",
		"sb.Wr":              "[Write WriteByte WriteRune WriteString]",
		"rerr.":              "[Error]",
		"strings.ToUpperS":   "[ToUpperSpecial]",
		"x := q\n// see p.":  "[]", // a dot in a comment
		`s := "q.`:           "[]", // in a string
	} {
		if got, _, _ := p.completion(code); fmt.Sprint(got) != want {
			t.Errorf("complete %q = %v, want %s", code, got, want)
		}
	}
	// No member is an empty list, not null: frontends index it.
	r := p.request(ipc.Request{Kind: ipc.KindComplete, Code: "p.Name.", Cursor: 7})
	if m, ok := r.reply["matches"].([]any); !ok || len(m) != 0 {
		t.Errorf("complete without a member: %#v", r.reply["matches"])
	}
	got, start, end := p.completion("é := ps[0].Na")
	if fmt.Sprint(got) != "[Name]" || start != 11 || end != 13 {
		t.Errorf("complete after non-ASCII text: %v %d %d", got, start, end)
	}
}

// TestCompleteLiteralFields completes field names where a composite literal of a
// struct type takes a key, listed before the other names.
func TestCompleteLiteralFields(t *testing.T) {
	p := start(t)
	p.ok(memberSession)
	for code, want := range map[string]string{
		"x := P{Na":                     "Name",
		"x := P{":                       "Age Name secret", // then the other names
		`x := P{Name: "x", A`:           "Age",
		"cfg2 := train.Config{Ep":       "Epochs",
		"x := []P{{Na":                  "Name",
		"x := map[string]*P{\"k\": {Na": "Name",
		"x := Q{In":                     "Inner",
		"x := &Q{P: P{}, Ex":            "Extra",
		"x := struct{ Alpha int }{Al":   "Alpha",
		"func f() P {Na":                "",
		"for _, v := range ps {Na":      "",
		"x := P{Name: A":                "", // a value, not a key
		"x := Q{Na":                     "", // promoted fields are no keys
	} {
		got, _, _ := p.completion(code)
		if want == "" {
			for _, g := range got {
				if g == "Name" || g == "Age" {
					t.Errorf("complete %q offers the field %s: %v", code, g, got)
				}
			}
			continue
		}
		if fmt.Sprint(got[:min(len(got), len(strings.Fields(want)))]) != "["+want+"]" {
			t.Errorf("complete %q = %v, want %s first", code, got, want)
		}
	}
	// No "." or "_" (a dot or blank import, the blank identifier) among all names.
	p.ok(`import _ "image/png"`)
	got, _, _ := p.completion("")
	for _, g := range got {
		if !isIdent(g) || g == "_" {
			t.Errorf("complete with no prefix offers %q", g)
		}
	}
}

// TestCompleteCellVariables completes the members of variables of the cell being
// edited, which the session has not run: its statements' variables, range and
// switch variables, parameters of the funcs around the cursor, in their scopes.
func TestCompleteCellVariables(t *testing.T) {
	p := start(t)
	p.ok(memberSession)
	pMembers := "[Age Grow Hello Name secret]"
	for code, want := range map[string]string{
		"for _, v := range ps {\n\tv.":                                                 pMembers,
		"for i, v := range ps {\n\tfmt.Println(i, v.He":                                "[Hello]",
		"for k, v := range m {\n\tx := v\n\tx.He":                                      "[Hello]",
		"for _, b := range []byte(\"ab\") {\n\tb.":                                     "[]",
		"x := q.Inner\nx.He":                                                           "[Hello]",
		"func f(a *P, b train.Config) {\n\tb.Ep":                                       "[Epochs]",
		"func f(a *P, b train.Config) {\n\ta.":                                         pMembers,
		"func (c Q) Twice() int {\n\treturn c.Inner.A":                                 "[Age]",
		"sort.Slice(ps, func(i, j int) bool {\n\treturn ps[i].A":                       "[Age]",
		"switch v := any(p).(type) {\ncase P:\n\tv.He":                                 "[Hello]",
		"if x := mk(); x.Age > 0 {\n\tx.Na":                                            "[Name]",
		"ch := make(chan P, 1)\nx := <-ch\nx.He":                                       "[Hello]",
		"q := q.Inner\nq.":                                                             pMembers, // the cell's q, a P
		"strings := p\nstrings.":                                                       pMembers,
		"if true {\n\tzz := p\n}\nzz.":                                                 "[]", // out of its scope
		"var w struct{ Alpha, Beta int }\nw.":                                          "[Alpha Beta]",
		"type T struct{ Alpha int }\nfunc (t T) Beta() int { return 1 }\nt := T{}\nt.": "[Alpha Beta]",
		"func mk2() *Q { return nil }\nmk2().Ex":                                       "[Extra]",
		"type P struct{ Zed int }\nx := P{}\nx.":                                       "[Zed]", // P declared again: no methods yet
		"import \"fmt\"\ntype T struct{}\ny := p\nfmt.Println(y.He":                    "[Hello]",
	} {
		if got, _, _ := p.completion(code); fmt.Sprint(got) != want {
			t.Errorf("complete %q = %v, want %s", code, got, want)
		}
	}
	if got, _, _ := p.completion("value := 3\nif true {\n\tfmt.Println(val"); fmt.Sprint(got) != "[value]" {
		t.Errorf("complete a variable of the cell: %v", got)
	}
	if got, _, _ := p.completion("type T struct{ Alpha int }\nx := T{Al"); len(got) == 0 || got[0] != "Alpha" {
		t.Errorf("complete a field of a type of the cell: %v", got)
	}
	for code, want := range map[string]string{
		"for _, v := range ps {\n\tv":                    "var v P",
		"for _, v := range ps {\n\tv.Name":               "field Name string",
		"// T is a type.\ntype T struct{ Alpha int }\nT": "type T struct{ Alpha int }\n\nT is a type.",
	} {
		if text := p.inspection(code, utf8.RuneCountInString(code)); text != want {
			t.Errorf("inspect %q = %q, want %q", code, text, want)
		}
	}
}

// TestCompleteRedeclaredType: a variable made before its type was declared again
// keeps the old type's fields (yaegi made a new type); one made after has the new.
func TestCompleteRedeclaredType(t *testing.T) {
	p := start(t)
	p.ok(memberSession)
	p.ok("type P struct{ Name string; Age int; secret int; Extra int }\np2 := P{}")
	for code, want := range map[string]string{
		"p.":  "[Age Name secret]",
		"p2.": "[Age Extra Name secret]",
	} {
		if got, _, _ := p.completion(code); fmt.Sprint(got) != want {
			t.Errorf("complete %q = %v, want %s", code, got, want)
		}
	}
}

// TestInspectMembers inspects fields (type and value) and methods (declaration
// and doc comment) of cell and toolkit types, calls at and around the cursor,
// and the session's own names as written.
func TestInspectMembers(t *testing.T) {
	p := start(t)
	p.ok(memberSession)
	at := func(code string) int { return utf8.RuneCountInString(code) }
	for _, c := range []struct {
		code   string
		cursor int // -1: at the end
		want   []string
	}{
		{"p.Hello", -1, []string{"func (p P) Hello() string", "Hello greets."}},
		{"p.Grow()", 3, []string{"func (p *P) Grow()"}},
		{"p.Name", -1, []string{`field Name string = "a"`}},
		{"p.secret", -1, []string{"field secret int = 4"}},
		{"pp.Age", -1, []string{"field Age int = 3"}},
		{"q.Inner.Name", -1, []string{`field Name string = "in"`}},
		{"q.Inner", -1, []string{"field Inner P", "the inner one"}},
		{"q.Age", -1, []string{"field Age int = 3"}},
		{"ps[0].Age", -1, []string{"field Age int = 3"}},
		{`m["x"].Name`, -1, []string{`field Name string = "a"`}},
		{"mk().Name", -1, []string{"field Name string"}},
		{"cfg.Epochs", -1, []string{"field Epochs int = 7", "default 30"}},
		{"cfg.LRAt", -1, []string{"func (c Config) LRAt(epoch float64) float64"}},
		{"sb.WriteString", -1, []string{"func (b *Builder) WriteString(s string) (int, error)", "appends the contents of s"}},
		{"n := sb.Len()", -1, []string{"func (b *Builder) Len() int"}},
		{"parts := strings.Split(s, ", -1, []string{"func Split(s, sep string) []string"}},
		{"parts := strings.Split(p.Na", -1, []string{"func Split(s, sep string) []string"}},
		{"x := p.Hello(", -1, []string{"func (p P) Hello() string"}},
		{"p", -1, []string{"var p P = {Name:a Age:3 secret:4}"}},
		{"ps[0].Age", 0, []string{"var ps []P = [{Name:a Age:3 secret:4}]"}},
		{"P", -1, []string{"type P struct", "func (p P) Hello() string", "func (p *P) Grow()"}},
		{"mk", -1, []string{"func mk() P"}},
		{"c := train.Config{Seed: 1, Epochs: 3}", 29, []string{"field Epochs int", "default 30"}},
		{"x := Q{Inner: p}", 9, []string{"field Inner P", "the inner one"}},
	} {
		cursor := c.cursor
		if cursor < 0 {
			cursor = at(c.code)
		}
		text := p.inspection(c.code, cursor)
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("inspect %q at %d = %q, want it to contain %q", c.code, cursor, text, w)
			}
		}
	}
	if text := p.inspection("p.Name", 4); strings.Contains(text, "Xsecret") {
		t.Errorf("inspect shows yaegi's name of an unexported field: %q", text)
	}
	// ?name pages what inspect shows, for member chains too.
	r := p.ok("?q.Inner.Name")
	pl, _ := r.reply["payload"].([]any)
	if len(pl) != 1 || !strings.Contains(fmt.Sprint(pl[0]), `field Name string = "in"`) {
		t.Errorf("?q.Inner.Name: %v", r.reply["payload"])
	}
}

// BenchmarkComplete measures complete requests through the executor's pipes
// (some frontends send one per keystroke): a prefix of a cell name, a member of
// an expression, a composite literal's key, a package member, and a member of a
// loop variable at the end of a cell of 200 lines. exec-cpu-us/op is the
// executor's CPU time per request (see BenchmarkExecute).
func BenchmarkComplete(b *testing.B) {
	p := start(b)
	p.settle = 0
	p.ok(memberSession)
	long := strings.Repeat("x := ps[0].Age + len(m)\nfmt.Println(x, q.Inner.Name)\n", 100) + "for _, v := range ps {\n\tv.Na"
	for name, code := range map[string]string{"name": "x := ps", "member": "ps[0].Na", "literal": "x := P{Na",
		"package": "strings.ToU", "long-cell": long} {
		b.Run(name, func(b *testing.B) {
			c0 := procCPU(p.cmd.Process.Pid)
			for i := 0; i < b.N; i++ {
				p.request(ipc.Request{Kind: ipc.KindComplete, Code: code, Cursor: utf8.RuneCountInString(code)})
			}
			if c0 >= 0 {
				b.ReportMetric(float64(procCPU(p.cmd.Process.Pid)-c0)/1e3/float64(b.N), "exec-cpu-us/op")
			}
		})
	}
}

// TestCompleteEveryPosition completes and inspects at every cursor position of
// cells that mix the session's names, a cell's own declarations, half-written
// expressions, strings and comments: every request gets an ok reply and the
// session lives on.
func TestCompleteEveryPosition(t *testing.T) {
	p := start(t)
	p.ok(memberSession)
	p.settle = 0 // these requests print nothing
	cells := []string{
		memberSession,
		"type T[E any] struct{ v E; next *T[E] }\nfunc (t *T[E]) Next() *T[E] { return t.next }\nvar tt T[int]\nx := tt.Next().next.v\n",
		"ch := make(chan map[string][]*P)\ngo func() { for m := range ch { _ = m[\"a\"][0].Hello() } }()\n",
		"s := `raw p.` + \"q.\" // p.Na\nswitch v := any(q).(type) {\ncase Q, *Q:\n\t_ = v\ndefault:\n}\n",
		"f := func(a ...P) (r P, err error) { return a[0], nil }\nr0, _ := f(p)\nfmt.Println(r0.Name, (*pp).Age, ps[1:][0].Inner, m[\"x\"].Hello(), cfg.LRAt(1.5))",
		"x := P{Name: \"é\", Age: len([]rune(\"ü\")),\n\tsecret: 1}.Hello()[1:]\ny := struct{ A, b int }{1, 2}.b\n",
		"((((", "}}}.", "p..", ".", "P{{{", "[]P{{Na", "map[P]P{{}: {}}[P{}].",
	}
	for _, code := range cells {
		n := utf8.RuneCountInString(code)
		for c := 0; c <= n; c++ {
			for _, kind := range []string{ipc.KindComplete, ipc.KindInspect} {
				r := p.request(ipc.Request{Kind: kind, Code: code, Cursor: c})
				if r.reply["status"] != "ok" {
					t.Fatalf("%s of %q at %d: %v", kind, code, c, r.reply)
				}
			}
		}
	}
	if v := p.ok("p.Age").value(); v != "3" {
		t.Errorf("session after the requests: p.Age = %q", v)
	}
}

// TestUnpanicked: a panic while answering a complete or inspect request is an
// error reply, not the end of the executor.
func TestUnpanicked(t *testing.T) {
	var nilMap map[string]int
	r := unpanicked(func() map[string]any { nilMap["x"] = 1; return nil })
	if r["status"] != "error" || !strings.Contains(fmt.Sprint(r["evalue"]), "nil map") {
		t.Errorf("reply %v", r)
	}
	if r := unpanicked(func() map[string]any { return map[string]any{"status": "ok"} }); r["status"] != "ok" {
		t.Errorf("reply %v", r)
	}
}
