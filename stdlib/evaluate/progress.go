package evaluate

import "github.com/goinv/goinv/stdlib/display"

// progress is the part of display.Progress this package uses; kept behind an
// interface so tests and Quiet runs can pass a no-op.
type progress interface {
	Update(done int, msg string)
	Done()
}

type nopProgress struct{}

func (nopProgress) Update(int, string) {}
func (nopProgress) Done()              {}

func newProgress(label string, total int) progress { return display.NewProgress(label, total) }
