package munit

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/goinv/goinv/stdlib/nn"
	"gorgonia.org/gorgonia"
	tensor "gorgonia.org/tensor"
)

// The networks are gorgonia graphs built from package nn's layers: reflect-padded
// convolutions (nn.Conv2dReflect), instance and layer normalisation, AdaIN as
// nn.InstanceNorm with per-image scale and shift, nearest upsampling fused into the
// next convolution (nn.UpsampleConv2dReflect), and gorgonia's Tanh,
// Abs, Square, Sub and Mean for the output and the losses. Tensors are N×C×H×W.
//
// One MUNIT iteration needs the encoders and the decoder several times, a
// discriminator update on generated images detached from the generator, and a
// generator update whose gradient flows through the (then updated, frozen)
// discriminator. That is two graphs per batch size, built once and rerun every step:
//
//   - the generator graph: x and s in, the within-domain reconstruction, the
//     translation with s, its re-encoding, the discriminator's score of the
//     translation, the four losses, and their gradient with respect to the
//     generator's parameters only (the discriminator's weights are inputs there);
//   - the discriminator graph: real and generated images in (the generated ones are
//     a copy, so no gradient reaches the generator), the LSGAN loss and its gradient
//     with respect to the discriminator's parameters.
//
// Every graph binds the same weight tensors, so an Adam step on them is seen by all.
// nn.Machine runs the generator graph in two stages within an iteration — up to the
// translation, then (after the discriminator's update) the rest — so one generator
// forward pass serves both updates, and it skips the discriminator's weight gradients
// that gorgonia.Grad builds but the generator update does not use.

// param is one learnable array with its Adam moments, in package nn's layout
// (convolutions OC×C×KH×KW, linear layers K×D, vectors C), bound as a shared value to
// the parameter's node in every graph.
type param struct {
	name  string
	shape []int // nn layout
	file  []int // checkpoint layout: convolutions Cout×kh×kw×Cin (channels last), see checkpoint.go
	conv  bool  // whether file and nn layouts differ (a k×k convolution with k > 1)
	w     []float32
	m, v  []float32
	t     *tensor.Dense // wraps w
}

type paramSet struct{ list []*param }

func (ps *paramSet) add(name string, shape, file []int, conv bool) *param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	p := &param{name: name, shape: shape, file: file, conv: conv, w: make([]float32, n), m: make([]float32, n), v: make([]float32, n)}
	p.t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(p.w))
	ps.list = append(ps.list, p)
	return p
}

func (ps *paramSet) count() int {
	n := 0
	for _, p := range ps.list {
		n += len(p.w)
	}
	return n
}

// toFile returns src (nn layout) in the checkpoint layout.
func (p *param) toFile(src []float32) []float32 {
	out := make([]float32, len(src))
	if !p.conv {
		copy(out, src)
		return out
	}
	oc, c, kh, kw := p.shape[0], p.shape[1], p.shape[2], p.shape[3]
	for o := 0; o < oc; o++ {
		for i := 0; i < c; i++ {
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					out[((o*kh+y)*kw+x)*c+i] = src[((o*c+i)*kh+y)*kw+x]
				}
			}
		}
	}
	return out
}

// fromFile copies src (checkpoint layout) into dst (nn layout).
func (p *param) fromFile(dst, src []float32) {
	if !p.conv {
		copy(dst, src)
		return
	}
	oc, c, kh, kw := p.shape[0], p.shape[1], p.shape[2], p.shape[3]
	for o := 0; o < oc; o++ {
		for i := 0; i < c; i++ {
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					dst[((o*c+i)*kh+y)*kw+x] = src[((o*kh+y)*kw+x)*c+i]
				}
			}
		}
	}
}

// conv is a convolution with bias; 1×1 convolutions on N×C vectors (the style
// encoder's output and the MLP) are linear layers.
type conv struct {
	w, b           *param
	k, stride, pad int
	reflect        bool
	linear         bool
}

