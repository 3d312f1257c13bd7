package munit

import (
	"fmt"
	"math"
	"math/rand"
)

// Config describes the networks and, for Train, the optimisation. Its zero value is
// the CPU-friendly default (width 16, 2 residual blocks, 28×28 grayscale); PaperConfig
// returns the paper's size. Zero fields take the defaults listed beside them.
type Config struct {
	// Architecture (stored in checkpoints).
	Channels        int // image channels; 1
	ImageSize       int // height and width, a multiple of 2^Downsample; 28
	Width           int // channels after the first convolution; 16 (paper 64)
	ResBlocks       int // residual blocks in the content encoder and the decoder; 2 (paper 4)
	Downsample      int // stride-2 convolutions in the content encoder (upsamplings in the decoder); 2
	StyleDownsample int // stride-2 convolutions in the style encoder; 4
	MLPWidth        int // hidden width of the style→AdaIN MLP; 256
	StyleDim        int // style code dimension; 8
	DisWidth        int // discriminator width; Width
	DisLayers       int // stride-2 convolutions in the discriminator; 4

	// Optimisation (Train only).
	Steps       int     // training iterations; 3000
	BatchSize   int     // images per iteration; 1 (the paper's value)
	LR          float64 // Adam learning rate; 1e-4
	Beta1       float64 // Adam β1; 0.5
	Beta2       float64 // Adam β2; 0.999
	WeightDecay float64 // L2 weight decay added to the gradient (torch Adam); 1e-4, negative for none
	// Loss weights (PAPER.md): zero means the paper's value, negative switches the term off.
	GANWeight     float64 // LSGAN adversarial; 1
	ReconWeight   float64 // image reconstruction L1; 10
	StyleWeight   float64 // style reconstruction L1; 1
	ContentWeight float64 // content reconstruction L1; 1
	Seed          int64   // initialisation, sampling and style draws

	// Reporting and checkpoints (Train only).
	LogEvery        int    // loss averaging window of the History; 50
	SampleEvery     int    // steps between updates of the progress bar's sample grid; 200, negative for none
	SampleImages    int    // source images in the sample grid; 4
	SampleStyles    int    // random styles per source image in the grid; 4
	CheckpointEvery int    // steps between checkpoints (with CheckpointPath); 500
	CheckpointPath  string // safetensors file rewritten at every checkpoint and at the end; "" for none
	Resume          string // checkpoint to continue from (weights, Adam state, step, history)
	Quiet           bool   // no progress bar or sample grid
}

// PaperConfig returns the paper's generator: width 64, 4 residual blocks, MLP 256,
// style dimension 8, batch 1, 10k iterations (≈15M parameters).
func PaperConfig() Config {
	return Config{Width: 64, ResBlocks: 4, MLPWidth: 256, StyleDim: 8, DisWidth: 64, BatchSize: 1, Steps: 10000}
}

