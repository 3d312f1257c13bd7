package display

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

var (
	sinkMu sync.RWMutex
	sink   Sink
	nextID atomic.Uint64
)

// SetSink installs s as the receiver of everything published; nil restores the
// plain-text fallback. The executor calls it once at start; toolkit code never needs to.
func SetSink(s Sink) {
	sinkMu.Lock()
	sink = s
	sinkMu.Unlock()
}

func currentSink() Sink {
	sinkMu.RLock()
	defer sinkMu.RUnlock()
	return sink
}

// fallback is where text/plain goes without a Sink. It is a variable so tests can
// capture it.
var fallback io.Writer = os.Stdout

// Handle names one published output. Update replaces it in place. A Handle as the last
// expression of a cell shows nothing: the output is already on the page.
type Handle struct {
	id   string
	kind string // the constructor that made it: "html", "png", ... or "" for any value
}

// ID returns the display_id of the output.
func (h *Handle) ID() string { return h.id }

// String describes the handle for text/plain contexts.
func (h *Handle) String() string { return "display " + h.id }

// Update replaces the output in place with v, interpreted the way the constructor
// that made h interprets its argument: a string for a handle made by HTML, Markdown,
// Latex or SVG, []byte for PNG and JPEG, any value for JSON. Any other value is
// rendered as by Value: a MIMEBundle, image.Image, *plot.Plot, or a value with an
// HTML, Markdown, PNG, SVG or MIMEBundle method.
func (h *Handle) Update(v any) {
	if h == nil {
		return
	}
	b, err := h.bundle(v)
	if err != nil {
		b = MIMEBundle{"text/plain": err.Error()}
	}
	publish(b, nil, h.id, true)
}

func (h *Handle) bundle(v any) (MIMEBundle, error) {
	switch h.kind {
	case "html", "markdown", "latex", "svg":
		if s, ok := v.(string); ok {
			return textBundle(h.kind, s), nil
		}
	case "png", "jpeg":
		if b, ok := v.([]byte); ok {
			return imageBytesBundle(h.kind, b), nil
		}
	case "json":
		return jsonBundle(v)
	}
	if b := Rich(v); b != nil {
		return b, nil
	}
	return MIMEBundle{"text/plain": fmt.Sprint(v)}, nil
}

func newHandle(kind string) *Handle {
	return &Handle{id: "goinv-" + strconv.FormatUint(nextID.Add(1), 10), kind: kind}
}

func publish(b MIMEBundle, md map[string]any, id string, update bool) {
	if s := currentSink(); s != nil {
		s.Display(b, md, id, update)
		return
	}
	if t, ok := b["text/plain"].(string); ok {
		fmt.Fprintln(fallback, t)
	}
}

func show(kind string, b MIMEBundle) *Handle {
	h := newHandle(kind)
	publish(b, nil, h.id, false)
	return h
}

func textBundle(kind, s string) MIMEBundle {
	switch kind {
	case "html":
		return MIMEBundle{"text/html": s, "text/plain": "<HTML>"}
	case "markdown":
		return MIMEBundle{"text/markdown": s, "text/plain": s}
	case "latex":
		return MIMEBundle{"text/latex": s, "text/plain": s}
	case "svg":
		return MIMEBundle{"image/svg+xml": s, "text/plain": "<SVG image>"}
	}
	return MIMEBundle{"text/plain": s}
}

func imageBytesBundle(kind string, b []byte) MIMEBundle {
	mime := "image/" + kind
	out := MIMEBundle{mime: b, "text/plain": fmt.Sprintf("<%s image, %d bytes>", kind, len(b))}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err == nil {
		out["text/plain"] = fmt.Sprintf("<%s image %d×%d>", kind, cfg.Width, cfg.Height)
	}
	return out
}

func jsonBundle(v any) (MIMEBundle, error) {
	var data any
	switch x := v.(type) {
	case string:
		if err := json.Unmarshal([]byte(x), &data); err != nil {
			return nil, fmt.Errorf("display: JSON: %w", err)
		}
	case []byte:
		if err := json.Unmarshal(x, &data); err != nil {
			return nil, fmt.Errorf("display: JSON: %w", err)
		}
	default:
		// Round-trip so the Sink receives plain maps, slices and numbers.
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("display: JSON: %w", err)
		}
		if err := json.Unmarshal(raw, &data); err != nil {
			return nil, fmt.Errorf("display: JSON: %w", err)
		}
	}
	pretty, _ := json.MarshalIndent(data, "", "  ")
	return MIMEBundle{"application/json": data, "text/plain": string(pretty)}, nil
}

// HTML publishes an HTML fragment.
func HTML(s string) *Handle { return show("html", textBundle("html", s)) }

// Markdown publishes Markdown text.
func Markdown(s string) *Handle { return show("markdown", textBundle("markdown", s)) }

// Latex publishes LaTeX source, typically math between dollar signs.
func Latex(s string) *Handle { return show("latex", textBundle("latex", s)) }

// SVG publishes an SVG document.
func SVG(s string) *Handle { return show("svg", textBundle("svg", s)) }

// PNG publishes PNG-encoded image bytes.
func PNG(b []byte) *Handle { return show("png", imageBytesBundle("png", b)) }

// JPEG publishes JPEG-encoded image bytes.
func JPEG(b []byte) *Handle { return show("jpeg", imageBytesBundle("jpeg", b)) }

