// Package plots holds the figure helpers the evaluation, invariance and experiment
// packages share: a Figure that renders a gonum/plot plot as PNG, SVG or inline HTML,
// so a notebook cell can show it as its last expression or save it to a file.
package plots

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Default figure size, chosen to read well inline in a notebook.
const (
	DefaultWidth  = 6 * vg.Inch
	DefaultHeight = 4 * vg.Inch
)

// Figure is a plot with the size it is rendered at. The zero Width and Height mean
// DefaultWidth and DefaultHeight.
type Figure struct {
	Plot          *plot.Plot
	Width, Height vg.Length
}

// New wraps p in a Figure of the default size.
func New(p *plot.Plot) *Figure { return &Figure{Plot: p} }

func (f *Figure) size() (vg.Length, vg.Length) {
	w, h := f.Width, f.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	return w, h
}

// Render returns the figure encoded in format: "png", "svg", "pdf", "eps", "jpg" or "tiff".
func (f *Figure) Render(format string) ([]byte, error) {
	if f == nil || f.Plot == nil {
		return nil, fmt.Errorf("render figure: no plot")
	}
	w, h := f.size()
	wt, err := f.Plot.WriterTo(w, h, format)
	if err != nil {
		return nil, fmt.Errorf("render figure as %s: %w", format, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render figure as %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

// PNG returns the figure as a PNG image, or nil if it cannot be drawn (Render reports
// why). The signature is the one stdlib/display looks for.
func (f *Figure) PNG() []byte {
	b, err := f.Render("png")
	if err != nil {
		return nil
	}
	return b
}

// SVG returns the figure as an SVG document, or "" if it cannot be drawn.
func (f *Figure) SVG() string {
	b, err := f.Render("svg")
	if err != nil {
		return ""
	}
	return string(b)
}

// HTML returns an <img> element with the PNG inlined, or the error as HTML.
func (f *Figure) HTML() string {
	b, err := f.Render("png")
	if err != nil {
		return "<pre>" + html.EscapeString(err.Error()) + "</pre>"
	}
	return `<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(b) + `"/>`
}

// MIMEBundle is what a notebook shows when a cell ends with a Figure: the PNG and a
// one-line text description.
func (f *Figure) MIMEBundle() map[string]any {
	out := map[string]any{"text/plain": f.String()}
	if b, err := f.Render("png"); err == nil {
		out["image/png"] = b
	} else {
		out["text/html"] = "<pre>" + html.EscapeString(err.Error()) + "</pre>"
	}
	return out
}

// String describes the figure in one line, for plain-text output.
func (f *Figure) String() string {
	if f == nil || f.Plot == nil {
		return "Figure(empty)"
	}
	title := f.Plot.Title.Text
	if title == "" {
		title = "untitled"
	}
	return fmt.Sprintf("Figure(%q)", title)
}

// Save writes the figure to path; the extension picks the format (.png, .svg, .pdf, ...).
func (f *Figure) Save(path string) error {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if ext == "" {
		return fmt.Errorf("save figure %s: no file extension to choose a format", path)
	}
	b, err := f.Render(ext)
	if err != nil {
		return fmt.Errorf("save figure %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("save figure: %w", err)
	}
	return nil
}

// Colors is the qualitative palette the toolkit's figures cycle through (Tableau 10),
// so that a method keeps its colour across figures when series are added in the same order.
var Colors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff},
	color.RGBA{0x94, 0x67, 0xbd, 0xff},
	color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff},
	color.RGBA{0x7f, 0x7f, 0x7f, 0xff},
	color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
}

// Color returns the i-th colour of Colors, cycling.
func Color(i int) color.Color { return Colors[((i%len(Colors))+len(Colors))%len(Colors)] }

// LogTicks marks a logarithmic axis at 1, 2 and 5 times each power of ten (labelled)
// with unlabelled minor ticks in between: class sizes such as 20, 50 or 200 read
// directly, which gonum's decade-only plot.LogTicks does not give on short ranges.
type LogTicks struct{}

// Ticks returns the tick marks between min and max (both must be positive).
func (LogTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 || min > max {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); math.Pow(10, e) <= max; e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
