package executor

import (
	"go/token"
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

// scopesField and childField locate yaegi's Interpreter.scopes (the package-level
// scopes) and scope.child: every block scope a compilation pushes is appended to
// its parent's child list, read only by yaegi's debugger. A package scope's list
// so kept every cell's top-level block scopes (about 200 bytes a `1 + 1` cell);
// scopes still in use stay referenced from their nodes. Found by name and type,
// like roots: a yaegi that changes them makes dropScopeChildren a no-op.
var scopesType, scopesOffset, childOffset, scopesOK = func() (reflect.Type, uintptr, uintptr, bool) {
	f, ok := reflect.TypeOf(interp.Interpreter{}).FieldByName("scopes")
	if !ok || f.Type.Kind() != reflect.Map || f.Type.Key().Kind() != reflect.String || f.Type.Elem().Kind() != reflect.Pointer {
		return nil, 0, 0, false
	}
	c, ok := f.Type.Elem().Elem().FieldByName("child")
	if !ok || c.Type.Kind() != reflect.Slice || c.Type.Elem() != f.Type.Elem() {
		return nil, 0, 0, false
	}
	return f.Type, f.Offset, c.Offset, true
}()

// dropScopeChildren empties the child lists of the interpreter's package scopes.
// Call it only between Evals, on the goroutine that runs them.
func dropScopeChildren(i *interp.Interpreter) {
	if !scopesOK || i == nil {
		return
	}
	m := reflect.NewAt(scopesType, unsafe.Add(unsafe.Pointer(i), scopesOffset)).Elem()
	it := m.MapRange()
	for it.Next() {
		p := it.Value().UnsafePointer()
		if p == nil {
			continue
		}
		*(*[]unsafe.Pointer)(unsafe.Add(p, childOffset)) = nil
	}
}

// dropFiles removes from fset the files whose base is in [lo, hi): the sources
// parsed for a cell no later code can run (see session.runGo). A position in
// them would then print as "-"; nothing that can still run has one.
func dropFiles(fset *token.FileSet, lo, hi int) {
	if fset == nil || hi <= lo {
		return
	}
	var files []*token.File
	fset.Iterate(func(f *token.File) bool {
		if f.Base() >= lo && f.Base() < hi {
			files = append(files, f)
		}
		return f.Base() < hi
	})
	for _, f := range files {
		fset.RemoveFile(f)
	}
}

// scopeChildren reports how many child scopes the package scopes hold (-1 if
// unknown); for tests.
func scopeChildren(i *interp.Interpreter) int {
	if !scopesOK || i == nil {
		return -1
	}
	n := 0
	it := reflect.NewAt(scopesType, unsafe.Add(unsafe.Pointer(i), scopesOffset)).Elem().MapRange()
	for it.Next() {
		if p := it.Value().UnsafePointer(); p != nil {
			n += len(*(*[]unsafe.Pointer)(unsafe.Add(p, childOffset)))
		}
	}
	return n
}
