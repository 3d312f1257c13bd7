package ipc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Tracef writes a CLOCK_MONOTONIC-stamped line to stderr when GOINV_TRACE is set
// (the clock Python's time.perf_counter uses, so a client can line up its own times).
func Tracef(format string, args ...any) {
	if !tracing {
		return
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	fmt.Fprintf(os.Stderr, "goinv trace %.3f ms: %s\n", float64(ts.Nano())/1e6, fmt.Sprintf(format, args...))
}

var tracing = os.Getenv("GOINV_TRACE") != ""
