package executor

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// rawPipe reads or writes a pipe in non-blocking mode with raw system calls,
// waiting through the runtime's poller when the pipe is empty (or full).
//
// Why not os.File's Read and Write: they enter the kernel through
// syscall.Syscall, whose runtime bookkeeping (entersyscall) wakes the runtime's
// monitor thread, sysmon, whenever it is asleep. An idle executor's sysmon is
// asleep, so every request woke it, and it then ran every 20 µs until the
// executor was idle again: about a tenth of the executor's CPU per `1 + 1` cell
// (perf over 1,000 cells). A read or write of a non-blocking pipe never blocks,
// so it needs none of that bookkeeping: RawSyscall leaves sysmon asleep.
type rawPipe struct {
	f  *os.File
	rc syscall.RawConn
}

// newRawPipe puts fd in non-blocking mode and wraps it; name names it in errors.
func newRawPipe(fd int, name string) (*rawPipe, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	if f == nil {
		return nil, os.ErrInvalid
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &rawPipe{f: f, rc: rc}, nil
}

// Read reads up to len(b) bytes, waiting for some if the pipe is empty; io.EOF
// once the writers closed it.
func (p *rawPipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var (
		n     int
		errno syscall.Errno
	)
	err := p.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &os.PathError{Op: "read", Path: p.f.Name(), Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of b, waiting whenever the pipe is full.
func (p *rawPipe) Write(b []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := p.rc.Write(func(fd uintptr) bool {
		for done < len(b) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[done])), uintptr(len(b)-done))
			switch e {
			case 0:
				done += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until writable
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = &os.PathError{Op: "write", Path: p.f.Name(), Err: errno}
	}
	return done, err
}
