package munit

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/display"
	"github.com/goinv/goinv/stdlib/internal/seed"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// Code is the content code of one image: an H×W×C feature map (channels last), what
// the decoder keeps of the image when the style changes.
type Code struct {
	H, W, C int
	Data    []float32
}

// String describes the code.
func (c Code) String() string { return fmt.Sprintf("munit.Code{%d×%d×%d}", c.H, c.W, c.C) }

func (g *Generator) check(img dataset.Image) {
	c := g.cfg
	if img.C != c.Channels || img.H != c.ImageSize || img.W != c.ImageSize {
		panic(fmt.Sprintf("munit: image is %d×%d×%d, the generator expects %d×%d×%d",
			img.C, img.H, img.W, c.Channels, c.ImageSize, c.ImageSize))
	}
}

func (g *Generator) checkStyle(s []float32) {
	if len(s) != g.cfg.StyleDim {
		panic(fmt.Sprintf("munit: style code has %d values, the generator's style dimension is %d", len(s), g.cfg.StyleDim))
	}
}

// Encode returns the content and style codes of img.
func (g *Generator) Encode(img dataset.Image) (Code, []float32) {
	g.check(img)
	c, s, err := g.net.encode(&g.ic, img)
	if err != nil {
		panic(err)
	}
	return c, s
}

// Decode renders a content code with a style code.
func (g *Generator) Decode(c Code, style []float32) dataset.Image {
	g.checkStyle(style)
	img, err := g.net.decodeCode(&g.ic, c, style)
	if err != nil {
		panic(err)
	}
	return img
}

// RandomStyle draws a style code from the prior N(0, I).
func (g *Generator) RandomStyle(rng *rand.Rand) []float32 {
	seed.MustRand(rng, "munit: Generator.RandomStyle")
	s := make([]float32, g.cfg.StyleDim)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// Transform returns img re-rendered with the given style code: Dec(E_c(img), style).
func (g *Generator) Transform(img dataset.Image, style []float32) dataset.Image {
	return g.TransformAll([]dataset.Image{img}, [][]float32{style})[0]
}

// TransformAll transforms many images at once (batched, faster than one by one);
// styles[i] is the style of imgs[i].
func (g *Generator) TransformAll(imgs []dataset.Image, styles [][]float32) []dataset.Image {
	if len(imgs) != len(styles) {
		panic(fmt.Sprintf("munit: %d images but %d styles", len(imgs), len(styles)))
	}
	out := make([]dataset.Image, 0, len(imgs))
	const chunk = 32 // images per inference graph run (see infer.go)
	for lo := 0; lo < len(imgs); lo += chunk {
		hi := min(lo+chunk, len(imgs))
		for _, im := range imgs[lo:hi] {
			g.check(im)
		}
		for _, st := range styles[lo:hi] {
			g.checkStyle(st)
		}
		y, err := g.net.transformValues(&g.ic, imgs[lo:hi], styles[lo:hi])
		if err != nil {
			panic(err)
		}
		c := g.cfg
		for i := 0; i < hi-lo; i++ {
			out = append(out, valuesToImage(y, i, c.Channels, c.ImageSize, c.ImageSize))
		}
	}
	return out
}

// Reconstruct returns Dec(E_c(img), E_s(img)): what the generator keeps of img.
func (g *Generator) Reconstruct(img dataset.Image) dataset.Image {
	c, s := g.Encode(img)
	return g.Decode(c, s)
}

// Apply draws a style from N(0, I) and transforms src with it: a trained Generator
// is a nuisance.Transform, so eKLD measurement and augmentation accept it (PAPER.md,
// GIT: Dec(E_c(x), s), s ~ N(0, I_8)).
func (g *Generator) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	seed.MustRand(rng, "munit: Generator.Apply")
	return g.Transform(src, g.RandomStyle(rng))
}

// VariantsGrid renders one row per image: the image, its reconstruction, then
// nStyles translations with random styles (the same styles in every row, so each
// column is one style), drawn from seed. Pixels are scaled 2× for legibility.
func (g *Generator) VariantsGrid(images []dataset.Image, nStyles int, seed int64) image.Image {
	rng := rand.New(rand.NewSource(seed))
	styles := make([][]float32, nStyles)
	for i := range styles {
		styles[i] = g.RandomStyle(rng)
	}
	rows := make([][]dataset.Image, len(images))
	for r, img := range images {
		row := []dataset.Image{img, g.Reconstruct(img)}
		ss := make([]dataset.Image, nStyles)
		for i := range ss {
			ss[i] = img
		}
		rows[r] = append(row, g.TransformAll(ss, styles)...)
	}
	return Grid(rows, 2)
}

