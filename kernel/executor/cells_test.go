package executor

import "testing"

// Ordinary Go that notebook users write, cell by cell, with the value Go gives.
// Each case is a regression test for a rewrite of the pre-pass (package cell).
func TestGoLikeCells(t *testing.T) {
	p := start(t)
	for _, c := range [][2]string{
		// A generic type's method body is compiled where the type is instantiated:
		// its site variable must be declared before that (it was "undefined: goinvS4").
		{"type Box[T any] struct{ v T }\nfunc (b *Box[T]) Set(v T) { b.v = v }\nvar bb Box[int]\nbb.Set(3)\nbb.v", "3"},
		{"type elem[T any] struct {\n\tval  T\n\tnext *elem[T]\n}\ntype List[T any] struct{ head *elem[T] }\nfunc (l *List[T]) Push(v T) { l.head = &elem[T]{v, l.head} }\nvar ls List[string]\nls.Push(\"x\")\nls.Push(\"y\")\nls.head.val + ls.head.next.val", `"yx"`},
	} {
		if v := p.ok(c[0]).value(); v != c[1] {
			t.Errorf("%q shows %s, want %s", c[0], v, c[1])
		}
	}
}
