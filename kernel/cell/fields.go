package cell

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
)

// hideUnexported tags the unexported fields of a struct type `json:"-"`.
// yaegi builds a cell's struct type with every field exported (an X before the
// names of unexported ones), so json.Marshal of `struct{ Name string; tags
// []string }` wrote "Xtags"; encoding/json never sees an unexported field in
// Go, whatever its tag says, and with this tag it skips it here too. A field of several names of which some are exported is left as it is.
func (r *rewriter) hideUnexported(st *ast.StructType) []edit {
	var edits []edit
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 { // embedded: its exported fields are promoted, as in Go
			continue
		}
		hidden := true
		for _, n := range f.Names {
			hidden = hidden && !token.IsExported(n.Name) && n.Name != "_"
		}
		if !hidden {
			continue
		}
		if f.Tag == nil {
			edits = append(edits, edit{pos: r.off(f.Type.End()), end: r.off(f.Type.End()), text: " `json:\"-\"`"})
			continue
		}
		tag, err := strconv.Unquote(f.Tag.Value)
		if err != nil {
			continue
		}
		kept := strings.TrimSpace(withoutTagKeys(tag, "json"))
		edits = append(edits, edit{pos: r.off(f.Tag.Pos()), end: r.off(f.Tag.End()),
			text: strconv.Quote(strings.TrimSpace(`json:"-" ` + kept))})
	}
	return edits
}

// withoutTagKeys returns a struct tag without the key:"value" pairs of keys, in the
// conventional format that reflect.StructTag.Get reads; a tag not in that format
// is returned as it is.
func withoutTagKeys(tag string, keys ...string) string {
	var out []string
	rest := tag
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		colon := strings.Index(rest, `:"`)
		if colon <= 0 || strings.ContainsAny(rest[:colon], " \"") {
			return tag
		}
		key := rest[:colon]
		i := colon + 2
		for i < len(rest) && rest[i] != '"' {
			if rest[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(rest) {
			return tag
		}
		pair := rest[:i+1]
		rest = rest[i+1:]
		drop := false
		for _, k := range keys {
			drop = drop || k == key
		}
		if !drop {
			out = append(out, pair)
		}
	}
	return strings.Join(out, " ")
}
