package munit

import "github.com/goinv/goinv/stdlib/nn"

// BLAS names the matrix-multiply backend: package nn's, which loads OpenBLAS for this
// CPU's core type (or falls back to gonum).
func BLAS() string { return nn.BLAS() }

// Threads is the number of goroutines Train and TimeIteration split the images of a
// batch over (package nn's layers run them in parallel); 0 leaves nn.Threads as it is
// (whose 0 means runtime.GOMAXPROCS(0)). Results do not depend on it.
var Threads = 0

// setThreads applies Threads to package nn for the duration of a run and returns the
// function that restores the previous setting.
func setThreads() func() {
	if Threads <= 0 {
		return func() {}
	}
	old := nn.Threads
	nn.Threads = Threads
	return func() { nn.Threads = old }
}
