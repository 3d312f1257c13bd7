package executor

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/traefik/yaegi/stdlib/generic"

	"github.com/goinv/goinv/kernel/cell"
)

// The generic standard packages in cells.
//
// yaegi carries the sources of cmp, maps and slices (generic.Sources) and compiles
// them into every interpreter that loads the standard library. As shipped, most of
// slices and maps did not work in a cell:
//   - yaegi cannot infer a type parameter that only a core type mentions
//     (`func Clone[S ~[]E, E any](s S) S`: "undefined type for E"), which is the
//     form of most of their functions;
//   - slices uses the clear builtin, which yaegi lacks;
//   - the sorting functions (Sort, Min, Max, BinarySearch, ...) live in files
//     yaegi cannot compile and are left out ("undefined selector: slices.Max");
//   - maps.Clone goes through a runtime hook that yaegi's copy stubs out.
//
// So the sources are rewritten: the functions take plain slices and maps ([]E,
// map[K]V) instead of any type with that core type, clear becomes a loop, the
// sorting functions are added, and maps is replaced by
// plain-map versions of its functions. A named slice or map type is still accepted
// (yaegi assigns it to the plain type); the result of Clone, Insert and the like is
// then the plain type.
//
// And they are compiled when a cell first imports one of the packages, not by Use
// in every session: their syntax trees were ≈0.8 MB, a third of a fresh session's
// live heap, which the garbage collector scanned at every cycle and which raised
// the heap goal, the resident memory a session settles at, by as much again.
var genericSources = func() []string {
	var out []string
	for i, src := range generic.Sources {
		switch {
		case strings.HasPrefix(stripComments(src), "package slices"):
			src = patchSlices(src)
		case strings.HasPrefix(stripComments(src), "package maps"):
			src = mapsSource
		}
		out = append(out, src) // in yaegi's order: cmp first, which slices imports
		generic.Sources[i] = "package main"
	}
	return out
}()

// genericPackages are the import paths genericSources define.
var genericPackages = []string{"cmp", "maps", "slices"}

// declareGenerics compiles genericSources before the first cell of a session that
// imports one of their packages, itself or through the pre-pass's automatic import.
func (s *session) declareGenerics(plan *cell.Plan) error {
	if s.generics {
		return nil
	}
	needed := false
	for _, path := range plan.Imports {
		needed = needed || slices.Contains(genericPackages, path)
	}
	if !needed {
		return nil
	}
	for _, src := range genericSources {
		if _, err := s.i.Compile(src); err != nil {
			return fmt.Errorf("load the generic standard packages: %w", err)
		}
	}
	s.generics = true
	return nil
}

// stripComments drops the leading comment and blank lines of a source (its
// licence header).
func stripComments(src string) string {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "//") {
			return strings.Join(lines[i:], "\n")
		}
	}
	return ""
}

// coreParams matches a type parameter list that opens with one or more parameters
// constrained by a core type (`S ~[]E, `), followed by the element parameters.
var coreParams = regexp.MustCompile(`\[((?:\w+ ~\[\]E, )+)(E [\w.]+)\]`)

// patchSlices rewrites yaegi's source of package slices (see the comment above).
func patchSlices(src string) string {
	parts := strings.Split(src, "\nfunc ")
	for i := 1; i < len(parts); i++ {
		p := parts[i]
		m := coreParams.FindStringSubmatchIndex(p)
		end := strings.Index(p, "\n}\n")
		if m == nil || end < 0 || m[0] > strings.Index(p, "(") {
			continue
		}
		fn := p[:m[0]] + "[" + p[m[4]:m[5]] + "]" + p[m[1]:end]
		for _, c := range strings.Split(strings.TrimSuffix(p[m[2]:m[3]], ", "), ", ") {
			name, typ, _ := strings.Cut(c, " ~")
			fn = regexp.MustCompile(`\b`+name+`\b`).ReplaceAllLiteralString(fn, typ)
		}
		parts[i] = fn + p[end:]
	}
	src = strings.Join(parts, "\nfunc ")
	src = strings.ReplaceAll(src, "\tclear(", "\tclearElems(")
	return src + slicesAdded
}

