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
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/goinv/goinv/kernel"
	"github.com/goinv/goinv/kernel/executor"
	"github.com/goinv/goinv/kernel/runner"
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
	fs := flag.NewFlagSet("goinv kernel", flag.ContinueOnError)
	file := fs.String("f", "", "Jupyter connection `file`")
	grace := fs.Duration("interrupt-grace", 0, "kill a session that ignores an interrupt this long (default $GOINV_INTERRUPT_GRACE or 5s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(os.Stderr, "goinv kernel: -f CONNECTION_FILE is required")
		return 2
	}
	conn, err := kernel.ReadConnectionFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goinv kernel:", err)
		return 1
	}
	if *grace != 0 {
		os.Setenv("GOINV_INTERRUPT_GRACE", grace.String())
	}
	k, err := kernel.New(conn, kernel.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "goinv kernel:", err)
		return 1
	}
	if err := k.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "goinv kernel:", err)
		return 1
	}
	return 0
}
