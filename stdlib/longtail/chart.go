package longtail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"

	"github.com/goinv/goinv/stdlib/dataset"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bars draws one bar per value from Base up, so a bar chart works on a log scale
// (plotter.BarChart always starts at 0, which a log axis cannot show).
type bars struct {
	values []float64
	base   float64
	color  color.Color
}

func (b bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.values {
		if v <= b.base {
			continue
		}
		x0, x1 := trX(float64(i)-0.4), trX(float64(i)+0.4)
		y0, y1 := trY(b.base), trY(v)
		c.FillPolygon(b.color, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	}
}

func (b bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = b.base, b.base
	for _, v := range b.values {
		if v > ymax {
			ymax = v
		}
	}
	return -0.5, float64(len(b.values)) - 0.5, ymin, ymax
}

// SizesPlot returns a bar chart of the given class sizes by rank. With logY the y
// axis is logarithmic (bars start at 1). Names, if given, label the bars (when there
// are at most 25 of them; ranks label them otherwise).
func SizesPlot(title string, sizes []int, names []string, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "class, by rank"
	p.Y.Label.Text = "training images"
	if len(sizes) == 0 {
		return p // an empty chart, not a panic in the bar plotter
	}
	vals := make([]float64, len(sizes))
	for i, n := range sizes {
		vals[i] = float64(n)
	}
	b := bars{values: vals, color: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}}
	if logY {
		b.base = 1
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(b)
	if len(names) == len(sizes) && len(sizes) <= 25 {
		p.NominalX(names...)
	} else {
		labels := make([]string, len(sizes))
		for i := range labels {
			if i == 0 || (i+1)%5 == 0 {
				labels[i] = fmt.Sprint(i + 1)
			}
		}
		p.NominalX(labels...)
	}
	return p
}

// Chart returns the bar chart of the split's class sizes, largest first, labelled with
// the class names; logY puts the sizes on a log scale.
func (s *Split) Chart(logY bool) *plot.Plot {
	sizes := make([]int, len(s.Order))
	names := make([]string, len(s.Order))
	for k, c := range s.Order {
		sizes[k] = s.Counts[c]
		names[k] = className(s.Train, c)
	}
	return SizesPlot(fmt.Sprintf("%s class sizes (%v, instance %d)", s.Name, s.Profile, s.Instance), sizes, names, logY)
}

// ChartPNG renders Chart(logY) as a 16×9 cm PNG.
func (s *Split) ChartPNG(logY bool) ([]byte, error) {
	w, err := s.Chart(logY).WriterTo(16*vg.Centimeter, 9*vg.Centimeter, "png")
	if err != nil {
		return nil, fmt.Errorf("longtail: render chart: %w", err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("longtail: render chart: %w", err)
	}
	return buf.Bytes(), nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Grid shows up to n stored training images of each class (nuisance baked in), one
// row per class from the largest to the smallest, labelled "rank: class (count)"
// (at most 20 rows: with more classes, an even selection of ranks).
func (s *Split) Grid(n int) image.Image {
	if n <= 0 {
		n = 8
	}
	by := s.Train.ByClass()
	ranks := make([]int, 0, len(s.Order))
	for k := range s.Order {
		ranks = append(ranks, k)
	}
	if len(ranks) > 20 {
		sel := make([]int, 20)
		for i := range sel {
			sel[i] = ranks[i*(len(ranks)-1)/19]
		}
		ranks = sel
	}
	var rows [][]dataset.Image
	var labels []string
	for _, k := range ranks {
		c := s.Order[k]
		g := by[c]
		if len(g) > n {
			g = g[:n]
		}
		rows = append(rows, s.Train.Images(g))
		labels = append(labels, fmt.Sprintf("%d: %s (%d)", k+1, className(s.Train, c), s.Counts[c]))
	}
	return dataset.GridRows(rows, dataset.GridOptions{RowLabels: labels})
}