// slicesAdded completes package slices: clearElems for the clear builtin, and the
// sorting functions of Go's slices package, with its semantics (NaNs order first;
// Min, Max and their Func forms panic on an empty slice and return the first of
// equal elements). The sorts are one stable merge sort, in the package itself: an
// import in these sources is not found when a cell instantiates their functions.
const slicesAdded = `
func clearElems[E any](s []E) {
	var zero E
	for i := range s {
		s[i] = zero
	}
}

func Sort[E cmp.Ordered](x []E) {
	SortStableFunc(x, cmp.Compare[E])
}

func SortFunc[E any](x []E, cmp func(a, b E) int) {
	SortStableFunc(x, cmp)
}

// SortStableFunc is a merge sort: O(n log n), stable, with a buffer of len(x).
func SortStableFunc[E any](x []E, cmp func(a, b E) int) {
	buf := make([]E, len(x))
	for width := 1; width < len(x); width *= 2 {
		for lo := 0; lo < len(x)-width; lo += 2 * width {
			mid, hi := lo+width, lo+2*width
			if hi > len(x) {
				hi = len(x)
			}
			i, j, k := lo, mid, lo
			for i < mid && j < hi {
				if cmp(x[j], x[i]) < 0 {
					buf[k] = x[j]
					j++
				} else {
					buf[k] = x[i]
					i++
				}
				k++
			}
			k += copy(buf[k:], x[i:mid])
			copy(buf[k:], x[j:hi])
			copy(x[lo:hi], buf[lo:hi])
		}
	}
}

func IsSorted[E cmp.Ordered](x []E) bool {
	for i := len(x) - 1; i > 0; i-- {
		if cmp.Less(x[i], x[i-1]) {
			return false
		}
	}
	return true
}

func IsSortedFunc[E any](x []E, cmp func(a, b E) int) bool {
	for i := len(x) - 1; i > 0; i-- {
		if cmp(x[i], x[i-1]) < 0 {
			return false
		}
	}
	return true
}

func Min[E cmp.Ordered](x []E) E {
	if len(x) < 1 {
		panic("slices.Min: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if x[i] < m || x[i] != x[i] {
			m = x[i]
		}
	}
	return m
}

func MinFunc[E any](x []E, cmp func(a, b E) int) E {
	if len(x) < 1 {
		panic("slices.MinFunc: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if cmp(x[i], m) < 0 {
			m = x[i]
		}
	}
	return m
}

func Max[E cmp.Ordered](x []E) E {
	if len(x) < 1 {
		panic("slices.Max: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if x[i] > m || x[i] != x[i] {
			m = x[i]
		}
	}
	return m
}

func MaxFunc[E any](x []E, cmp func(a, b E) int) E {
	if len(x) < 1 {
		panic("slices.MaxFunc: empty list")
	}
	m := x[0]
	for i := 1; i < len(x); i++ {
		if cmp(x[i], m) > 0 {
			m = x[i]
		}
	}
	return m
}

func BinarySearch[E cmp.Ordered](x []E, target E) (int, bool) {
	i, j := 0, len(x)
	for i < j {
		h := int(uint(i+j) >> 1)
		if cmp.Less(x[h], target) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(x) && (x[i] == target || (x[i] != x[i] && target != target))
}

// The iterator functions (Go 1.23), on iterators spelled as their func types: yaegi
// cannot infer a type parameter through the named generic type iter.Seq. A cell
// calls them (slices.Sorted(maps.Keys(m))); yaegi cannot range over a func, and
// the pre-pass turns a range over one of these calls into a plain range (see
// kernel/cell).

func All[E any](s []E) func(yield func(int, E) bool) {
	return func(yield func(int, E) bool) {
		for i, v := range s {
			if !yield(i, v) {
				return
			}
		}
	}
}

func Values[E any](s []E) func(yield func(E) bool) {
	return func(yield func(E) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

func Backward[E any](s []E) func(yield func(int, E) bool) {
	return func(yield func(int, E) bool) {
		for i := len(s) - 1; i >= 0; i-- {
			if !yield(i, s[i]) {
				return
			}
		}
	}
}

func AppendSeq[E any](s []E, seq func(yield func(E) bool)) []E {
	seq(func(v E) bool {
		s = append(s, v)
		return true
	})
	return s
}

func Collect[E any](seq func(yield func(E) bool)) []E {
	return AppendSeq([]E(nil), seq)
}

func Sorted[E cmp.Ordered](seq func(yield func(E) bool)) []E {
	s := Collect(seq)
	Sort(s)
	return s
}

func SortedFunc[E any](seq func(yield func(E) bool), cmp func(E, E) int) []E {
	s := Collect(seq)
	SortFunc(s, cmp)
	return s
}

func SortedStableFunc[E any](seq func(yield func(E) bool), cmp func(E, E) int) []E {
	s := Collect(seq)
	SortStableFunc(s, cmp)
	return s
}

func BinarySearchFunc[E, T any](x []E, target T, cmp func(E, T) int) (int, bool) {
	i, j := 0, len(x)
	for i < j {
		h := int(uint(i+j) >> 1)
		if cmp(x[h], target) < 0 {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(x) && cmp(x[i], target) == 0
}
`