// newConv adds a convolution's parameters, drawing the weights in the checkpoint
// layout from rng (Kaiming normal, or N(0, std²)) so a seed gives the same weights
// in every version of this package.
func newConv(ps *paramSet, name string, cin, cout, k, stride, pad int, reflect bool, rng *rand.Rand, std float64) *conv {
	c := &conv{k: k, stride: stride, pad: pad, reflect: reflect}
	file := []int{cout, k, k, cin}
	if k == 1 && stride == 1 && pad == 0 {
		c.linear = true
		c.w = ps.add(name+".weight", []int{cout, cin}, file, false)
	} else {
		c.w = ps.add(name+".weight", []int{cout, cin, k, k}, file, true)
	}
	c.b = ps.add(name+".bias", []int{cout}, []int{cout}, false)
	if std == 0 {
		std = math.Sqrt(2 / float64(cin*k*k)) // Kaiming normal, fan in (MUNIT's "kaiming" init)
	}
	init := make([]float32, len(c.w.w))
	for i := range init {
		init[i] = float32(rng.NormFloat64() * std)
	}
	c.w.fromFile(c.w.w, init)
	return c
}

// norm is a per-channel affine layer normalisation (MUNIT's LayerNorm).
type norm struct{ gamma, beta *param }

func newNorm(ps *paramSet, name string, c int) *norm {
	n := &norm{gamma: ps.add(name+".gamma", []int{c}, []int{c}, false), beta: ps.add(name+".beta", []int{c}, []int{c}, false)}
	for i := range n.gamma.w {
		n.gamma.w[i] = 1
	}
	return n
}

// nets holds the generator's layers: content encoder, style encoder, style MLP and
// AdaIN decoder.
type nets struct {
	cfg Config
	ps  paramSet

	cIn   *conv
	cDown []*conv
	cRes  [][2]*conv
	sIn   *conv
	sDown []*conv
	sOut  *conv
	mlp   [3]*conv
	dRes  [][2]*conv
	dUp   []*conv
	dNorm []*norm
	dOut  *conv
}

// contentChannels returns the channel count of the content code.
func (c Config) contentChannels() int { return c.Width << c.Downsample }

func (c Config) adainParams() int { return c.ResBlocks * 2 * 2 * c.contentChannels() }

// newNets builds the generator's layers for cfg (defaults filled, validated),
// initialised from cfg.Seed.
func newNets(cfg Config) *nets {
	rng := rand.New(rand.NewSource(cfg.Seed))
	g := &nets{cfg: cfg}
	ps := &g.ps
	d := cfg.Width
	g.cIn = newConv(ps, "content.in", cfg.Channels, d, 7, 1, 3, true, rng, 0)
	for i := 0; i < cfg.Downsample; i++ {
		g.cDown = append(g.cDown, newConv(ps, fmt.Sprintf("content.down%d", i), d, 2*d, 4, 2, 1, true, rng, 0))
		d *= 2
	}
	for i := 0; i < cfg.ResBlocks; i++ {
		g.cRes = append(g.cRes, [2]*conv{
			newConv(ps, fmt.Sprintf("content.res%d.conv0", i), d, d, 3, 1, 1, true, rng, 0),
			newConv(ps, fmt.Sprintf("content.res%d.conv1", i), d, d, 3, 1, 1, true, rng, 0),
		})
	}
	sd := cfg.Width
	g.sIn = newConv(ps, "style.in", cfg.Channels, sd, 7, 1, 3, true, rng, 0)
	for i := 0; i < cfg.StyleDownsample; i++ {
		next := sd
		if i < 2 {
			next = 2 * sd // MUNIT's StyleEncoder doubles twice, then keeps the width
		}
		g.sDown = append(g.sDown, newConv(ps, fmt.Sprintf("style.down%d", i), sd, next, 4, 2, 1, true, rng, 0))
		sd = next
	}
	g.sOut = newConv(ps, "style.out", sd, cfg.StyleDim, 1, 1, 0, false, rng, 0)
	g.mlp[0] = newConv(ps, "mlp.0", cfg.StyleDim, cfg.MLPWidth, 1, 1, 0, false, rng, 0)
	g.mlp[1] = newConv(ps, "mlp.1", cfg.MLPWidth, cfg.MLPWidth, 1, 1, 0, false, rng, 0)
	g.mlp[2] = newConv(ps, "mlp.2", cfg.MLPWidth, cfg.adainParams(), 1, 1, 0, false, rng, 0)
	for i := 0; i < cfg.ResBlocks; i++ {
		g.dRes = append(g.dRes, [2]*conv{
			newConv(ps, fmt.Sprintf("decoder.res%d.conv0", i), d, d, 3, 1, 1, true, rng, 0),
			newConv(ps, fmt.Sprintf("decoder.res%d.conv1", i), d, d, 3, 1, 1, true, rng, 0),
		})
	}
	for i := 0; i < cfg.Downsample; i++ {
		g.dUp = append(g.dUp, newConv(ps, fmt.Sprintf("decoder.up%d", i), d, d/2, 5, 1, 2, true, rng, 0))
		g.dNorm = append(g.dNorm, newNorm(ps, fmt.Sprintf("decoder.up%d.norm", i), d/2))
		d /= 2
	}
	g.dOut = newConv(ps, "decoder.out", d, cfg.Channels, 7, 1, 3, true, rng, 0)
	return g
}

