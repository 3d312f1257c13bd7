package munit

import (
	"fmt"
	"math"
	"sync"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nn"
	"gorgonia.org/gorgonia"
)

// Inference graphs (no gradients) for encoding, decoding and translating, built per
// kind and batch size on first use and kept: batch sizes are rounded up to a power
// of two (padding the batch with copies of its last image, which changes nothing
// else: every layer works per image), so a generator holds at most a few small
// graphs and one large one (≈ 60 MB for 32 images).
// Graphs are taken from a free list for the duration of one call, so concurrent
// callers each get their own.

type inferKind int

const (
	inferTransform inferKind = iota // x, s → Dec(E_c(x), s)
	inferEncode                     // x → E_c(x), E_s(x)
	inferDecode                     // c, s → Dec(c, s)
)

type inferKey struct {
	kind inferKind
	n    int
}

// inferGraph is one inference graph with its input values and outputs.
type inferGraph struct {
	m        *nn.Machine
	x, c, s  []float32 // inputs (those the kind uses)
	y, cOut  *gorgonia.Node
	sOut     *gorgonia.Node
	cShape   []int // content code shape, C×H×W
	inferKey inferKey
}

type inferCache struct {
	mu   sync.Mutex
	free map[inferKey][]*inferGraph
}

func (ic *inferCache) get(g *nets, kind inferKind, n int) (*inferGraph, error) {
	size := 1
	for size < n {
		size *= 2
	}
	key := inferKey{kind, size}
	ic.mu.Lock()
	if l := ic.free[key]; len(l) > 0 {
		ig := l[len(l)-1]
		ic.free[key] = l[:len(l)-1]
		ic.mu.Unlock()
		return ig, nil
	}
	ic.mu.Unlock()
	return g.newInferGraph(key)
}

// keepLarge is the largest batch size whose graphs the cache keeps any number of;
// of the larger ones (tens of MB each: every activation of the batch) it keeps one.
const keepLarge = 8

func (ic *inferCache) put(ig *inferGraph) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.free == nil {
		ic.free = map[inferKey][]*inferGraph{}
	}
	if ig.inferKey.n > keepLarge {
		for k, l := range ic.free {
			if k.n > keepLarge && len(l) > 0 {
				delete(ic.free, k) // keep the most recent large graph only
			}
		}
	}
	ic.free[ig.inferKey] = append(ic.free[ig.inferKey], ig)
}

// codeShape returns the content code's C×H×W.
func (c Config) codeShape() []int {
	s := c.ImageSize >> c.Downsample
	return []int{c.contentChannels(), s, s}
}

func (g *nets) newInferGraph(key inferKey) (*inferGraph, error) {
	c := g.cfg
	n := key.n
	ig := &inferGraph{inferKey: key, cShape: c.codeShape()}
	err := build(func() {
		b := newBuilder()
		var x, cn, s *gorgonia.Node
		var outs gorgonia.Nodes
		switch key.kind {
		case inferTransform:
			x, ig.x = b.input("x", n, c.Channels, c.ImageSize, c.ImageSize)
			s, ig.s = b.input("s", n, c.StyleDim)
			ig.y = b.decode(g, b.content(g, x), s)
			outs = gorgonia.Nodes{ig.y}
		case inferEncode:
			x, ig.x = b.input("x", n, c.Channels, c.ImageSize, c.ImageSize)
			ig.cOut = b.content(g, x)
			ig.sOut = b.style(g, x)
			outs = gorgonia.Nodes{ig.cOut, ig.sOut}
		case inferDecode:
			cs := ig.cShape
			cn, ig.c = b.input("c", n, cs[0], cs[1], cs[2])
			s, ig.s = b.input("s", n, c.StyleDim)
			ig.y = b.decode(g, cn, s)
			outs = gorgonia.Nodes{ig.y}
		}
		var err error
		if ig.m, err = nn.NewMachine(b.g, outs...); err != nil {
			b.must(nil, err)
		}
	})
	if err != nil {
		return nil, err
	}
	return ig, nil
}

