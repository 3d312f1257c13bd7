package display

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress is a progress bar for long loops, updated in place. It is safe for concurrent
// use and cheap to update on every step: with a Sink it redraws at most
// ProgressInterval apart (always on Done); without one it prints a plain text line to
// standard error at most every ProgressTextInterval.
//
//	p := display.NewProgress("train", steps)
//	for i := 0; i < steps; i++ {
//		...
//		p.Update(i+1, fmt.Sprintf("loss %.3f", loss))
//	}
//	p.Done()
type Progress struct {
	mu      sync.Mutex
	name    string
	total   int
	done    int
	msg     string
	start   time.Time
	last    time.Time // last redraw
	h       *Handle
	drawn   bool
	stopped bool
}

// ProgressInterval is the minimum time between two redraws of a Progress shown through a
// Sink; ProgressTextInterval the same for the plain text fallback.
var (
	ProgressInterval     = 100 * time.Millisecond
	ProgressTextInterval = 5 * time.Second
)

// progressOut is where progress lines go without a Sink.
var progressOut io.Writer = os.Stderr

// NewProgress starts a progress bar named name that counts to total (0 or less: unknown
// total, the bar shows the count and rate only).
func NewProgress(name string, total int) *Progress {
	p := &Progress{name: name, total: total, start: time.Now()}
	p.mu.Lock()
	p.draw(false)
	p.mu.Unlock()
	return p
}

// Update records that done steps are finished, with an optional status message such as
// "loss 0.31 acc 0.92", and redraws if the last redraw is old enough.
func (p *Progress) Update(done int, msg string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.done, p.msg = done, msg
	interval := ProgressInterval
	if currentSink() == nil {
		interval = ProgressTextInterval
	}
	if time.Since(p.last) >= interval {
		p.draw(false)
	}
}

// Add advances the count by n steps, keeping the message.
func (p *Progress) Add(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	done, msg := p.done+n, p.msg
	p.mu.Unlock()
	p.Update(done, msg)
}

// SetTotal changes the total, for loops whose length becomes known late.
func (p *Progress) SetTotal(total int) {
	p.mu.Lock()
	p.total = total
	p.mu.Unlock()
}

// Done draws the final state. Later updates are ignored.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	p.draw(true)
}

// String reports the state as one line of text, such as
// "train  40% 400/1000 [12s, 33.3/s] loss 0.31".
func (p *Progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.text(time.Since(p.start))
}

func (p *Progress) text(elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(p.name)
	if p.total > 0 {
		fmt.Fprintf(&b, " %3.0f%% %d/%d", 100*p.fraction(), p.done, p.total)
	} else {
		fmt.Fprintf(&b, " %d", p.done)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.done) / s
	}
	fmt.Fprintf(&b, " [%s, %.3g/s", elapsed.Round(time.Second/10), rate)
	if p.total > 0 && p.done > 0 && p.done < p.total && !p.stopped {
		left := time.Duration(float64(elapsed) * float64(p.total-p.done) / float64(p.done))
		fmt.Fprintf(&b, ", %s left", left.Round(time.Second))
	}
	b.WriteString("]")
	if p.msg != "" {
		b.WriteString(" ")
		b.WriteString(p.msg)
	}
	return b.String()
}

func (p *Progress) fraction() float64 {
	if p.total <= 0 {
		return 0
	}
	f := float64(p.done) / float64(p.total)
	return min(max(f, 0), 1)
}

func (p *Progress) html(text string) string {
	pct := 100 * p.fraction()
	color := "#4a90d9"
	if p.stopped {
		color = "#5cb85c"
	}
	bar := ""
	if p.total > 0 {
		bar = fmt.Sprintf(`<div style="display:inline-block;vertical-align:middle;width:240px;height:12px;background:#e6e6e6;border-radius:3px;overflow:hidden;margin-right:8px"><div style="width:%.1f%%;height:100%%;background:%s"></div></div>`, pct, color)
	}
	return fmt.Sprintf(`<div class="goinv-progress" style="font-family:monospace;font-size:12px">%s<span>%s</span></div>`, bar, html.EscapeString(text))
}

// draw must be called with p.mu held.
func (p *Progress) draw(final bool) {
	now := time.Now()
	p.last = now
	text := p.text(now.Sub(p.start))
	s := currentSink()
	if s == nil {
		if p.drawn || final {
			fmt.Fprintln(progressOut, text)
		}
		p.drawn = true
		return
	}
	b := MIMEBundle{"text/html": p.html(text), "text/plain": text}
	if p.h == nil {
		p.h = newHandle("")
		s.Display(b, nil, p.h.id, false)
	} else {
		s.Display(b, nil, p.h.id, true)
	}
	p.drawn = true
}
