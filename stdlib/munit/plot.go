package munit

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Plot draws the loss curves (running means over LogEvery-sized windows of 50
// iterations) against the iteration: a notebook cell ending in hist.Plot() shows it.
func (h *History) Plot() *plot.Plot {
	p := plot.New()
	p.Title.Text = "MUNIT training"
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "loss (running mean of 50)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{}
	series := []struct {
		name string
		v    []float64
		c    color.RGBA
	}{
		{"discriminator", h.Dis, color.RGBA{120, 120, 120, 255}},
		{"adversarial", h.Adv, color.RGBA{214, 39, 40, 255}},
		{"image recon", h.Recon, color.RGBA{31, 119, 180, 255}},
		{"style recon", h.Style, color.RGBA{44, 160, 44, 255}},
		{"content recon", h.Content, color.RGBA{255, 127, 14, 255}},
	}
	const w = 50
	for _, s := range series {
		var pts plotter.XYs
		var sum float64
		for i, v := range s.v {
			sum += v
			if i >= w {
				sum -= s.v[i-w]
			}
			n := min(i+1, w)
			if (i+1)%5 == 0 || i == len(s.v)-1 {
				if m := sum / float64(n); m > 0 {
					pts = append(pts, plotter.XY{X: float64(h.Step[i]), Y: m})
				}
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		l.Color = s.c
		l.Width = 1.5
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	p.Legend.Top = true
	return p
}
