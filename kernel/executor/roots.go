package executor

import (
	"reflect"
	"unsafe"

	"github.com/traefik/yaegi/interp"
)

// rootsField locates yaegi's Interpreter.roots: the root node of every Eval's
// AST, appended to by each Eval and read only by yaegi's debugger, which goinv
// does not use. Kept, it holds every cell's AST (and so the largest part of a
// long session's growth: about 5 KB per `1 + 1` cell) long after the cell ran.
// What a later cell can still reach (declared funcs and types, closures stored
// in variables) stays referenced from the interpreter's scopes and values, not
// from roots. The field is found by name and type so that a yaegi upgrade that
// drops or changes it makes dropRoots a no-op rather than a crash.
var rootsField = func() (off uintptr, ok bool) {
	t := reflect.TypeOf(interp.Interpreter{})
	f, found := t.FieldByName("roots")
	if !found || f.Type.Kind() != reflect.Slice || f.Type.Elem().Kind() != reflect.Pointer {
		return 0, false
	}
	return f.Offset, true
}

var rootsOffset, rootsOK = rootsField()

// dropRoots forgets the ASTs of the Evals so far. Call it only between Evals, on
// the goroutine that runs them.
func dropRoots(i *interp.Interpreter) {
	if !rootsOK || i == nil {
		return
	}
	p := unsafe.Add(unsafe.Pointer(i), rootsOffset)
	// The slice header is the same for any pointer element type.
	*(*[]unsafe.Pointer)(p) = nil
}

// rootsLen reports how many roots the interpreter holds (-1 if unknown); for tests.
func rootsLen(i *interp.Interpreter) int {
	if !rootsOK || i == nil {
		return -1
	}
	return len(*(*[]unsafe.Pointer)(unsafe.Add(unsafe.Pointer(i), rootsOffset)))
}