func pick[T int | int64 | float64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func weight(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	c.Channels = pick(c.Channels, 1)
	c.ImageSize = pick(c.ImageSize, 28)
	c.Width = pick(c.Width, 16)
	c.ResBlocks = pick(c.ResBlocks, 2)
	c.Downsample = pick(c.Downsample, 2)
	c.StyleDownsample = pick(c.StyleDownsample, 4)
	c.MLPWidth = pick(c.MLPWidth, 256)
	c.StyleDim = pick(c.StyleDim, 8)
	c.DisWidth = pick(c.DisWidth, c.Width)
	c.DisLayers = pick(c.DisLayers, 4)
	c.Steps = pick(c.Steps, 3000)
	c.BatchSize = pick(c.BatchSize, 1)
	c.LR = pick(c.LR, 1e-4)
	c.Beta1 = pick(c.Beta1, 0.5)
	c.Beta2 = pick(c.Beta2, 0.999)
	c.WeightDecay = weight(c.WeightDecay, 1e-4)
	c.GANWeight = weight(c.GANWeight, 1)
	c.ReconWeight = weight(c.ReconWeight, 10)
	c.StyleWeight = weight(c.StyleWeight, 1)
	c.ContentWeight = weight(c.ContentWeight, 1)
	c.LogEvery = pick(c.LogEvery, 50)
	c.SampleEvery = pick(c.SampleEvery, 200)
	c.SampleImages = pick(c.SampleImages, 4)
	c.SampleStyles = pick(c.SampleStyles, 4)
	c.CheckpointEvery = pick(c.CheckpointEvery, 500)
	return c
}

func (c Config) validate() error {
	if c.Channels < 1 || c.Width < 1 || c.ResBlocks < 0 || c.Downsample < 0 || c.StyleDownsample < 0 ||
		c.MLPWidth < 1 || c.StyleDim < 1 || c.DisWidth < 1 || c.DisLayers < 1 {
		return fmt.Errorf("munit: invalid architecture %+v", c)
	}
	if c.ImageSize%(1<<c.Downsample) != 0 {
		return fmt.Errorf("munit: image size %d is not a multiple of 2^%d (the decoder upsamples the content code back by 2 per downsampling)", c.ImageSize, c.Downsample)
	}
	s := c.ImageSize
	for i := 0; i < c.StyleDownsample; i++ {
		s = (s+2-4)/2 + 1
		if s < 1 {
			return fmt.Errorf("munit: %d style downsamplings shrink a %d-pixel image below one pixel", c.StyleDownsample, c.ImageSize)
		}
	}
	s = c.ImageSize
	for i := 0; i < c.DisLayers; i++ {
		s = (s+2-4)/2 + 1
		if s < 1 {
			return fmt.Errorf("munit: %d discriminator layers shrink a %d-pixel image below one pixel", c.DisLayers, c.ImageSize)
		}
	}
	return nil
}

// param is one learnable array with its gradient and Adam moments.
type param struct {
	name  string
	shape []int // as stored: conv weights Cout×kh×kw×Cin, biases C
	w, g  []float32
	m, v  []float32
}

func (p *param) tensor(req bool) *tensor {
	t := &tensor{N: p.shape[0], H: 1, W: 1, C: len(p.w) / p.shape[0], D: p.w, req: req}
	if len(p.shape) == 1 {
		t.N, t.C = 1, len(p.w)
	}
	if req {
		t.G = p.g
	}
	return t
}

type paramSet struct{ list []*param }

func (ps *paramSet) add(name string, shape ...int) *param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	p := &param{name: name, shape: shape, w: make([]float32, n), g: make([]float32, n), m: make([]float32, n), v: make([]float32, n)}
	ps.list = append(ps.list, p)
	return p
}

func (ps *paramSet) zeroGrad() {
	for _, p := range ps.list {
		clear(p.g)
	}
}

func (ps *paramSet) count() int {
	n := 0
	for _, p := range ps.list {
		n += len(p.w)
	}
	return n
}

// conv is a convolution layer with bias.
type conv struct {
	w, b           *param
	k, stride, pad int
	reflect        bool
	cin, cout      int
}

func newConv(ps *paramSet, name string, cin, cout, k, stride, pad int, reflect bool, rng *rand.Rand, std float64) *conv {
	c := &conv{k: k, stride: stride, pad: pad, reflect: reflect, cin: cin, cout: cout}
	c.w = ps.add(name+".weight", cout, k, k, cin)
	c.b = ps.add(name+".bias", cout)
	if std == 0 {
		std = math.Sqrt(2 / float64(cin*k*k)) // Kaiming normal, fan in (MUNIT's "kaiming" init)
	}
	for i := range c.w.w {
		c.w.w[i] = float32(rng.NormFloat64() * std)
	}
	return c
}

func (c *conv) fwd(tp *tape, x *tensor, req bool) *tensor {
	return tp.conv2d(x, c.w.tensor(req), c.b.tensor(req), c.k, c.stride, c.pad, c.reflect)
}

// norm is a per-channel affine layer normalisation (MUNIT's LayerNorm).
type norm struct{ gamma, beta *param }

func newNorm(ps *paramSet, name string, c int) *norm {
	n := &norm{gamma: ps.add(name+".gamma", c), beta: ps.add(name+".beta", c)}
	for i := range n.gamma.w {
		n.gamma.w[i] = 1
	}
	return n
}