// Discriminator is the LSGAN discriminator: stride-2 convolutions with LeakyReLU 0.2 and a
// 1×1 convolution to one score per patch.
type Discriminator struct {
	ps     paramSet
	layers []*conv
	out    *conv
}

func newDiscriminator(cfg Config, rng *rand.Rand) *Discriminator {
	d := &Discriminator{}
	w := cfg.DisWidth
	cin := cfg.Channels
	for i := 0; i < cfg.DisLayers; i++ {
		cout := w
		if i > 0 {
			cout = cin * 2
		}
		// MUNIT initialises the discriminator with N(0, 0.02) ("gaussian").
		d.layers = append(d.layers, newConv(&d.ps, fmt.Sprintf("dis.conv%d", i), cin, cout, 4, 2, 1, true, rng, 0.02))
		cin = cout
	}
	// A 1×1 convolution on a feature map (not a vector): stored as a convolution.
	d.out = newConv(&d.ps, "dis.out", cin, 1, 1, 1, 0, false, rng, 0.02)
	return d
}

// ---- graph building ----------------------------------------------------------

// builder adds layers to one graph; the first error aborts the build (panics with
// buildError, recovered by build).
type builder struct {
	g     *gorgonia.ExprGraph
	nodes map[*param]*gorgonia.Node
}

type buildError struct{ err error }

func newBuilder() *builder {
	return &builder{g: gorgonia.NewGraph(), nodes: map[*param]*gorgonia.Node{}}
}

// build runs f, turning a builder panic into an error.
func build(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			be, ok := r.(buildError)
			if !ok {
				panic(r)
			}
			err = be.err
		}
	}()
	f()
	return nil
}

func (b *builder) must(n *gorgonia.Node, err error) *gorgonia.Node {
	if err != nil {
		panic(buildError{fmt.Errorf("munit: build graph: %w", err)})
	}
	return n
}

// param returns p's node in this graph, bound to p's weights.
func (b *builder) param(p *param) *gorgonia.Node {
	if n, ok := b.nodes[p]; ok {
		return n
	}
	n := gorgonia.NewTensor(b.g, tensor.Float32, len(p.shape), gorgonia.WithShape(p.shape...),
		gorgonia.WithName(p.name), gorgonia.WithValue(p.t))
	b.nodes[p] = n
	return n
}

// input returns an input node with its own value tensor.
func (b *builder) input(name string, shape ...int) (*gorgonia.Node, []float32) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	d := make([]float32, n)
	return gorgonia.NewTensor(b.g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name),
		gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d)))), d
}

func (b *builder) scalar(v float64) *gorgonia.Node { return gorgonia.NewConstant(float32(v)) }

func (b *builder) conv(c *conv, x *gorgonia.Node) *gorgonia.Node {
	if c.linear {
		return b.must(nn.AddBias(b.must(nn.Linear(x, b.param(c.w))), b.param(c.b)))
	}
	if c.reflect && c.pad > 0 {
		return b.must(nn.Conv2dReflect(x, b.param(c.w), b.param(c.b), c.pad, c.stride))
	}
	return b.must(nn.Conv2dBias(x, b.param(c.w), b.param(c.b), c.pad, c.stride))
}

// convUp is nearest ×2 upsampling followed by the reflect-padded convolution c, in
// one op (the upsampled image is never stored).
func (b *builder) convUp(c *conv, x *gorgonia.Node) *gorgonia.Node {
	return b.must(nn.UpsampleConv2dReflect(x, b.param(c.w), b.param(c.b), 2, c.pad))
}

func (b *builder) relu(x *gorgonia.Node) *gorgonia.Node { return b.must(nn.ReLU(x)) }

