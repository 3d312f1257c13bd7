package executor

import (
	"bytes"
	"io"
	"syscall"
	"testing"
)

// A rawPipe writes more than a pipe holds (waiting through the poller while the
// pipe is full), reads it back whole, and reads io.EOF once the writer closed.
func TestRawPipe(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, err := newRawPipe(fds[0], "r")
	if err != nil {
		t.Fatal(err)
	}
	w, err := newRawPipe(fds[1], "w")
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, 16 pipe buffers
	errc := make(chan error, 1)
	go func() {
		n, err := w.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		w.f.Close()
		errc <- err
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d written", len(got), len(want))
	}
	r.f.Close()
	if _, err := newRawPipe(fds[0], "closed"); err == nil {
		t.Error("newRawPipe of a closed fd succeeded")
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write to a closed pipe succeeded")
	}
}
