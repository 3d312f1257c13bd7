// Command goinv-kernel is the goinv Jupyter kernel without the toolkit: it speaks the
// Jupyter protocol and supervises executors, which it starts from the full `goinv`
// binary installed next to it (`goinv executor`).
//
//	goinv-kernel -f CONNECTION_FILE [--interrupt-grace 5s] [--executor PATH]
//
// It exists for start-up time. The full binary links yaegi's symbol tables for the
// standard library and the whole toolkit (gonum, gorgonia, plot fonts): its package
// initialisation alone takes about 16 ms, and the kernel process, which never runs
// user code, has no use for it. This binary initialises in about 1 ms and answers
// kernel_info while its executor is still starting. `go run ./install` builds both
// and points kernel.json here; `goinv kernel` in the full binary serves Jupyter the
// same way from a single file.
package main

import (
	"os"
	"path/filepath"

	"github.com/goinv/goinv/kernel"
	"github.com/goinv/goinv/kernel/supervisor"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	exe := ""
	if self, err := os.Executable(); err == nil {
		exe = filepath.Join(filepath.Dir(self), "goinv")
	}
	return kernel.Main("goinv-kernel", args, supervisor.Options{Path: exe, Args: []string{"executor"}})
}
