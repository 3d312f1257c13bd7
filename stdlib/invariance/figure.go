package invariance

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/goinv/goinv/stdlib/plots"
)

// Series is one curve of the paper's figure: the classes of one training method,
// pooled over instances, as (training size, eKLD) pairs.
type Series struct {
	Name      string
	TrainSize []float64
	EKLD      []float64
}

// Spearman returns Spearman's ρ of the series' training sizes and eKLD.
func (s Series) Spearman() float64 { return Spearman(s.TrainSize, s.EKLD) }

// Figure draws the paper's figure: eKLD of each class against its training size on a
// logarithmic x axis, one colour per series. Every (class, instance) is a faint point;
// a line joins the mean eKLD at each distinct size; the legend gives each series'
// pooled Spearman ρ(size, eKLD). Points with a non-positive size are left out (a log
// axis cannot show them).
func Figure(title string, series ...Series) *plots.Figure {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "training images in the class (log scale)"
	p.Y.Label.Text = "eKLD (nats)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plots.LogTicks{}
	p.Legend.Top = true
	p.Y.Min = 0
	p.Add(plotter.NewGrid())

	any := false
	for i, s := range series {
		if len(s.TrainSize) != len(s.EKLD) {
			panic(fmt.Sprintf("invariance: series %q has %d sizes and %d eKLD values", s.Name, len(s.TrainSize), len(s.EKLD)))
		}
		col := plots.Color(i)
		// Series sit side by side at a shared size so that their points stay visible.
		shift := math.Pow(1.06, float64(i)-float64(len(series)-1)/2)
		var pts plotter.XYs
		bySize := map[float64][]float64{}
		for j, n := range s.TrainSize {
			if n <= 0 || math.IsNaN(s.EKLD[j]) {
				continue
			}
			pts = append(pts, plotter.XY{X: n * shift, Y: s.EKLD[j]})
			bySize[n] = append(bySize[n], s.EKLD[j])
		}
		if len(pts) == 0 {
			continue
		}
		any = true
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			continue
		}
		sc.GlyphStyle.Color = fade(col, 0x70)
		sc.GlyphStyle.Radius = vg.Points(2.2)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)

		sizes := make([]float64, 0, len(bySize))
		for n := range bySize {
			sizes = append(sizes, n)
		}
		sort.Float64s(sizes)
		line := make(plotter.XYs, len(sizes))
		for j, n := range sizes {
			var sum float64
			for _, v := range bySize[n] {
				sum += v
			}
			line[j] = plotter.XY{X: n * shift, Y: sum / float64(len(bySize[n]))}
		}
		l, lp, err := plotter.NewLinePoints(line)
		if err != nil {
			continue
		}
		l.LineStyle.Color = col
		l.LineStyle.Width = vg.Points(1.5)
		lp.GlyphStyle.Color = col
		lp.GlyphStyle.Radius = vg.Points(3)
		lp.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(l, lp)
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("series %d", i+1)
		}
		p.Legend.Add(fmt.Sprintf("%s (Spearman ρ = %s)", name, num(s.Spearman(), "%.2f")), l, lp)
	}
	if !any {
		// An empty log axis would panic when drawn: give it a valid range.
		p.X.Min, p.X.Max = 1, 10
		p.Y.Max = 1
	}
	return plots.New(p)
}

func fade(c color.Color, alpha uint8) color.Color {
	r, g, b, _ := c.RGBA()
	// Non-premultiplied colour with the given opacity.
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), alpha}
}
