// Package cell gives toolkit code and notebook cells the context of the running cell.
//
// The executor replaces the context before each cell and cancels it when the user
// presses Interrupt, so long-running toolkit loops written as
//
//	model, hist := train.Fit(cell.Context(), ...)
//
// stop at their next step boundary and return what they have.
package cell

import (
	"context"
	"sync/atomic"
)

var current atomic.Pointer[context.Context]

// Context returns the context of the cell that is running now. Outside a goinv session
// (tests, `go run`) it is context.Background().
func Context() context.Context {
	if p := current.Load(); p != nil {
		return *p
	}
	return context.Background()
}

// SetContext installs ctx as the running cell's context. The executor calls it before
// each cell; toolkit code never needs to.
func SetContext(ctx context.Context) { current.Store(&ctx) }