func (b *builder) in(x *gorgonia.Node) *gorgonia.Node { return b.must(nn.InstanceNorm(x, nil, nil)) }

// content runs the content encoder on x (N×C×H×W in [−1, 1]).
func (b *builder) content(g *nets, x *gorgonia.Node) *gorgonia.Node {
	h := b.relu(b.in(b.conv(g.cIn, x)))
	for _, c := range g.cDown {
		h = b.relu(b.in(b.conv(c, h)))
	}
	for _, rb := range g.cRes {
		r := b.relu(b.in(b.conv(rb[0], h)))
		r = b.in(b.conv(rb[1], r))
		h = b.must(nn.Add(h, r))
	}
	return h
}

// style runs the style encoder: N×StyleDim.
func (b *builder) style(g *nets, x *gorgonia.Node) *gorgonia.Node {
	h := b.relu(b.conv(g.sIn, x))
	for _, c := range g.sDown {
		h = b.relu(b.conv(c, h))
	}
	return b.conv(g.sOut, b.must(nn.GlobalAvgPool2d(h)))
}

// decode maps a content code and a style code (N×StyleDim) to images in [−1, 1]. The
// MLP's output holds, per AdaIN layer, the shift (mean) of every channel and then the
// scale (std): MUNIT's order (assign_adain_params).
func (b *builder) decode(g *nets, c, s *gorgonia.Node) *gorgonia.Node {
	p := b.relu(b.conv(g.mlp[0], s))
	p = b.relu(b.conv(g.mlp[1], p))
	p = b.conv(g.mlp[2], p)
	ch := c.Shape()[1]
	off := 0
	adain := func(x *gorgonia.Node) *gorgonia.Node {
		beta := b.must(nn.SliceColumns(p, off, off+ch))
		gamma := b.must(nn.SliceColumns(p, off+ch, off+2*ch))
		off += 2 * ch
		return b.must(nn.InstanceNorm(x, gamma, beta))
	}
	h := c
	for _, rb := range g.dRes {
		r := b.relu(adain(b.conv(rb[0], h)))
		r = adain(b.conv(rb[1], r))
		h = b.must(nn.Add(h, r))
	}
	for i, up := range g.dUp {
		h = b.convUp(up, h)
		h = b.relu(b.must(nn.LayerNorm(h, b.param(g.dNorm[i].gamma), b.param(g.dNorm[i].beta))))
	}
	return b.must(gorgonia.Tanh(b.conv(g.dOut, h)))
}

// dis runs the discriminator: N×1×h×w scores.
func (b *builder) dis(d *Discriminator, x *gorgonia.Node) *gorgonia.Node {
	h := x
	for _, c := range d.layers {
		h = b.must(nn.LeakyReLU(b.conv(c, h), 0.2))
	}
	return b.conv(d.out, h)
}

// l1 is mean |a − b|.
func (b *builder) l1(a, c *gorgonia.Node) *gorgonia.Node {
	return b.must(gorgonia.Mean(b.must(gorgonia.Abs(b.must(gorgonia.Sub(a, c))))))
}

// mseTo is mean (a − target)², the LSGAN loss.
func (b *builder) mseTo(a *gorgonia.Node, target float64) *gorgonia.Node {
	d := a
	if target != 0 {
		d = b.must(gorgonia.Sub(a, b.scalar(target)))
	}
	return b.must(gorgonia.Mean(b.must(gorgonia.Square(d))))
}

// weighted returns Σ w_i·l_i.
func (b *builder) weighted(ls []*gorgonia.Node, ws []float64) *gorgonia.Node {
	var sum *gorgonia.Node
	for i, l := range ls {
		t := b.must(gorgonia.Mul(b.scalar(ws[i]), l))
		if sum == nil {
			sum = t
		} else {
			sum = b.must(gorgonia.Add(sum, t))
		}
	}
	return sum
}

func paramNodes(b *builder, ps *paramSet) gorgonia.Nodes {
	out := make(gorgonia.Nodes, len(ps.list))
	for i, p := range ps.list {
		out[i] = b.param(p)
	}
	return out
}

func scalarOf(m *nn.Machine, n *gorgonia.Node) float64 {
	d := m.Float32s(n)
	if len(d) == 0 {
		return math.NaN()
	}
	return float64(d[0])
}
