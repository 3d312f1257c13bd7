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
