package display

import (
	"cmp"
	"fmt"
	"html"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"
)

// TableMaxRows is the number of rows Table shows; a longer table shows its first
// TableMaxRows and says how many more there are.
var TableMaxRows = 500

// Table publishes rows as a table: HTML for notebooks, aligned columns as text.
// rows may be
//
//   - a slice or array of structs, or of pointers to structs: a column per
//     exported field (columns, if given, picks and orders them by name);
//   - a slice or array of maps with string keys: a column per key (all keys,
//     sorted, unless columns are given);
//   - a slice or array of slices or arrays ([][]float64, [][]string, [][]any): a
//     column per element, headed by columns if given, else by its index; a slice
//     of plain values ([]float64) is one column;
//   - a map: two columns, key and value (headed by columns if given), sorted by key.
//
// Floats are shown with 6 significant digits. A value of another kind is shown as
// text, with a note saying what Table takes.
func Table(rows any, columns ...string) *Handle {
	t, err := tableOf(rows, columns)
	if err != nil {
		return show("", MIMEBundle{"text/plain": "display.Table: " + err.Error()})
	}
	return show("", MIMEBundle{"text/html": t.html(), "text/plain": t.text()})
}

// table is rows of cells as text, under a header.
type table struct {
	header  []string
	rows    [][]string
	numeric []bool // right-aligned columns
	more    int    // rows not shown
}

func tableOf(rows any, columns []string) (*table, error) {
	v := reflect.ValueOf(rows)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		return mapTable(v, columns), nil
	case reflect.Slice, reflect.Array:
	default:
		return nil, fmt.Errorf("takes a slice or array of structs, maps or slices, or a map; got %T", rows)
	}
	t := &table{}
	n := v.Len()
	shown := min(n, TableMaxRows)
	t.more = n - shown
	elem := v.Type().Elem()
	for elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	switch elem.Kind() {
	case reflect.Struct:
		var fields []int
		if len(columns) > 0 {
			for _, c := range columns {
				f, ok := elem.FieldByName(c)
				if !ok || len(f.Index) != 1 {
					return nil, fmt.Errorf("%s has no field %q (its fields: %s)", elem, c, strings.Join(fieldNames(elem), ", "))
				}
				fields = append(fields, f.Index[0])
			}
		} else {
			for i := range elem.NumField() {
				if shownField(elem.Field(i)) {
					fields = append(fields, i)
				}
			}
		}
		for _, i := range fields {
			t.header = append(t.header, elem.Field(i).Name)
		}
		for r := range shown {
			row := reflect.Indirect(v.Index(r))
			var cells []reflect.Value
			for _, i := range fields {
				if row.IsValid() {
					cells = append(cells, row.Field(i))
				} else {
					cells = append(cells, reflect.Value{}) // a nil pointer in the slice
				}
			}
			t.add(cells)
		}
	case reflect.Map:
		if elem.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("takes maps with string keys as rows; got %s", elem)
		}
		t.header = columns
		if len(columns) == 0 {
			seen := map[string]bool{}
			for r := range shown {
				for _, k := range reflect.Indirect(v.Index(r)).MapKeys() {
					if !seen[k.String()] {
						seen[k.String()] = true
						t.header = append(t.header, k.String())
					}
				}
			}
			slices.Sort(t.header)
		}
		for r := range shown {
			m := reflect.Indirect(v.Index(r))
			var cells []reflect.Value
			for _, c := range t.header {
				var cell reflect.Value
				if m.IsValid() {
					cell = m.MapIndex(reflect.ValueOf(c).Convert(elem.Key()))
				}
				cells = append(cells, cell)
			}
			t.add(cells)
		}
	case reflect.Slice, reflect.Array, reflect.Interface, reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		// Rows of values, or values: a column each, or one column.
		width := 0
		for r := range shown {
			row := v.Index(r)
			if row.Kind() == reflect.Interface {
				row = row.Elem()
			}
			var cells []reflect.Value
			if row.Kind() == reflect.Slice || row.Kind() == reflect.Array {
				for i := range row.Len() {
					cells = append(cells, row.Index(i))
				}
			} else {
				cells = append(cells, row)
			}
			width = max(width, len(cells))
			t.add(cells)
		}
		t.header = columns
		for i := len(columns); i < width; i++ {
			t.header = append(t.header, fmt.Sprint(i))
		}
	default:
		return nil, fmt.Errorf("takes a slice or array of structs, maps or slices, or a map; got a slice of %s", elem)
	}
	return t, nil
}

