package train

import (
	"bytes"
	"fmt"
	"html"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Plot returns the training curves: loss and accuracy per epoch.
func (r *Result) Plot() *plot.Plot {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s, %s", r.Model.Arch.Name, r.Config.Method)
	p.X.Label.Text = "epoch"
	loss := make(plotter.XYs, len(r.History))
	acc := make(plotter.XYs, len(r.History))
	for i, e := range r.History {
		loss[i] = plotter.XY{X: float64(e.Epoch), Y: e.Loss}
		acc[i] = plotter.XY{X: float64(e.Epoch), Y: e.Acc}
	}
	if l, err := plotter.NewLine(loss); err == nil {
		l.Color = plotter.DefaultLineStyle.Color
		p.Add(l)
		p.Legend.Add("training loss", l)
	}
	if l, err := plotter.NewLine(acc); err == nil {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
		p.Legend.Add("training accuracy", l)
	}
	p.Add(plotter.NewGrid())
	return p
}

// PNG renders Plot as a PNG image of 5×3 inches.
func (r *Result) PNG() ([]byte, error) {
	w, err := r.Plot().WriterTo(5*vg.Inch, 3*vg.Inch, "png")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// HTML renders the summary and history as an HTML table, for notebooks.
func (r *Result) HTML() string {
	var b strings.Builder
	lines := strings.SplitN(r.String(), "\n", 2)
	fmt.Fprintf(&b, "<p>%s</p>\n<table>\n<tr><th>epoch</th><th>loss</th><th>acc</th><th>lr</th><th>seconds</th><th>phase</th></tr>\n", html.EscapeString(lines[0]))
	for _, e := range r.History {
		p := e.Phase
		if e.Partial {
			p += " (partial)"
		}
		fmt.Fprintf(&b, "<tr><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.3g</td><td>%.1f</td><td>%s</td></tr>\n",
			e.Epoch, e.Loss, e.Acc, e.LR, e.Seconds, html.EscapeString(p))
	}
	b.WriteString("</table>\n")
	return b.String()
}
