package ipc

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Tracef writes a CLOCK_MONOTONIC-stamped line when $GOINV_TRACE is set (the clock
// Python's time.perf_counter uses, so a client can line up its own times): to the
// file $GOINV_TRACE names if it is a path (an absolute one; both processes append
// to it, so their lines interleave in time order), else to stderr. The executor's
// stderr is a pipe to the supervisor, whose lines become stream output: trace it
// through a file.
func Tracef(format string, args ...any) {
	if traceOut == nil {
		return
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	fmt.Fprintf(traceOut, "goinv trace %.3f ms [%d]: %s\n", float64(ts.Nano())/1e6, os.Getpid(), fmt.Sprintf(format, args...))
}

var traceOut = traceWriter()

// Tracing reports whether Tracef writes anything.
func Tracing() bool { return traceOut != nil }

func traceWriter() io.Writer {
	v := os.Getenv("GOINV_TRACE")
	if v == "" {
		return nil
	}
	if len(v) > 1 && v[0] == '/' {
		if f, err := os.OpenFile(v, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			return f
		}
	}
	return os.Stderr
}
