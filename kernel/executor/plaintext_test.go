package executor

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlainTextLongValues(t *testing.T) {
	xs := make([]int, 5000)
	for i := range xs {
		xs[i] = i
	}
	if got, want := plainText(xs), "[0 1 2 3 4 5 6 7 8 9 … 4990 4991 4992 4993 4994 4995 4996 4997 4998 4999] (len 5000)"; got != want {
		t.Errorf("long slice: %q, want %q", got, want)
	}
	short := xs[:longElems]
	if got := plainText(short); got != fmt.Sprint(short) {
		t.Errorf("a slice of %d elements is cut: %.80q…", longElems, got)
	}
	var arr [2000]float64
	if got := plainText(arr); !strings.HasSuffix(got, "0 0] (len 2000)") || strings.Count(got, "0") != 20+3 {
		t.Errorf("long array: %q", got)
	}
	m := map[string]int{}
	for i := range 3000 {
		m[fmt.Sprintf("k%04d", i)] = i
	}
	if got, want := plainText(m), "map[k0000:0 k0001:1 k0002:2 k0003:3 k0004:4 k0005:5 k0006:6 k0007:7 k0008:8 k0009:9 …] (len 3000)"; got != want {
		t.Errorf("long map: %q, want %q", got, want)
	}
	type point struct{ X, Y int }
	pm := map[point]bool{}
	for i := range 20000 {
		pm[point{i, i}] = true
	}
	if got := plainText(pm); len(got) > maxPlainText+200 || !strings.Contains(got, "characters not shown") {
		t.Errorf("a long map of unordered keys is not cut: %d bytes", len(got))
	}
	s := strings.Repeat("é", maxPlainText)
	got := plainText(s)
	if !strings.Contains(got, "characters not shown: print the value") || len(got) > maxPlainText+200 || !strings.HasPrefix(got, `"éé`) || !strings.HasSuffix(got, `éé"`) {
		t.Errorf("long string: %d bytes, %.40q … %q", len(got), got, got[len(got)-20:])
	}
	if !utf8.ValidString(got) {
		t.Errorf("the cut split a character")
	}
}

// A cell's struct value shows its unexported fields by the names the cell wrote.
func TestUnexportedFieldNamesShown(t *testing.T) {
	p := start(t)
	p.ok("type Rec struct {\n\tName string\n\ttags []string\n\tXray int\n\tinner *Rec\n}")
	if v := p.ok("r := Rec{Name: \"Xtags: stays\", tags: []string{\"a\"}, Xray: 3}\nr").value(); v != `{Name:Xtags: stays tags:[a] Xray:3 inner:<nil>}` {
		t.Errorf("r shows %s", v)
	}
	if v := p.ok("[]*Rec{&r}[0]").value(); v != `&{Name:Xtags: stays tags:[a] Xray:3 inner:<nil>}` {
		t.Errorf("&r shows %s", v)
	}
	if v := p.ok("map[string]Rec{\"k\": r}").value(); v != `map[k:{Name:Xtags: stays tags:[a] Xray:3 inner:<nil>}]` {
		t.Errorf("a map of Rec shows %s", v)
	}
}