// Grid lays out rows of images (all of one shape) on a dark-grey canvas, each pixel
// drawn scale×scale, with a 2-pixel gap; a wider gap separates the first two columns
// (real | reconstruction) from the rest.
func Grid(rows [][]dataset.Image, scale int) image.Image {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return image.NewGray(image.Rect(0, 0, 1, 1))
	}
	if scale < 1 {
		scale = 1
	}
	im0 := rows[0][0]
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	const gap, sep = 2, 6
	cw, ch := im0.W*scale, im0.H*scale
	xOf := func(c int) int {
		x := gap + c*(cw+gap)
		if c >= 2 {
			x += sep
		}
		return x
	}
	wd := xOf(cols-1) + cw + gap
	ht := gap + len(rows)*(ch+gap)
	canvas := image.NewRGBA(image.Rect(0, 0, wd, ht))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.RGBA{64, 64, 64, 255}}, image.Point{}, draw.Src)
	for r, row := range rows {
		for c, img := range row {
			x0, y0 := xOf(c), gap+r*(ch+gap)
			hw := img.H * img.W
			for y := 0; y < img.H; y++ {
				for x := 0; x < img.W; x++ {
					var col color.RGBA
					if img.C >= 3 {
						col = color.RGBA{img.Pix[y*img.W+x], img.Pix[hw+y*img.W+x], img.Pix[2*hw+y*img.W+x], 255}
					} else {
						v := img.Pix[y*img.W+x]
						col = color.RGBA{v, v, v, 255}
					}
					for dy := 0; dy < scale; dy++ {
						for dx := 0; dx < scale; dx++ {
							canvas.SetRGBA(x0+x*scale+dx, y0+y*scale+dy, col)
						}
					}
				}
			}
		}
	}
	return canvas
}

// Bank returns a dataset of generated images: for every class of ds, perClass
// translations Dec(E_c(x), s) of class members x drawn uniformly (with replacement)
// with styles s ~ N(0, I), labelled with x's class. A precomputed bank lets GIT
// augment classifier training on a CPU without running the generator every step.
// Generation is batched; ctx cancels between batches, and a progress bar shows when
// there is more than one batch (256 images).
func Bank(ctx context.Context, g *Generator, ds *dataset.Dataset, perClass int, seed int64) (*dataset.Dataset, error) {
	if g == nil {
		return nil, errNoGenerator
	}
	if ds == nil || ds.Len() == 0 {
		return nil, errors.New("munit: bank: no source images: pass the images to translate, e.g. a split's Train")
	}
	if perClass < 1 {
		// A negative count used to return an empty bank, which GIT then rejects far
		// from the mistake.
		return nil, fmt.Errorf("munit: bank: perClass = %d, want ≥ 1 generated images per class", perClass)
	}
	if ds.C != g.cfg.Channels || ds.H != g.cfg.ImageSize || ds.W != g.cfg.ImageSize {
		return nil, fmt.Errorf("munit: bank: images are %d×%d×%d, the generator expects %d×%d×%d: use a generator trained on images like these",
			ds.C, ds.H, ds.W, g.cfg.Channels, g.cfg.ImageSize, g.cfg.ImageSize)
	}
	rng := rand.New(rand.NewSource(seed))
	byClass := make([][]int, ds.NumClasses())
	for i, y := range ds.Labels {
		byClass[y] = append(byClass[y], i)
	}
	var src []int
	var labels []int
	for y, idx := range byClass {
		if len(idx) == 0 {
			continue
		}
		for k := 0; k < perClass; k++ {
			src = append(src, idx[rng.Intn(len(idx))])
			labels = append(labels, y)
		}
	}
	styles := make([][]float32, len(src))
	for i := range styles {
		styles[i] = g.RandomStyle(rng)
	}
	out := &dataset.Dataset{Name: ds.Name + "+munit-bank", C: ds.C, H: ds.H, W: ds.W,
		Pix: make([]uint8, 0, len(src)*ds.ImageSize()), Labels: labels, Classes: append([]string(nil), ds.Classes...)}
	const chunk = 256
	// A bank for GIT (hundreds of images per class) takes tens of seconds on a CPU: show
	// a progress bar when there is more than one chunk to generate.
	var bar *display.Progress
	if len(src) > chunk {
		bar = display.NewProgress("munit bank", len(src))
		defer bar.Done()
	}
	for lo := 0; lo < len(src); lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+chunk, len(src))
		imgs := make([]dataset.Image, hi-lo)
		for i := range imgs {
			imgs[i] = ds.Image(src[lo+i])
		}
		for _, im := range g.TransformAll(imgs, styles[lo:hi]) {
			out.Pix = append(out.Pix, im.Pix...)
		}
		if bar != nil {
			bar.Update(hi, "")
		}
	}
	return out, nil
}

// A Generator is a nuisance transformation.
var _ nuisance.Transform = (*Generator)(nil)