// Generator is a trained (or training) MUNIT generator: content encoder, style
// encoder, style MLP and AdaIN decoder. It is safe for concurrent use once training
// has finished.
type Generator struct {
	cfg Config
	ps  paramSet

	// content encoder
	cIn   *conv
	cDown []*conv
	cRes  [][2]*conv
	// style encoder
	sIn   *conv
	sDown []*conv
	sOut  *conv
	// style MLP
	mlp [3]*conv
	// decoder
	dRes  [][2]*conv
	dUp   []*conv
	dNorm []*norm
	dOut  *conv
}

// contentChannels returns the channel count of the content code.
func (c Config) contentChannels() int { return c.Width << c.Downsample }

func (c Config) adainParams() int { return c.ResBlocks * 2 * 2 * c.contentChannels() }

// NewGenerator returns a freshly initialised generator for cfg (zero fields take the
// defaults), seeded by cfg.Seed.
func NewGenerator(cfg Config) (*Generator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewSource(cfg.Seed))
	g := &Generator{cfg: cfg}
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
	return g, nil
}

// Config returns the generator's configuration (defaults filled in).
func (g *Generator) Config() Config { return g.cfg }

// NumParams returns the number of learnable values.
func (g *Generator) NumParams() int { return g.ps.count() }

// String describes the generator.
func (g *Generator) String() string {
	c := g.cfg
	return fmt.Sprintf("munit.Generator{%d×%d×%d images, width %d, %d res blocks, MLP %d, style dim %d, %d parameters}",
		c.Channels, c.ImageSize, c.ImageSize, c.Width, c.ResBlocks, c.MLPWidth, c.StyleDim, g.NumParams())
}

// content runs the content encoder on x (N×H×W×C in [−1, 1]).
func (g *Generator) content(tp *tape, x *tensor, req bool) *tensor {
	h := tp.relu(tp.adain(g.cIn.fwd(tp, x, req), nil, 0))
	for _, c := range g.cDown {
		h = tp.relu(tp.adain(c.fwd(tp, h, req), nil, 0))
	}
	for _, rb := range g.cRes {
		r := tp.relu(tp.adain(rb[0].fwd(tp, h, req), nil, 0))
		r = tp.adain(rb[1].fwd(tp, r, req), nil, 0)
		h = tp.add(h, r)
	}
	return h
}

// style runs the style encoder: N×1×1×StyleDim.
func (g *Generator) style(tp *tape, x *tensor, req bool) *tensor {
	h := tp.relu(g.sIn.fwd(tp, x, req))
	for _, c := range g.sDown {
		h = tp.relu(c.fwd(tp, h, req))
	}
	return g.sOut.fwd(tp, tp.avgPool(h), req)
}

// decode maps a content code and a style code (N×1×1×StyleDim) to images in [−1, 1].
func (g *Generator) decode(tp *tape, c, s *tensor, req bool) *tensor {
	p := tp.relu(g.mlp[0].fwd(tp, s, req))
	p = tp.relu(g.mlp[1].fwd(tp, p, req))
	p = g.mlp[2].fwd(tp, p, req)
	h := c
	ch := c.C
	off := 0
	for _, rb := range g.dRes {
		r := tp.relu(tp.adain(rb[0].fwd(tp, h, req), p, off))
		off += 2 * ch
		r = tp.adain(rb[1].fwd(tp, r, req), p, off)
		off += 2 * ch
		h = tp.add(h, r)
	}
	for i, up := range g.dUp {
		h = tp.upsample2(h)
		h = up.fwd(tp, h, req)
		h = tp.relu(tp.layerNorm(h, g.dNorm[i].gamma.tensor(req), g.dNorm[i].beta.tensor(req)))
	}
	return tp.tanh(g.dOut.fwd(tp, h, req))
}

// Discriminator is the LSGAN discriminator: stride-2 convolutions with LeakyReLU 0.2
// and a 1×1 convolution to one score per patch.
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
	d.out = newConv(&d.ps, "dis.out", cin, 1, 1, 1, 0, false, rng, 0.02)
	return d
}

func (d *Discriminator) fwd(tp *tape, x *tensor, req bool) *tensor {
	h := x
	for _, c := range d.layers {
		h = tp.leaky(c.fwd(tp, h, req), 0.2)
	}
	return d.out.fwd(tp, h, req)
}
