package munit

import (
	"fmt"
	"math"
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

// validateTraining checks the optimisation fields after withDefaults: zero took the
// default there, so what is left non-positive was set so by mistake (Steps: -3 used
// to return an untrained generator and no error, LR: -1 to climb the loss).
func (c Config) validateTraining() error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("munit: Steps = %d, want ≥ 1 (0 means 3000)", c.Steps)
	case c.BatchSize < 1:
		return fmt.Errorf("munit: BatchSize = %d, want ≥ 1 (0 means 1)", c.BatchSize)
	case !(c.LR > 0) || math.IsInf(c.LR, 1):
		return fmt.Errorf("munit: LR = %g, want a finite rate > 0 (0 means 1e-4)", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("munit: Adam β1 = %g, β2 = %g, want each in [0, 1) (0 means 0.5 and 0.999)", c.Beta1, c.Beta2)
	case c.LogEvery < 1 || c.SampleImages < 1 || c.SampleStyles < 1 || c.CheckpointEvery < 1:
		return fmt.Errorf("munit: LogEvery %d, SampleImages %d, SampleStyles %d, CheckpointEvery %d: want each ≥ 1 (0 takes the default)",
			c.LogEvery, c.SampleImages, c.SampleStyles, c.CheckpointEvery)
	}
	return nil
}

// Generator is a trained (or training) MUNIT generator: content encoder, style
// encoder, style MLP and AdaIN decoder (graph.go). It is safe for concurrent use once
// training has finished.
type Generator struct {
	cfg Config
	net *nets
	ic  inferCache
}

// NewGenerator returns a freshly initialised generator for cfg (zero fields take the
// defaults), seeded by cfg.Seed.
func NewGenerator(cfg Config) (*Generator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Generator{cfg: cfg, net: newNets(cfg)}, nil
}

// Config returns the generator's configuration (defaults filled in).
func (g *Generator) Config() Config { return g.cfg }

// NumParams returns the number of learnable values.
func (g *Generator) NumParams() int { return g.net.ps.count() }

// String describes the generator.
func (g *Generator) String() string {
	c := g.cfg
	return fmt.Sprintf("munit.Generator{%d×%d×%d images, width %d, %d res blocks, MLP %d, style dim %d, %d parameters}",
		c.Channels, c.ImageSize, c.ImageSize, c.Width, c.ResBlocks, c.MLPWidth, c.StyleDim, g.NumParams())
}
