package kernel

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/goinv/goinv/kernel/supervisor"
)

// supervisorGOGC is the kernel process's GOGC unless $GOGC is set.
const supervisorGOGC = 25

// Main is the `kernel` command: it parses args (-f CONNECTION_FILE,
// --interrupt-grace DURATION, --executor PATH), serves Jupyter on the connection
// file's sockets until shutdown, and returns the process exit status. sup says how
// to start the executor (see supervisor.Options); --executor replaces sup.Path.
// name prefixes messages.
func Main(name string, args []string, sup supervisor.Options) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	file := fs.String("f", "", "Jupyter connection `file`")
	grace := fs.Duration("interrupt-grace", 0, "kill a session that ignores an interrupt this long (default $GOINV_INTERRUPT_GRACE or 5s)")
	exe := fs.String("executor", sup.Path, "the goinv `binary` whose executor command runs the cells (empty: this executable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *exe != "" {
		// Fail at start, with a clear message, rather than at the first cell.
		if fi, err := os.Stat(*exe); err != nil || fi.IsDir() {
			fmt.Fprintf(os.Stderr, "%s: no goinv executor binary at %s (install with `go run ./install`, or pass --executor PATH)\n", name, *exe)
			return 1
		}
		sup.Path = *exe
	}
	if *file == "" {
		fmt.Fprintf(os.Stderr, "%s: -f CONNECTION_FILE is required\n", name)
		return 2
	}
	conn, err := ReadConnectionFile(*file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	if *grace != 0 {
		sup.InterruptGrace = *grace
	}
	if os.Getenv("GOGC") == "" {
		// This process runs no user code and holds about a megabyte (the cells'
		// data lives in the executor): collecting at a quarter more than that,
		// instead of at twice it or 4 MB, costs a fraction of a millisecond now and
		// then and keeps its memory flat over thousands of cells. The executor
		// keeps Go's default (it inherits $GOGC, not this setting): there a lower
		// percent made a cell allocating 100 MB in 256 KB slices run 40-50% longer
		// (15-20 → 24-30 ms, also when raised back to 100 at the cell's first
		// collection), freed pages being handed back and faulted in again.
		debug.SetGCPercent(supervisorGOGC)
	}
	k, err := New(conn, Options{Supervisor: sup})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	if err := k.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
