package display

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	type run struct {
		Method string
		Acc    float64
		Epochs int
		notes  string
	}
	r := withRecorder(t)
	Table([]run{{"ERM", 0.912345678, 3, "a"}, {"DRS<x>", 0.9, 12, "b"}})
	Table([]*run{{"ERM", 0.5, 1, ""}, nil}, "Epochs", "Method")
	Table([]map[string]any{{"a": 1, "b": "x"}, {"b": "y", "c": 2.5}})
	Table([][]float64{{1, 2}, {3, 4.25}}, "x")
	Table(map[string]int{"b": 2, "a": 1})
	Table(42)
	Table([]run{{}}, "Nope")
	want := []string{
		"Method  Acc       Epochs\nERM     0.912346  3\nDRS<x>  0.9       12",
		"Epochs  Method\n1       ERM\n        ",
		"a  b  c\n1  x  \n   y  2.5",
		"x  1\n1  2\n3  4.25",
		"key  value\na    1\nb    2",
		"display.Table: takes a slice or array of structs, maps or slices, or a map; got int",
		`display.Table: display.run has no field "Nope" (its fields: Method, Acc, Epochs)`,
	}
	if len(r.calls) != len(want) {
		t.Fatalf("%d calls, want %d", len(r.calls), len(want))
	}
	for i, w := range want {
		if got := r.calls[i].data["text/plain"]; got != w {
			t.Errorf("table %d text:\n%q\nwant\n%q", i, got, w)
		}
	}
	h, _ := r.calls[0].data["text/html"].(string)
	for _, w := range []string{`<th style="text-align:right">Acc</th>`, `<td style="text-align:left">DRS&lt;x&gt;</td>`, `<td style="text-align:right">12</td>`} {
		if !strings.Contains(h, w) {
			t.Errorf("HTML lacks %s:\n%s", w, h)
		}
	}
}

func TestTableLong(t *testing.T) {
	r := withRecorder(t)
	defer func(n int) { TableMaxRows = n }(TableMaxRows)
	TableMaxRows = 3
	Table([]int{1, 2, 3, 4, 5})
	text, _ := r.calls[0].data["text/plain"].(string)
	if text != "0\n1\n2\n3\n… 2 more rows" {
		t.Errorf("long table:\n%s", text)
	}
	if h, _ := r.calls[0].data["text/html"].(string); !strings.Contains(h, "… 2 more rows") {
		t.Errorf("long table HTML: %s", h)
	}
}
