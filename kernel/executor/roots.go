package executor

import (
	"go/token"
	"reflect"
	"sync"
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

// The interpreter runs a cell's top-level statements in its global frame
// (Interpreter.frame.data, one slot per package-level variable), and yaegi gives
// their temporaries slots there too: the value of a call, a composite literal, a
// method value. Nothing frees or reuses those slots, so what a top-level
// expression computed stays reachable for the rest of the session. The cell's
// own temporaries must stay: yaegi reads some again later (an interpreted value
// converted to a compiled interface, such as fmt.Stringer, calls its methods on
// the receiver in its slot, each time). The executor's own evaluations are
// another matter: the method calls that render a shown value and the look at a
// called function kept the syntax tree of each (a method value refers to its
// node), about 5 KB a cell; sweepTemps gives their slots fresh zero values (the
// slots stay, a few dozen bytes each: the frame's layout is yaegi's). The fields
// are found by name and type, like roots: a yaegi that changes them makes
// sweepTemps a no-op.
var (
	frameOffset, frameDataOffset, frameMuOffset uintptr
	universeOffset, symOffset, symIndexOffset   uintptr
	symMapType                                  reflect.Type
	sweepOK                                     = func() bool {
		it := reflect.TypeOf(interp.Interpreter{})
		ff, ok := it.FieldByName("frame")
		if !ok || ff.Type.Kind() != reflect.Pointer || ff.Type.Elem().Kind() != reflect.Struct {
			return false
		}
		ft := ff.Type.Elem()
		df, ok1 := ft.FieldByName("data")
		mf, ok2 := ft.FieldByName("mutex")
		if !ok1 || !ok2 || df.Type != reflect.TypeOf([]reflect.Value(nil)) || mf.Type != reflect.TypeOf(sync.RWMutex{}) {
			return false
		}
		uf, ok := it.FieldByName("universe")
		if !ok || !scopesOK || uf.Type != scopesType.Elem() {
			return false
		}
		sf, ok := uf.Type.Elem().FieldByName("sym")
		if !ok || sf.Type.Kind() != reflect.Map || sf.Type.Key().Kind() != reflect.String || sf.Type.Elem().Kind() != reflect.Pointer {
			return false
		}
		xf, ok := sf.Type.Elem().Elem().FieldByName("index")
		if !ok || xf.Type.Kind() != reflect.Int {
			return false
		}
		frameOffset, frameDataOffset, frameMuOffset = ff.Offset, df.Offset, mf.Offset
		universeOffset, symOffset, symIndexOffset, symMapType = uf.Offset, sf.Offset, xf.Offset, sf.Type
		return true
	}()
)

// globalFrame returns the interpreter's global frame and its lock, or nils.
func globalFrame(i *interp.Interpreter) (data *[]reflect.Value, mu *sync.RWMutex) {
	if !sweepOK || i == nil {
		return nil, nil
	}
	f := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(i), frameOffset))
	if f == nil {
		return nil, nil
	}
	return (*[]reflect.Value)(unsafe.Add(f, frameDataOffset)), (*sync.RWMutex)(unsafe.Add(f, frameMuOffset))
}

// globalFrameLen returns the number of slots of the global frame (0 if unknown).
func globalFrameLen(i *interp.Interpreter) int {
	data, mu := globalFrame(i)
	if data == nil {
		return 0
	}
	mu.RLock()
	defer mu.RUnlock()
	return len(*data)
}

// sweepTemps zeroes the global frame's slots from lo on that no symbol names, by
// replacing their values, and returns the frame's length. Call it only after
// evaluations of the executor's own, whose values nothing keeps, on the
// goroutine that runs them.
func sweepTemps(i *interp.Interpreter, lo int) int {
	data, mu := globalFrame(i)
	if data == nil {
		return lo
	}
	mu.RLock()
	d := *data
	mu.RUnlock()
	if len(d) <= lo {
		return len(d)
	}
	named := make([]bool, len(d)-lo)
	seen := map[unsafe.Pointer]bool{}
	var walk func(sc unsafe.Pointer)
	walk = func(sc unsafe.Pointer) {
		if sc == nil || seen[sc] {
			return
		}
		seen[sc] = true
		it := reflect.NewAt(symMapType, unsafe.Add(sc, symOffset)).Elem().MapRange()
		for it.Next() {
			if p := it.Value().UnsafePointer(); p != nil {
				if x := *(*int)(unsafe.Add(p, symIndexOffset)) - lo; x >= 0 && x < len(named) {
					named[x] = true
				}
			}
		}
		for _, c := range *(*[]unsafe.Pointer)(unsafe.Add(sc, childOffset)) {
			walk(c)
		}
	}
	walk(*(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(i), universeOffset)))
	sm := reflect.NewAt(scopesType, unsafe.Add(unsafe.Pointer(i), scopesOffset)).Elem().MapRange()
	for sm.Next() {
		walk(sm.Value().UnsafePointer())
	}
	mu.Lock()
	defer mu.Unlock()
	for x, n := range named {
		// The slot gets a fresh zero value rather than having its value set to
		// zero: a temporary can be a view into a variable (the field q.Y of a
		// selector), which must keep its value.
		if v := d[lo+x]; !n && v.IsValid() {
			d[lo+x] = reflect.New(v.Type()).Elem()
		}
	}
	return len(d)
}

// resetGlobal gives the package-level variable name of package main a fresh zero
// value, as sweepTemps does for temporaries: its value is replaced, not set to
// zero, since it can be a view of another variable's memory (a variable of an
// interface type assigned to it). It reports whether it could.
func resetGlobal(i *interp.Interpreter, name string) bool {
	data, mu := globalFrame(i)
	if data == nil {
		return false
	}
	sc := reflect.NewAt(scopesType, unsafe.Add(unsafe.Pointer(i), scopesOffset)).Elem().MapIndex(reflect.ValueOf("main"))
	if !sc.IsValid() || sc.IsNil() {
		return false
	}
	sym := reflect.NewAt(symMapType, unsafe.Add(sc.UnsafePointer(), symOffset)).Elem().MapIndex(reflect.ValueOf(name))
	if !sym.IsValid() || sym.IsNil() {
		return false
	}
	x := *(*int)(unsafe.Add(sym.UnsafePointer(), symIndexOffset))
	mu.Lock()
	defer mu.Unlock()
	d := *data
	if x < 0 || x >= len(d) || !d[x].IsValid() {
		return false
	}
	d[x] = reflect.New(d[x].Type()).Elem()
	return true
}