// JSON publishes v as application/json. A string or []byte is parsed as JSON text;
// any other value is marshalled with encoding/json.
func JSON(v any) *Handle {
	b, err := jsonBundle(v)
	if err != nil {
		b = MIMEBundle{"text/plain": err.Error()}
	}
	return show("json", b)
}

// Image publishes img as a PNG picture.
func Image(img image.Image) *Handle { return show("", imageBundle(img)) }

// Plot publishes p as a PNG picture of DefaultPlotWidth × DefaultPlotHeight with an
// SVG alternative.
func Plot(p *plot.Plot) *Handle { return show("", plotBundle(p, DefaultPlotWidth, DefaultPlotHeight)) }

// PlotSize publishes p as Plot does, at the given size.
func PlotSize(p *plot.Plot, width, height vg.Length) *Handle {
	return show("", plotBundle(p, width, height))
}

// Publish publishes a MIME bundle as it is. Include "text/plain" so that every
// frontend shows something.
func Publish(b MIMEBundle) *Handle { return show("", b) }

// Show publishes v the way it would render as the last expression of a cell: richly
// when Rich knows how, as fmt.Sprint text otherwise.
func Show(v any) *Handle {
	if b := Rich(v); b != nil {
		return show("", b)
	}
	return show("", MIMEBundle{"text/plain": fmt.Sprint(v)})
}

// Clear clears the cell's output now.
func Clear() { clearOutput(false) }

// ClearWait clears the cell's output when the next output arrives, which avoids
// flicker in animations.
func ClearWait() { clearOutput(true) }

func clearOutput(wait bool) {
	if s := currentSink(); s != nil {
		s.ClearOutput(wait)
	}
}

// DefaultPlotWidth and DefaultPlotHeight size plots shown by Plot and by the last
// expression of a cell.
var (
	DefaultPlotWidth  = 6 * vg.Inch
	DefaultPlotHeight = 4 * vg.Inch
)

// maxSVG bounds the SVG alternative of a plot: a scatter of 100k points makes an SVG
// that slows the browser more than the PNG helps.
const maxSVG = 2 << 20

func plotBundle(p *plot.Plot, w, h vg.Length) MIMEBundle {
	if p == nil {
		return MIMEBundle{"text/plain": "<nil plot>"}
	}
	out := MIMEBundle{"text/plain": fmt.Sprintf("<plot %q>", p.Title.Text)}
	if wt, err := p.WriterTo(w, h, "png"); err == nil {
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err == nil {
			out["image/png"] = buf.Bytes()
		}
	} else {
		out["text/plain"] = fmt.Sprintf("<plot: %v>", err)
	}
	if wt, err := p.WriterTo(w, h, "svg"); err == nil {
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err == nil && buf.Len() <= maxSVG {
			out["image/svg+xml"] = buf.String()
		}
	}
	return out
}

func imageBundle(img image.Image) MIMEBundle {
	if img == nil {
		return MIMEBundle{"text/plain": "<nil image>"}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return MIMEBundle{"text/plain": fmt.Sprintf("<image: %v>", err)}
	}
	r := img.Bounds()
	return MIMEBundle{"image/png": buf.Bytes(), "text/plain": fmt.Sprintf("<image %d×%d>", r.Dx(), r.Dy())}
}

// EncodeJPEG is a convenience for JPEG: it encodes img at the given quality (1–100).
func EncodeJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("display: encode JPEG: %w", err)
	}
	return buf.Bytes(), nil
}

// The interfaces a value may implement to render richly.
type (
	htmler     interface{ HTML() string }
	markdowner interface{ Markdown() string }
	pnger      interface{ PNG() []byte }
	svger      interface{ SVG() string }
	bundler    interface{ MIMEBundle() map[string]any }
	bundler2   interface{ MIMEBundle() MIMEBundle }
)

// Rich returns the rich representation of v, or nil when v has none: a MIMEBundle as
// it is; a *plot.Plot or image.Image as a picture; a value with an HTML() string,
// Markdown() string, PNG() []byte, SVG() string or MIMEBundle() map[string]any method
// through that method. A *Handle has no representation of its own. The bundle
// includes text/plain when v is a fmt.Stringer; the executor adds it otherwise.
func Rich(v any) MIMEBundle {
	var out MIMEBundle
	switch x := v.(type) {
	case nil, *Handle, *Progress:
		return nil
	case MIMEBundle:
		return x
	case *plot.Plot:
		return plotBundle(x, DefaultPlotWidth, DefaultPlotHeight)
	case image.Image:
		return imageBundle(x)
	case bundler:
		out = MIMEBundle(x.MIMEBundle())
	case bundler2:
		out = x.MIMEBundle()
	default:
		out = MIMEBundle{}
		if h, ok := v.(htmler); ok {
			out["text/html"] = h.HTML()
		}
		if m, ok := v.(markdowner); ok {
			out["text/markdown"] = m.Markdown()
		}
		if p, ok := v.(pnger); ok {
			if b := p.PNG(); len(b) > 0 {
				out["image/png"] = b
			}
		}
		if s, ok := v.(svger); ok {
			out["image/svg+xml"] = s.SVG()
		}
	}
	if len(out) == 0 {
		return nil
	}
	if _, ok := out["text/plain"]; !ok {
		if s, ok := v.(fmt.Stringer); ok {
			out["text/plain"] = s.String()
		}
	}
	return out
}
