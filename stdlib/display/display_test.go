package display

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

type call struct {
	data   MIMEBundle
	id     string
	update bool
	clear  bool
	wait   bool
}

type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) Display(data MIMEBundle, md map[string]any, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{data: data, id: id, update: update})
}

func (r *recorder) ClearOutput(wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{clear: true, wait: wait})
}

func withRecorder(t *testing.T) *recorder {
	r := &recorder{}
	SetSink(r)
	t.Cleanup(func() { SetSink(nil) })
	return r
}

func TestHTMLAndUpdate(t *testing.T) {
	r := withRecorder(t)
	h := HTML("<b>one</b>")
	h.Update("<b>two</b>")
	h.Update(MIMEBundle{"text/plain": "three"})
	if len(r.calls) != 3 {
		t.Fatalf("got %d calls, want 3", len(r.calls))
	}
	if r.calls[0].data["text/html"] != "<b>one</b>" || r.calls[0].update || r.calls[0].id == "" {
		t.Errorf("first call %+v", r.calls[0])
	}
	if r.calls[1].data["text/html"] != "<b>two</b>" || !r.calls[1].update || r.calls[1].id != r.calls[0].id {
		t.Errorf("update call %+v", r.calls[1])
	}
	if r.calls[2].data["text/plain"] != "three" || r.calls[2].id != h.ID() {
		t.Errorf("bundle update %+v", r.calls[2])
	}
	if h2 := HTML("x"); h2.ID() == h.ID() {
		t.Errorf("two handles share id %s", h.ID())
	}
}

func TestKinds(t *testing.T) {
	r := withRecorder(t)
	Markdown("# hi")
	Latex(`$x^2$`)
	SVG("<svg></svg>")
	JSON(map[string]int{"a": 1})
	JSON(`{"b": [1, 2]}`)
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	Image(img)
	Clear()
	ClearWait()
	want := []string{"text/markdown", "text/latex", "image/svg+xml", "application/json", "application/json", "image/png"}
	for i, m := range want {
		if _, ok := r.calls[i].data[m]; !ok {
			t.Errorf("call %d: no %s in %v", i, m, r.calls[i].data)
		}
		if _, ok := r.calls[i].data["text/plain"]; !ok {
			t.Errorf("call %d: no text/plain", i)
		}
	}
	if j := r.calls[3].data["application/json"].(map[string]any); j["a"] != float64(1) {
		t.Errorf("json data %v", j)
	}
	if got := r.calls[5].data["text/plain"]; got != "<image 3×2>" {
		t.Errorf("image text %q", got)
	}
	if c := r.calls[6]; !c.clear || c.wait {
		t.Errorf("Clear: %+v", c)
	}
	if c := r.calls[7]; !c.clear || !c.wait {
		t.Errorf("ClearWait: %+v", c)
	}
}

func TestPNGUpdateKeepsKind(t *testing.T) {
	r := withRecorder(t)
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 4, 5))
	img.Set(1, 1, color.White)
	b, _ := EncodeJPEG(img, 90)
	h := JPEG(b)
	h.Update(b)
	if _, ok := r.calls[1].data["image/jpeg"]; !ok {
		t.Errorf("update lost kind: %v", r.calls[1].data)
	}
	if got := r.calls[0].data["text/plain"]; got != "<jpeg image 4×5>" {
		t.Errorf("text %q", got)
	}
	_ = buf
}

func TestPlot(t *testing.T) {
	r := withRecorder(t)
	p := plot.New()
	p.Title.Text = "line"
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	Plot(p)
	d := r.calls[0].data
	png, ok := d["image/png"].([]byte)
	if !ok || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("no PNG in plot bundle: %v", keys(d))
	}
	if svg, _ := d["image/svg+xml"].(string); !strings.Contains(svg, "<svg") {
		t.Errorf("no SVG alternative")
	}
	if Rich(p)["image/png"] == nil {
		t.Errorf("Rich(*plot.Plot) has no PNG")
	}
}

type richHTML struct{}

func (richHTML) HTML() string   { return "<i>r</i>" }
func (richHTML) String() string { return "r" }

type richBundle struct{}

func (richBundle) MIMEBundle() map[string]any { return map[string]any{"text/csv": "a,b"} }

type richSVGMarkdown struct{}

func (richSVGMarkdown) SVG() string      { return "<svg/>" }
func (richSVGMarkdown) Markdown() string { return "*m*" }

func TestRich(t *testing.T) {
	if b := Rich(richHTML{}); b["text/html"] != "<i>r</i>" || b["text/plain"] != "r" {
		t.Errorf("HTML(): %v", b)
	}
	if b := Rich(richBundle{}); b["text/csv"] != "a,b" {
		t.Errorf("MIMEBundle(): %v", b)
	}
	if b := Rich(richSVGMarkdown{}); b["image/svg+xml"] != "<svg/>" || b["text/markdown"] != "*m*" {
		t.Errorf("SVG()+Markdown(): %v", b)
	}
	if Rich(42) != nil || Rich(nil) != nil || Rich(&Handle{}) != nil {
		t.Errorf("plain values must have no rich form")
	}
	if Rich(image.NewRGBA(image.Rect(0, 0, 1, 1)))["image/png"] == nil {
		t.Errorf("image.Image has no PNG")
	}
}

func TestNoSinkFallback(t *testing.T) {
	SetSink(nil)
	var out bytes.Buffer
	old := fallback
	fallback = &out
	defer func() { fallback = old }()
	Markdown("**x**")
	if out.String() != "**x**\n" {
		t.Errorf("fallback printed %q", out.String())
	}
}

func TestProgressRateLimited(t *testing.T) {
	r := withRecorder(t)
	old := ProgressInterval
	ProgressInterval = 50 * time.Millisecond
	defer func() { ProgressInterval = old }()
	p := NewProgress("train", 1000)
	start := time.Now()
	for i := 1; i <= 1000; i++ {
		p.Update(i, "loss 0.5")
		if i%100 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	p.Done()
	elapsed := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.calls)
	maxCalls := 2 + int(elapsed/ProgressInterval) + 1
	if n > maxCalls || n < 2 {
		t.Errorf("%d redraws in %v, want 2..%d", n, elapsed, maxCalls)
	}
	first, last := r.calls[0], r.calls[n-1]
	if first.update || !last.update || first.id != last.id {
		t.Errorf("progress must publish once and update in place: %+v / %+v", first, last)
	}
	text := last.data["text/plain"].(string)
	if !strings.HasPrefix(text, "train 100% 1000/1000") || !strings.Contains(text, "loss 0.5") {
		t.Errorf("final text %q", text)
	}
	if !strings.Contains(last.data["text/html"].(string), "width:100.0%") {
		t.Errorf("final bar not full: %s", last.data["text/html"])
	}
	p.Update(5, "late") // ignored after Done
	if len(r.calls) != n {
		t.Errorf("update after Done redrew")
	}
}

func TestProgressTextFallback(t *testing.T) {
	SetSink(nil)
	var out bytes.Buffer
	old := progressOut
	progressOut = &out
	defer func() { progressOut = old }()
	p := NewProgress("eval", 0)
	for i := 0; i < 100; i++ {
		p.Add(1)
	}
	p.Done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "eval 100 [") {
		t.Errorf("fallback printed %q", out.String())
	}
}

func keys(m MIMEBundle) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}
