package executor

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// How much of a value text/plain shows. A cell's value goes into the notebook file
// and the browser's page: `xs` for a slice of a million floats was 2 MB of text
// there. As IPython shows at most 1,000 items of a list, a slice, array or map of
// more than longElems elements shows its first and last edgeElems (a map its first
// in key order) and its length; any text/plain longer than maxPlainText keeps its
// two ends. Printing the value (fmt.Println) shows all of it.
const (
	longElems    = 1000
	edgeElems    = 10
	maxPlainText = 100_000
)

// plainText formats a value the way Go people print it, shortened as above. Error
// and String methods are called through fmt, which prints <nil> for a nil pointer
// whose method panics, and the panic's message for another panic, instead of
// panicking: a nil *dataset.Dataset shown as a cell's value ended the session.
func plainText(v interface{}) string {
	var text string
	switch x := v.(type) {
	case string:
		text = strconv.Quote(x)
	case error, fmt.Stringer:
		text = fmt.Sprint(x)
	default:
		if text = longValue(v); text == "" {
			text = fmt.Sprintf("%+v", v)
		}
		text = unexportedNames(reflect.TypeOf(v), text)
	}
	return capText(text)
}

// unexportedNames gives the unexported fields of cell types in text, v's %+v, the
// names the cell wrote. yaegi exports them with an X before the name, and the
// pre-pass tags them `json:"-"` (see cell.hideUnexported), which tells them from a
// field the cell named X...: `{Name:a Xtags:[x]}` is shown `{Name:a tags:[x]}`.
// Values behind interfaces are not looked into.
func unexportedNames(t reflect.Type, text string) string {
	names := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				if yaegiRenamed(f) {
					names[f.Name[1:]] = true
				}
				walk(f.Type)
			}
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			walk(t.Elem())
		}
	}
	walk(t)
	if len(names) == 0 {
		return text
	}
	var alt []string
	for n := range names {
		alt = append(alt, regexp.QuoteMeta(n))
	}
	re := regexp.MustCompile(`([{ ])X(` + strings.Join(alt, "|") + `):`)
	return re.ReplaceAllString(text, "$1$2:")
}

// yaegiRenamed reports whether f is an unexported field of a cell's struct type,
// as yaegi and the pre-pass leave it: "X" + a lower-case name, tagged json:"-".
func yaegiRenamed(f reflect.StructField) bool {
	return len(f.Name) > 1 && f.Name[0] == 'X' && f.Name[1] >= 'a' && f.Name[1] <= 'z' && f.Tag.Get("json") == "-"
}

// longValue formats a slice, array or map of more than longElems elements by its
// ends, or returns "" for any other value.
func longValue(v interface{}) string {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		n := rv.Len()
		if n <= longElems {
			return ""
		}
		part := func(from, to int) string {
			s := reflect.MakeSlice(reflect.SliceOf(rv.Type().Elem()), to-from, to-from)
			for i := from; i < to; i++ {
				s.Index(i - from).Set(rv.Index(i))
			}
			return fmt.Sprintf("%+v", s.Interface())
		}
		head, tail := part(0, edgeElems), part(n-edgeElems, n)
		return fmt.Sprintf("%s … %s (len %d)", strings.TrimSuffix(head, "]"), strings.TrimPrefix(tail, "["), n)
	case reflect.Map:
		n := rv.Len()
		if n <= longElems {
			return ""
		}
		keys := rv.MapKeys()
		if !sortKeys(keys) {
			return "" // printed whole, then cut by capText
		}
		m := reflect.MakeMapWithSize(rv.Type(), edgeElems)
		for _, k := range keys[:edgeElems] {
			m.SetMapIndex(k, rv.MapIndex(k))
		}
		return fmt.Sprintf("%s …] (len %d)", strings.TrimSuffix(fmt.Sprintf("%+v", m.Interface()), "]"), n)
	}
	return ""
}

// sortKeys sorts map keys of an ordered basic kind as fmt prints them, and reports
// whether it could.
func sortKeys(keys []reflect.Value) bool {
	if len(keys) == 0 {
		return true
	}
	switch keys[0].Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.Int(), b.Int()) })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.Uint(), b.Uint()) })
	case reflect.Float32, reflect.Float64:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.Float(), b.Float()) })
	case reflect.String:
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
	default:
		return false
	}
	return true
}

// capText keeps the two ends of a text longer than maxPlainText, cut at rune
// boundaries, and says how much is left out between them.
func capText(text string) string {
	if len(text) <= maxPlainText {
		return text
	}
	head, tail := maxPlainText/2, len(text)-maxPlainText/2
	for head > 0 && !utf8.RuneStart(text[head]) {
		head--
	}
	for tail < len(text) && !utf8.RuneStart(text[tail]) {
		tail++
	}
	return fmt.Sprintf("%s\n… %d characters not shown: print the value to see all of it …\n%s", text[:head], tail-head, text[tail:])
}