// mapsSource replaces yaegi's package maps: the same functions on plain maps.
const mapsSource = `package maps

func Equal[K comparable, V comparable](m1 map[K]V, m2 map[K]V) bool {
	if len(m1) != len(m2) {
		return false
	}
	for k, v1 := range m1 {
		if v2, ok := m2[k]; !ok || v1 != v2 {
			return false
		}
	}
	return true
}

func EqualFunc[K comparable, V1 any, V2 any](m1 map[K]V1, m2 map[K]V2, eq func(V1, V2) bool) bool {
	if len(m1) != len(m2) {
		return false
	}
	for k, v1 := range m1 {
		if v2, ok := m2[k]; !ok || !eq(v1, v2) {
			return false
		}
	}
	return true
}

func Clone[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	r := make(map[K]V, len(m))
	for k, v := range m {
		r[k] = v
	}
	return r
}

func Copy[K comparable, V any](dst map[K]V, src map[K]V) {
	for k, v := range src {
		dst[k] = v
	}
}

func DeleteFunc[K comparable, V any](m map[K]V, del func(K, V) bool) {
	for k, v := range m {
		if del(k, v) {
			delete(m, k)
		}
	}
}

func All[K comparable, V any](m map[K]V) func(yield func(K, V) bool) {
	return func(yield func(K, V) bool) {
		for k, v := range m {
			if !yield(k, v) {
				return
			}
		}
	}
}

func Keys[K comparable, V any](m map[K]V) func(yield func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func Values[K comparable, V any](m map[K]V) func(yield func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func Insert[K comparable, V any](m map[K]V, seq func(yield func(K, V) bool)) {
	seq(func(k K, v V) bool {
		m[k] = v
		return true
	})
}

func Collect[K comparable, V any](seq func(yield func(K, V) bool)) map[K]V {
	m := make(map[K]V)
	Insert(m, seq)
	return m
}
`

// packageFuncResults is the number of results of the func name of the package at
// path, or -1 if that is not a func of the session's packages whose results are
// known (the generic packages' members are stand-ins, see packageSymbols).
func packageFuncResults(path, name string) int {
	if slices.Contains(genericPackages, path) {
		return -1
	}
	v, ok := packageSymbols()[path][name]
	if !ok || v.Kind() != reflect.Func {
		return -1
	}
	return v.Type().NumOut()
}

// packageMemberType is the type, as Go source, of the func or variable name of
// the package at path, or "" (a type, a constant, a generic package's member).
func packageMemberType(path, name string) string {
	if slices.Contains(genericPackages, path) {
		return ""
	}
	v, ok := packageSymbols()[path][name]
	if !ok || !(v.Kind() == reflect.Func || v.CanAddr()) {
		return ""
	}
	return strings.ReplaceAll(v.Type().String(), "interface {}", "any")
}