// shownField reports whether a struct field is a column: exported, and not an
// unexported field of a cell's type (yaegi exports those as "X"+name, and goinv
// tags them `json:"-"`).
func shownField(f reflect.StructField) bool {
	if !f.IsExported() {
		return false
	}
	renamed := len(f.Name) > 1 && f.Name[0] == 'X' && f.Name[1] >= 'a' && f.Name[1] <= 'z'
	return !(renamed && f.Tag.Get("json") == "-")
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if shownField(t.Field(i)) {
			names = append(names, t.Field(i).Name)
		}
	}
	return names
}

// mapTable is a map's keys and values, sorted by key where the keys are ordered.
func mapTable(v reflect.Value, columns []string) *table {
	t := &table{header: []string{"key", "value"}}
	copy(t.header, columns)
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return compareKeys(a, b) })
	shown := min(len(keys), TableMaxRows)
	t.more = len(keys) - shown
	for _, k := range keys[:shown] {
		t.add([]reflect.Value{k, v.MapIndex(k)})
	}
	return t
}

func compareKeys(a, b reflect.Value) int {
	switch {
	case a.CanInt():
		return cmp.Compare(a.Int(), b.Int())
	case a.CanUint():
		return cmp.Compare(a.Uint(), b.Uint())
	case a.CanFloat():
		return cmp.Compare(a.Float(), b.Float())
	case a.Kind() == reflect.String:
		return cmp.Compare(a.String(), b.String())
	}
	return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// add appends a row, and marks a column numeric while all its cells are numbers.
func (t *table) add(cells []reflect.Value) {
	row := make([]string, len(cells))
	for i, c := range cells {
		for c.IsValid() && c.Kind() == reflect.Interface {
			c = c.Elem()
		}
		num := c.IsValid() && (c.CanInt() || c.CanUint() || c.CanFloat())
		for len(t.numeric) <= i {
			t.numeric = append(t.numeric, len(t.rows) == 0)
		}
		t.numeric[i] = t.numeric[i] && num
		switch {
		case !c.IsValid():
			row[i] = ""
		case c.CanFloat():
			row[i] = fmt.Sprintf("%.6g", c.Float())
		case c.CanInterface():
			row[i] = fmt.Sprint(c.Interface())
		default:
			row[i] = fmt.Sprint(c)
		}
	}
	t.rows = append(t.rows, row)
}

func (t *table) html() string {
	var b strings.Builder
	b.WriteString(`<div style="max-height:480px;overflow:auto"><table><thead><tr>`)
	for i, h := range t.header {
		fmt.Fprintf(&b, `<th style="text-align:%s">%s</th>`, t.align(i), html.EscapeString(h))
	}
	b.WriteString("</tr></thead><tbody>")
	for _, row := range t.rows {
		b.WriteString("<tr>")
		for i, c := range row {
			fmt.Fprintf(&b, `<td style="text-align:%s">%s</td>`, t.align(i), html.EscapeString(c))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	if t.more > 0 {
		fmt.Fprintf(&b, "<p>… %d more rows</p>", t.more)
	}
	b.WriteString("</div>")
	return b.String()
}

func (t *table) align(col int) string {
	if col < len(t.numeric) && t.numeric[col] {
		return "right"
	}
	return "left"
}

func (t *table) text() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.header, "\t"))
	for _, row := range t.rows {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	w.Flush()
	if t.more > 0 {
		fmt.Fprintf(&b, "… %d more rows\n", t.more)
	}
	return strings.TrimRight(b.String(), "\n")
}