// fillBatch writes imgs into x (N×C×H×W in [−1, 1]), repeating the last image
// into the padding.
func fillBatch(x []float32, imgs []dataset.Image) {
	fillInput(x, imgs)
	sz := len(imgs[0].Pix)
	last := x[(len(imgs)-1)*sz : len(imgs)*sz]
	for o := len(imgs) * sz; o < len(x); o += sz {
		copy(x[o:o+sz], last)
	}
}

// valuesToImage converts image i of N×C×H×W values in [−1, 1] to 8-bit pixels.
func valuesToImage(y []float32, i, c, h, w int) dataset.Image {
	img := dataset.NewImage(c, h, w)
	for j, f := range y[i*len(img.Pix) : (i+1)*len(img.Pix)] {
		v := math.Round((float64(f) + 1) * 127.5)
		img.Pix[j] = uint8(math.Max(0, math.Min(255, v)))
	}
	return img
}

// transform returns Dec(E_c(imgs[i]), styles[i]) as values in [−1, 1] (a copy).
func (g *nets) transformValues(ic *inferCache, imgs []dataset.Image, styles [][]float32) ([]float32, error) {
	ig, err := ic.get(g, inferTransform, len(imgs))
	if err != nil {
		return nil, err
	}
	defer ic.put(ig)
	fillBatch(ig.x, imgs)
	d := g.cfg.StyleDim
	for i := 0; i < ig.inferKey.n; i++ {
		copy(ig.s[i*d:(i+1)*d], styles[min(i, len(styles)-1)])
	}
	if err := ig.m.Run(); err != nil {
		return nil, err
	}
	sz := len(imgs[0].Pix)
	return append([]float32(nil), ig.m.Float32s(ig.y)[:len(imgs)*sz]...), nil
}

// encode returns the content code (channels last, as Code documents) and the style
// code of img.
func (g *nets) encode(ic *inferCache, img dataset.Image) (Code, []float32, error) {
	ig, err := ic.get(g, inferEncode, 1)
	if err != nil {
		return Code{}, nil, err
	}
	defer ic.put(ig)
	fillBatch(ig.x, []dataset.Image{img})
	if err := ig.m.Run(); err != nil {
		return Code{}, nil, err
	}
	cs := ig.cShape
	code := Code{C: cs[0], H: cs[1], W: cs[2], Data: make([]float32, cs[0]*cs[1]*cs[2])}
	chw := ig.m.Float32s(ig.cOut)
	hw := cs[1] * cs[2]
	for c := 0; c < cs[0]; c++ {
		for i := 0; i < hw; i++ {
			code.Data[i*cs[0]+c] = chw[c*hw+i]
		}
	}
	return code, append([]float32(nil), ig.m.Float32s(ig.sOut)[:g.cfg.StyleDim]...), nil
}

// decodeCode renders a content code (channels last) with a style code.
func (g *nets) decodeCode(ic *inferCache, code Code, style []float32) (dataset.Image, error) {
	cs := g.cfg.codeShape()
	if code.C != cs[0] || code.H != cs[1] || code.W != cs[2] || len(code.Data) != cs[0]*cs[1]*cs[2] {
		return dataset.Image{}, fmt.Errorf("munit: content code is %v, the generator's are %d×%d×%d", code, cs[1], cs[2], cs[0])
	}
	ig, err := ic.get(g, inferDecode, 1)
	if err != nil {
		return dataset.Image{}, err
	}
	defer ic.put(ig)
	hw := cs[1] * cs[2]
	for c := 0; c < cs[0]; c++ {
		for i := 0; i < hw; i++ {
			ig.c[c*hw+i] = code.Data[i*cs[0]+c]
		}
	}
	copy(ig.s, style)
	if err := ig.m.Run(); err != nil {
		return dataset.Image{}, err
	}
	c := g.cfg
	return valuesToImage(ig.m.Float32s(ig.y), 0, c.Channels, c.ImageSize, c.ImageSize), nil
}
