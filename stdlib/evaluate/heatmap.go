package evaluate

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/goinv/goinv/stdlib/plots"
)

// heatRGB maps v in [0, 1] to a white → dark-blue ramp, the usual look of a
// confusion matrix (sequential, readable in grey scale).
func heatRGB(v float64) (r, g, b uint8) {
	v = max(0, min(1, v))
	lerp := func(a, b float64) uint8 { return uint8(a + (b-a)*v + 0.5) }
	return lerp(255, 8), lerp(255, 48), lerp(255, 107)
}

type bluePalette int

func (n bluePalette) Colors() []color.Color {
	out := make([]color.Color, int(n))
	for i := range out {
		r, g, b := heatRGB(float64(i) / float64(int(n)-1))
		out[i] = color.RGBA{r, g, b, 255}
	}
	return out
}

// confusionGrid presents the row-normalized matrix to plotter.HeatMap with true
// class 0 at the top, as confusion matrices are read.
type confusionGrid struct{ norm [][]float64 }

func (g confusionGrid) Dims() (c, r int)   { return len(g.norm), len(g.norm) }
func (g confusionGrid) Z(c, r int) float64 { return g.norm[len(g.norm)-1-r][c] }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }
func (g confusionGrid) Min() float64       { return 0 }
func (g confusionGrid) Max() float64       { return 1 }

// Figure draws the confusion matrix as a heatmap: colour is the row-normalized rate
// (each row sums to 1, so small classes are as visible as large ones), and each cell
// is annotated with its count.
func (c *Confusion) Figure() *plots.Figure {
	k := c.K()
	norm := c.Normalized()
	p := plot.New()
	p.Title.Text = "Confusion matrix (row-normalized)"
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	hm := plotter.NewHeatMap(confusionGrid{norm}, bluePalette(256))
	p.Add(hm)

	var xticks, yticks []plot.Tick
	for i := 0; i < k; i++ {
		xticks = append(xticks, plot.Tick{Value: float64(i), Label: className(c.Classes, i)})
		yticks = append(yticks, plot.Tick{Value: float64(k - 1 - i), Label: className(c.Classes, i)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xticks)
	p.Y.Tick.Marker = plot.ConstantTicks(yticks)

	// Counts on the cells, white on dark cells. Beyond ~25 classes the numbers no
	// longer fit and only the colours are drawn.
	if k <= 25 {
		xys := make(plotter.XYs, 0, k*k)
		texts := make([]string, 0, k*k)
		for t := 0; t < k; t++ {
			for q := 0; q < k; q++ {
				xys = append(xys, plotter.XY{X: float64(q), Y: float64(k - 1 - t)})
				texts = append(texts, fmt.Sprint(c.Counts[t][q]))
			}
		}
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
		if err == nil {
			size := vg.Points(9)
			if k > 12 {
				size = vg.Points(6)
			}
			for i := range labels.TextStyle {
				t, q := i/k, i%k
				labels.TextStyle[i].Font.Size = size
				labels.TextStyle[i].XAlign = -0.5
				labels.TextStyle[i].YAlign = -0.5
				if norm[t][q] > 0.55 {
					labels.TextStyle[i].Color = color.White
				} else {
					labels.TextStyle[i].Color = color.Black
				}
			}
			p.Add(labels)
		}
	}
	side := vg.Length(4+0.35*float64(k)) * vg.Inch
	side = min(side, 10*vg.Inch)
	return &plots.Figure{Plot: p, Width: side + 0.5*vg.Inch, Height: side}
}
