// Command goinv is the goinv Jupyter kernel for Go, and its helpers.
//
//	goinv kernel -f CONNECTION_FILE   serve Jupyter (also: goinv -f CONNECTION_FILE)
//	goinv run NOTEBOOK.ipynb [...]    execute a notebook without Jupyter
//	goinv executor                    the process that runs cells (started by the kernel)
//	goinv version                     print the version
//
// Install the kernelspec with `go run ./install`.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"

	"github.com/goinv/goinv/kernel"
	"github.com/goinv/goinv/kernel/executor"
	"github.com/goinv/goinv/kernel/ipc"
	"github.com/goinv/goinv/kernel/runner"
	"github.com/goinv/goinv/kernel/supervisor"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  goinv kernel -f CONNECTION_FILE   serve Jupyter on the connection file's sockets
  goinv run NOTEBOOK.ipynb [flags]  execute a notebook without Jupyter (goinv run -h)
  goinv executor                    run cells for a supervising kernel (internal)
  goinv version                     print the version
`)
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "kernel":
		return serve(args[1:])
	case "-f", "--f", "-connection-file", "--connection-file":
		return serve(args)
	case "executor":
		if f := os.Getenv("GOINV_EXECUTOR_CPUPROFILE"); f != "" {
			// A profile of the executor process, written when it exits cleanly.
			if w, err := os.Create(f); err == nil {
				pprof.StartCPUProfile(w)
				defer pprof.StopCPUProfile()
			}
		}
		if f := os.Getenv("GOINV_EXECUTOR_MEMPROFILE"); f != "" {
			// A heap profile of the executor, written when it exits cleanly.
			defer func() {
				if w, err := os.Create(f); err == nil {
					runtime.GC()
					pprof.WriteHeapProfile(w)
					w.Close()
				}
			}()
		}
		if fd, err := strconv.Atoi(os.Getenv(ipc.CrashFDEnv)); err == nil {
			// The runtime's crash report goes to stderr and to this file too, where
			// the supervisor reads its start when the session dies (see ipc.CrashFDEnv).
			f := os.NewFile(uintptr(fd), "crash")
			debug.SetCrashOutput(f, debug.CrashOptions{})
			f.Close() // SetCrashOutput keeps its own duplicate
		}
		return executor.Main()
	case "run":
		return runner.Main(args[1:])
	case "version", "-version", "--version":
		fmt.Printf("goinv %s (%s %s/%s)\n", kernel.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help", "-h", "--help":
		usage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "goinv: unknown command %q\n", args[0])
	usage()
	return 2
}

func serve(args []string) int {
	return kernel.Main("goinv kernel", args, supervisor.Options{})
}
