package ipc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Tracef writes a CLOCK_MONOTONIC-stamped line when $GOINV_TRACE is set (the clock
// Python's time.perf_counter uses, so a client can line up its own times): to the
// file $GOINV_TRACE names if it is a path (an absolute one; both processes append
// to it, so their lines interleave in time order), else to stderr. The executor's
// stderr is a pipe to the supervisor, whose lines become stream output: trace it
// through a file.
//
// Lines are buffered and written every 50 ms: a write(2) per line cost more than
// most of the steps it timed. A process that is killed loses its last 50 ms.
func Tracef(format string, args ...any) {
	if traceOut == nil {
		return
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	traceMu.Lock()
	b := traceBuf[:0]
	b = append(b, "goinv trace "...)
	b = strconv.AppendFloat(b, float64(ts.Nano())/1e6, 'f', 3, 64)
	b = append(b, " ms ["...)
	b = strconv.AppendInt(b, int64(os.Getpid()), 10)
	b = append(b, "]: "...)
	b = fmt.Appendf(b, format, args...)
	b = append(b, '\n')
	traceOut.Write(b)
	traceBuf = b
	traceMu.Unlock()
}

var (
	traceMu  sync.Mutex
	traceBuf []byte
	traceOut = traceWriter()
)

// Tracing reports whether Tracef writes anything.
func Tracing() bool { return traceOut != nil }

func traceWriter() *bufio.Writer {
	v := os.Getenv("GOINV_TRACE")
	if v == "" {
		return nil
	}
	var w io.Writer = os.Stderr
	if len(v) > 1 && v[0] == '/' {
		if f, err := os.OpenFile(v, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			w = f
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	go func() {
		for range time.Tick(50 * time.Millisecond) {
			traceMu.Lock()
			bw.Flush()
			traceMu.Unlock()
		}
	}()
	return bw
}
