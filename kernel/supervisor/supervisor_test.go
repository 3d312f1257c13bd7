package supervisor

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goinv/goinv/kernel/ipc"
)

func TestCompleteUTF8(t *testing.T) {
	e := []byte("aé") // 'a', 0xC3, 0xA9
	for i, want := range []int{0, 1, 1, 3} {
		if got := completeUTF8(e[:i]); got != want {
			t.Errorf("completeUTF8(%q) = %d, want %d", e[:i], got, want)
		}
	}
	if got := completeUTF8([]byte("x€"[:3])); got != 1 {
		t.Errorf("partial euro: %d, want 1", got)
	}
}

// realSession starts the real executor from $GOINV_BIN (a built goinv binary).
func realSession(t *testing.T) *Session {
	bin := os.Getenv("GOINV_BIN")
	if bin == "" {
		t.Skip("set GOINV_BIN to a built goinv binary")
	}
	s, err := Start(Options{Path: bin, InterruptGrace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestInterruptLatency(t *testing.T) {
	s := realSession(t)
	if r, _ := s.Execute(ipc.Request{Code: "x := 1"}, Outputs{}); r["status"] != "ok" {
		t.Fatalf("setup: %v", r)
	}
	done := make(chan time.Time)
	go func() {
		r, _ := s.Execute(ipc.Request{Code: "for {}", AllowStdin: os.Getenv("STDIN") != ""}, Outputs{})
		if r["status"] != "error" {
			t.Errorf("interrupted cell: %v", r)
		}
		done <- time.Now()
	}()
	time.Sleep(500 * time.Millisecond)
	t0 := time.Now()
	s.Interrupt()
	t.Logf("interrupt → reply: %v", (<-done).Sub(t0))
}

func TestCrash(t *testing.T) {
	s := realSession(t)
	var errText strings.Builder
	r, _ := s.Execute(ipc.Request{Code: "import \"os\"\nos.Exit(7)"}, Outputs{Stream: func(n, s string) { errText.WriteString(s) }})
	if r["ename"] != EnameSessionLost || !strings.Contains(r["evalue"].(string), "exit status 7") {
		t.Fatalf("reply %v", r)
	}
	if r, _ := s.Execute(ipc.Request{Code: "1 + 1"}, Outputs{}); r["status"] != "ok" {
		t.Fatalf("after crash: %v", r)
	}
}

func TestCrashSummaryKeepsThePanicAndUserFrames(t *testing.T) {
	report := "panic: boom\n\tsecond line of the value\n\ngoroutine 23 [running]:\n" +
		"github.com/traefik/yaegi/interp.runCfg.func1()\n\t/go/yaegi/interp/run.go:205 +0x1c5\n" +
		"panic({0x16d0380?, 0x1859})\n\t/usr/local/go/src/runtime/panic.go:783 +0x132\n" +
		"github.com/goinv/goinv/stdlib/nn.worker(0x1)\n\t/src/stdlib/nn/parallel.go:40 +0x55\n" +
		"reflect.Value.call({0x16d0380?})\n\t/usr/local/go/src/reflect/value.go:586 +0xf0c\n" +
		"created by github.com/traefik/yaegi/interp.call.func9 in goroutine 79\n\t/go/yaegi/interp/run.go:1322 +0xf0f\n"
	got := crashSummary([]byte(report), "")
	want := "Crash report:\npanic: boom\n\tsecond line of the value\ngoroutine 23 [running]:\n" +
		"  in github.com/goinv/goinv/stdlib/nn.worker(0x1)\n     /src/stdlib/nn/parallel.go:40 +0x55"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// A stack overflow's "fatal error" line goes to stderr only; the report file
	// starts at the runtime stack (as measured with Go 1.26).
	overflow := "\nruntime stack:\nruntime.throw({0x4adc74?})\n\t/usr/local/go/src/runtime/panic.go:1229 +0x48\n" +
		"runtime.newstack()\n\ngoroutine 1 gp=0x1d5 m=2 [running]:\nmain.f(0x2aaaa4b?)\n\t/tmp/co/main.go:8 +0x2b\n"
	if got, want := crashSummary([]byte(overflow), "fatal error: stack overflow"),
		"Crash report:\nfatal error: stack overflow\ngoroutine 1 gp=0x1d5 m=2 [running]:\n  in main.f(0x2aaaa4b?)\n     /tmp/co/main.go:8 +0x2b"; got != want {
		t.Fatalf("stack overflow: got %q, want %q", got, want)
	}
	if got := crashSummary([]byte("exit status 3\n"), ""); got != "" {
		t.Fatalf("no crash report: got %q", got)
	}
	if got := crashSummary(nil, "fatal error: x"); got != "" {
		t.Fatalf("no report file content: got %q", got)
	}
	msg := describeExit(nil, "", []byte(overflow), "fatal error: stack overflow", []byte("tail"))
	if !strings.Contains(msg, "fatal error: stack overflow") || strings.Contains(msg, "tail") {
		t.Fatalf("describeExit: %q", msg)
	}
}

func TestNoteFatalFindsTheLineAcrossChunks(t *testing.T) {
	var b streamBuf
	b.noteFatal(nil, []byte("user text\nruntime: goroutine stack exceeds 1000000000-byte limit\nfatal error: stack overflow\n\nruntime stack:\n"))
	if b.fatal != "fatal error: stack overflow" {
		t.Fatalf("got %q", b.fatal)
	}
	b.noteFatal([]byte("x"), []byte("fatal error: not at a line start"))
	if b.fatal != "fatal error: stack overflow" {
		t.Fatalf("a marker in mid-line replaced it: %q", b.fatal)
	}
	b.noteFatal([]byte("x\n"), []byte("fatal error: all goroutines are asleep - deadlock!\n"))
	if b.fatal != "fatal error: all goroutines are asleep - deadlock!" {
		t.Fatalf("got %q", b.fatal)
	}
	// The runtime writes "fatal error: " and the message separately: a read can
	// end between them.
	b = streamBuf{}
	b.noteFatal(nil, []byte("runtime: goroutine stack exceeds 1000000000-byte limit\nfatal error: "))
	b.noteFatal([]byte("fatal error: "), []byte("stack overflow"))
	b.noteFatal([]byte("stack overflow"), []byte("\n\nruntime stack:\n"))
	if b.fatal != "fatal error: stack overflow" || b.fatalOpen {
		t.Fatalf("split line: got %q (open %v)", b.fatal, b.fatalOpen)
	}
}
