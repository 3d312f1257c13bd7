// Package symbols holds the yaegi symbol tables of the goinv toolkit (every package
// under stdlib/) and of the numeric libraries notebooks use: gorgonia, tensor, gonum
// (mat, stat, floats), gonum/plot and golang.org/x/image/draw.
//
// The tables are generated: run `go generate ./stdlib/symbols` after adding or changing
// an exported API under stdlib/.
package symbols

import "reflect"

//go:generate go run ./gen

// Symbols maps "import/path/name" to the exported symbols of that package, as
// interp.Interpreter.Use expects.
var Symbols = map[string]map[string]reflect.Value{}
