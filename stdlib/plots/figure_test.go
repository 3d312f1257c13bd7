package plots

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

func TestFigureRenders(t *testing.T) {
	p := plot.New()
	p.Title.Text = "t"
	l, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 1}, {X: 2, Y: 3}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	f := New(p)
	if png := f.PNG(); !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("PNG starts with %q", png[:min(8, len(png))])
	}
	if svg := f.SVG(); !strings.Contains(svg, "<svg") {
		t.Error("SVG has no <svg> element")
	}
	if h := f.HTML(); !strings.HasPrefix(h, `<img src="data:image/png;base64,`) {
		t.Errorf("HTML %.40s", h)
	}
	if b := f.MIMEBundle(); b["image/png"] == nil || b["text/plain"] != `Figure("t")` {
		t.Errorf("bundle %v", b["text/plain"])
	}
	dir := t.TempDir()
	if err := f.Save(filepath.Join(dir, "a.svg")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.svg")); !bytes.Contains(b, []byte("<svg")) {
		t.Error("saved SVG is not SVG")
	}
	if err := f.Save(filepath.Join(dir, "noext")); err == nil {
		t.Error("Save without an extension: no error")
	}
	if _, err := (&Figure{}).Render("png"); err == nil {
		t.Error("empty figure rendered")
	}
}

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (LogTicks{}).Ticks(15, 2500) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "20 50 100 200 500 1000 2000" {
		t.Errorf("labels %q", got)
	}
	if (LogTicks{}).Ticks(-1, 10) != nil {
		t.Error("ticks for a non-positive range")
	}
}
