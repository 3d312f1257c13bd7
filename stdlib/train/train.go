// Package train fits the toolkit's classifiers (package nn) on a dataset with the
// methods the paper compares (PAPER.md, "Classifier training"): plain ERM,
// class-balanced resampling from the start (RS) or from the first learning-rate step
// (DRS), reweighting by the effective number of samples (RW) or from the first step
// (DRW), the LDAM loss with its cosine head (alone or with DRW), and the focal loss —
// plus the GIT augmentation hook of the generative invariance transfer.
//
// One call, Fit, trains and returns the model with its per-epoch history. Training
// uses SGD with momentum and weight decay (or Adam), a linear warm-up and a step or
// cosine learning-rate schedule. A progress bar (package display) shows epoch, loss
// and accuracy in place. Cancelling the context stops at the next step boundary: Fit
// then returns the partly trained, usable model and the history so far together with
// an error wrapping ctx.Err() (test it with errors.Is(err, context.Canceled)).
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"time"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/display"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// Method names a training method of the paper.
type Method string

// The methods. DRS and DRW switch at Config.DeferEpoch (default: the first step of the
// learning-rate schedule).
const (
	ERM     Method = "ERM"      // cross-entropy, uniform sampling
	RS      Method = "RS"       // class-balanced resampling from the start
	DRS     Method = "DRS"      // deferred resampling: uniform, then class-balanced
	RW      Method = "RW"       // effective-number reweighting from the start
	DRW     Method = "DRW"      // deferred reweighting
	LDAM    Method = "LDAM"     // label-distribution-aware margins, cosine head
	LDAMDRW Method = "LDAM-DRW" // LDAM with deferred reweighting
	Focal   Method = "Focal"    // focal loss (γ = Config.Gamma)
)

// GIT configures Generative Invariance Transfer: from StartEpoch on, part of every
// batch is replaced by generated variants of class-balanced source images, keeping the
// source's label (PAPER.md, "The generator (MUNIT) and GIT").
type GIT struct {
	// Bank holds precomputed generated images with their labels; a generated example
	// of class c is a random Bank image of class c.
	Bank *dataset.Dataset `json:"-"`
	// Generator, used when Bank is nil, makes a variant of a training image on the fly
	// (e.g. a frozen MUNIT generator wrapped as a nuisance.Transform). A transform
	// declared in a cell goes through a nuisance.Transform variable (or nuisance.Named),
	// as for Config.Sampler.
	Generator nuisance.Transform `json:"-"`
	// Fraction of each batch that is generated (default 0.5).
	Fraction float64 `json:"fraction"`
	// Threshold, if positive, selects the paper's class-size variant instead: every
	// batch position of class c is replaced by a generated image with probability
	// max((T − n_c)/(T − n_min), 0).
	Threshold int `json:"threshold,omitempty"`
	// StartEpoch is the first epoch with generated images; 0 means Config.DeferEpoch
	// (the DRS switch), as in the paper.
	StartEpoch int `json:"start_epoch,omitempty"`
}

// Config is a training configuration; the zero value trains ERM for 30 epochs with the
// paper's SGD settings and no warm-up.
type Config struct {
	Method    Method `json:"method"`
	Epochs    int    `json:"epochs"`     // default 30
	BatchSize int    `json:"batch_size"` // default 128
	Seed      int64  `json:"seed"`

	Optimizer    string  `json:"optimizer"`     // "sgd" (default) or "adam"
	LR           float64 `json:"lr"`            // default 0.1 (SGD), 0.001 (Adam)
	Momentum     float64 `json:"momentum"`      // SGD momentum, default 0.9; negative: none
	WeightDecay  float64 `json:"weight_decay"`  // default 2e-4; negative: none
	WarmupEpochs int     `json:"warmup_epochs"` // linear warm-up length (paper: 5)

	// Schedule is "step" (default), "cosine" or "constant". A step schedule multiplies
	// the base rate by Factors[i] from epoch Milestones[i] on; the defaults are the
	// paper's: milestones at 80% and 90% of the epochs, factors 0.01 and 0.0001.
	Schedule   string    `json:"schedule"`
	Milestones []int     `json:"milestones,omitempty"`
	Factors    []float64 `json:"factors,omitempty"`

	// DeferEpoch is when DRS, DRW and LDAM-DRW switch (and GIT starts); 0 means the
	// first milestone of a step schedule, or 2/3 of the epochs otherwise.
	DeferEpoch int `json:"defer_epoch,omitempty"`

	Beta        float64 `json:"beta,omitempty"`         // effective-number β, default 0.9999
	Gamma       float64 `json:"gamma,omitempty"`        // focal γ, default 1
	MaxMargin   float64 `json:"max_margin,omitempty"`   // LDAM largest margin, default 0.5
	CosineScale float64 `json:"cosine_scale,omitempty"` // LDAM logit scale s, default 30

	// Sampler, if set, replaces the method's sampler. From a notebook cell, assign a
	// sampler whose type the cell declares to a longtail.Sampler variable first and put
	// the variable here: the interpreter does not convert a value written directly in a
	// struct literal's interface field.
	Sampler longtail.Sampler `json:"-"`
	GIT     *GIT             `json:"git,omitempty"`
	// Quiet turns the progress bar off.
	Quiet bool `json:"-"`
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Method == "" {
		c.Method = ERM
	}
	switch c.Method {
	case ERM, RS, DRS, RW, DRW, LDAM, LDAMDRW, Focal:
	default:
		return c, fmt.Errorf("train: unknown method %q (want ERM, RS, DRS, RW, DRW, LDAM, LDAM-DRW or Focal)", c.Method)
	}
	// Zero fields take defaults; a negative count or rate is a mistake, not a request for
	// the default, so it is reported rather than silently replaced.
	switch {
	case c.Epochs < 0:
		return c, fmt.Errorf("train: Epochs = %d, want ≥ 1 (0 means 30)", c.Epochs)
	case c.BatchSize < 0:
		return c, fmt.Errorf("train: BatchSize = %d, want ≥ 1 (0 means 128)", c.BatchSize)
	case c.LR < 0 || math.IsNaN(c.LR) || math.IsInf(c.LR, 0):
		return c, fmt.Errorf("train: LR = %g, want a finite rate > 0 (0 means the optimizer's default)", c.LR)
	case c.WarmupEpochs < 0:
		return c, fmt.Errorf("train: WarmupEpochs = %d, want ≥ 0", c.WarmupEpochs)
	case c.Beta < 0 || c.Beta > 1 || math.IsNaN(c.Beta):
		return c, fmt.Errorf("train: Beta = %g, want the effective-number β in [0, 1] (0 means 0.9999)", c.Beta)
	case c.Gamma < 0 || math.IsNaN(c.Gamma):
		return c, fmt.Errorf("train: Gamma = %g, want the focal γ ≥ 0 (0 means 1)", c.Gamma)
	case c.MaxMargin < 0 || math.IsNaN(c.MaxMargin):
		return c, fmt.Errorf("train: MaxMargin = %g, want the LDAM margin ≥ 0 (0 means 0.5)", c.MaxMargin)
	case c.CosineScale < 0 || math.IsNaN(c.CosineScale):
		return c, fmt.Errorf("train: CosineScale = %g, want > 0 (0 means 30)", c.CosineScale)
	}
	if c.Epochs == 0 {
		c.Epochs = 30
	}
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	c.Optimizer = strings.ToLower(c.Optimizer)
	if c.Optimizer == "" {
		c.Optimizer = "sgd"
	}
	if c.Optimizer != "sgd" && c.Optimizer != "adam" {
		return c, fmt.Errorf("train: unknown optimizer %q (want sgd or adam)", c.Optimizer)
	}
	if c.LR == 0 {
		c.LR = 0.1
		if c.Optimizer == "adam" {
			c.LR = 1e-3
		}
	}
	// A negative Momentum or WeightDecay asks for none (zero already means the paper's
	// value). It stays negative here, so that a Result's Config passed to Fit again
	// trains the same way; the optimizer reads it through nonNegative.
	if c.Momentum == 0 && c.Optimizer == "sgd" {
		c.Momentum = 0.9
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = 2e-4
	}
	c.Schedule = strings.ToLower(c.Schedule)
	if c.Schedule == "" {
		c.Schedule = "step"
	}
	switch c.Schedule {
	case "step":
		if len(c.Milestones) == 0 {
			c.Milestones = []int{int(math.Round(0.8 * float64(c.Epochs))), int(math.Round(0.9 * float64(c.Epochs)))}
		}
		if len(c.Factors) == 0 {
			c.Factors = []float64{0.01, 0.0001}
		}
		if len(c.Factors) < len(c.Milestones) {
			return c, fmt.Errorf("train: %d milestones need as many factors, have %d", len(c.Milestones), len(c.Factors))
		}
	case "cosine", "constant":
	default:
		return c, fmt.Errorf("train: unknown schedule %q (want step, cosine or constant)", c.Schedule)
	}
	if c.DeferEpoch <= 0 {
		if c.Schedule == "step" && len(c.Milestones) > 0 {
			c.DeferEpoch = c.Milestones[0]
		} else {
			c.DeferEpoch = (2*c.Epochs + 2) / 3
		}
	}
	if c.Beta == 0 {
		c.Beta = 0.9999
	}
	if c.Gamma == 0 && c.Method == Focal {
		c.Gamma = 1
	}
	if c.MaxMargin == 0 {
		c.MaxMargin = 0.5
	}
	if c.CosineScale == 0 {
		c.CosineScale = 30
	}
	if c.GIT != nil {
		g := *c.GIT
		if g.Bank == nil && g.Generator == nil {
			return c, errors.New("train: GIT needs a Bank or a Generator")
		}
		if g.Fraction == 0 {
			g.Fraction = 0.5
		}
		if g.Fraction < 0 || g.Fraction > 1 {
			return c, fmt.Errorf("train: GIT fraction %g outside [0, 1]", g.Fraction)
		}
		if g.StartEpoch <= 0 {
			g.StartEpoch = c.DeferEpoch
		}
		c.GIT = &g
	}
	return c, nil
}

// LRAt returns the learning rate of the configuration at a (fractional) epoch.
func (c Config) LRAt(epoch float64) float64 {
	if c.WarmupEpochs > 0 && epoch < float64(c.WarmupEpochs) {
		return c.LR * (epoch + 1e-9) / float64(c.WarmupEpochs)
	}
	switch c.Schedule {
	case "cosine":
		t := (epoch - float64(c.WarmupEpochs)) / math.Max(1, float64(c.Epochs-c.WarmupEpochs))
		return 0.5 * c.LR * (1 + math.Cos(math.Pi*math.Min(t, 1)))
	case "step":
		lr := c.LR
		for i, m := range c.Milestones {
			if epoch >= float64(m) {
				lr = c.LR * c.Factors[i]
			}
		}
		return lr
	}
	return c.LR
}

// Epoch is one line of the training history.
type Epoch struct {
	Epoch   int     `json:"epoch"` // from 1
	Loss    float64 `json:"loss"`  // mean training loss over the epoch's steps
	Acc     float64 `json:"acc"`   // training accuracy on the (augmented) batches
	LR      float64 `json:"lr"`    // learning rate at the epoch's last step
	Seconds float64 `json:"seconds"`
	Steps   int     `json:"steps"`
	Phase   string  `json:"phase"` // e.g. "uniform", "balanced+reweighted", "…+GIT"
	Partial bool    `json:"partial,omitempty"`
}

// Result is what Fit returns: the trained model and its history.
type Result struct {
	Model       *nn.Model
	Config      Config
	History     []Epoch
	Interrupted bool
	Seconds     float64
	Images      int // training images processed
}

// ImagesPerSecond returns the training throughput.
func (r *Result) ImagesPerSecond() float64 {
	if r.Seconds == 0 {
		return 0
	}
	return float64(r.Images) / r.Seconds
}

// String summarises the run and prints the history as a table.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s trained with %s for %d epochs (batch %d, %s lr %g) in %.1fs, %.0f images/s",
		r.Model.Arch.Name, r.Config.Method, len(r.History), r.Config.BatchSize, r.Config.Optimizer, r.Config.LR,
		r.Seconds, r.ImagesPerSecond())
	if r.Interrupted {
		b.WriteString(" — interrupted")
	}
	b.WriteString("\nepoch   loss     acc      lr        sec  phase\n")
	for _, e := range r.History {
		p := ""
		if e.Partial {
			p = " (partial)"
		}
		fmt.Fprintf(&b, "%5d  %7.4f  %6.4f  %8.2g  %5.1f  %s%s\n", e.Epoch, e.Loss, e.Acc, e.LR, e.Seconds, e.Phase, p)
	}
	return b.String()
}

// progress is the one place that talks to the display package.
type progress interface {
	Update(done int, msg string)
	Done()
}

type noProgress struct{}

func (noProgress) Update(int, string) {}
func (noProgress) Done()              {}

func newProgress(quiet bool, label string, total int) progress {
	if quiet {
		return noProgress{}
	}
	return display.NewProgress(label, total)
}

// Fit trains model on trainSet with cfg and returns the result. An uninitialised model
// is initialised from the dataset's image shape and classes (LDAM switches it to the
// cosine head first). See the package documentation for interruption.
func Fit(ctx context.Context, model *nn.Model, trainSet *dataset.Dataset, cfg Config) (*Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if model == nil {
		return nil, errors.New("train: the model is nil: build one, e.g. nn.SmallCNN(nn.Arch{}) or nn.ResNet20(seed)")
	}
	if trainSet == nil {
		return nil, errors.New("train: the training set is nil: pass a dataset, e.g. a split's Train")
	}
	if err := trainSet.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if trainSet.Len() == 0 {
		return nil, fmt.Errorf("train: the training set %q has no images", trainSet.Name)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ldam := cfg.Method == LDAM || cfg.Method == LDAMDRW
	if ldam && !model.Initialized() {
		if err := model.UseCosineHead(cfg.CosineScale); err != nil {
			return nil, fmt.Errorf("train: LDAM: %w", err)
		}
	}
	if err := model.Init(trainSet.C, trainSet.H, trainSet.W, trainSet.Classes); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if ldam && model.Arch.Head != "cosine" {
		return nil, fmt.Errorf("train: LDAM needs the cosine head; %s has a %s head", model.Arch.Name, model.Arch.Head)
	}
	if ldam {
		cfg.CosineScale = model.Arch.CosineScale
	}
	if g := cfg.GIT; g != nil && g.Bank != nil {
		if g.Bank.C != trainSet.C || g.Bank.H != trainSet.H || g.Bank.W != trainSet.W || g.Bank.NumClasses() != trainSet.NumClasses() {
			return nil, fmt.Errorf("train: the GIT bank %q has %d×%d×%d images of %d classes, the training set %q %d×%d×%d images of %d: make the bank from this training set (munit.Bank(ctx, generator, trainSet, perClass, seed))",
				g.Bank.Name, g.Bank.C, g.Bank.H, g.Bank.W, g.Bank.NumClasses(), trainSet.Name, trainSet.C, trainSet.H, trainSet.W, trainSet.NumClasses())
		}
	}
	t, err := newTrainer(model, trainSet, cfg)
	if err != nil {
		return nil, err
	}
	defer t.graph.Close()
	return t.run(ctx)
}

type trainer struct {
	model    *nn.Model
	data     *dataset.Dataset
	cfg      Config
	graph    *nn.Graph
	loss     *nn.Loss
	counts   []int
	sampler  longtail.Sampler
	rng      *rand.Rand
	opt      optimizer
	weights  []float32 // effective-number class weights (RW, DRW)
	x        []float32
	labels   []int
	byClass  [][]int // training indices per class
	bankBy   [][]int // GIT bank indices per class
	gitProb  []float64
	nonEmpty []int
}

func newTrainer(m *nn.Model, d *dataset.Dataset, cfg Config) (*trainer, error) {
	t := &trainer{model: m, data: d, cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed)), loss: &nn.Loss{}}
	k := d.NumClasses()
	t.counts = make([]int, k)
	t.byClass = make([][]int, k)
	for i, y := range d.Labels {
		t.counts[y]++
		t.byClass[y] = append(t.byClass[y], i)
	}
	for c, n := range t.counts {
		if n > 0 {
			t.nonEmpty = append(t.nonEmpty, c)
		}
	}
	switch {
	case cfg.Sampler != nil:
		t.sampler = cfg.Sampler
	case cfg.Method == RS:
		t.sampler = longtail.NewClassBalanced(d.Labels)
	case cfg.Method == DRS:
		t.sampler = longtail.NewDelayed(d.Labels, cfg.DeferEpoch)
	default:
		t.sampler = longtail.NewUniform(d.Len())
	}
	w := longtail.EffectiveNumberWeights(t.counts, cfg.Beta)
	t.weights = make([]float32, k)
	for i, v := range w {
		t.weights[i] = float32(v)
	}
	if cfg.Method == LDAM || cfg.Method == LDAMDRW {
		t.loss.Margins = nn.LDAMMargins(t.counts, cfg.MaxMargin)
		for i := range t.loss.Margins {
			t.loss.Margins[i] *= float32(cfg.CosineScale)
		}
	}
	t.loss.Gamma = cfg.Gamma
	if cfg.Method != Focal {
		t.loss.Gamma = 0
	}
	if g := cfg.GIT; g != nil {
		if g.Bank != nil {
			t.bankBy = make([][]int, k)
			for i, y := range g.Bank.Labels {
				t.bankBy[y] = append(t.bankBy[y], i)
			}
		}
		if g.Threshold > 0 {
			nmin := math.MaxInt
			for _, n := range t.counts {
				if n > 0 && n < nmin {
					nmin = n
				}
			}
			t.gitProb = make([]float64, k)
			for c, n := range t.counts {
				if g.Threshold > nmin {
					t.gitProb[c] = math.Max(float64(g.Threshold-n)/float64(g.Threshold-nmin), 0)
				}
			}
		}
	}
	var err error
	if t.graph, err = m.TrainGraph(cfg.BatchSize, t.loss); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t.opt = newOptimizer(cfg, t.graph.Params())
	t.x = make([]float32, cfg.BatchSize*d.ImageSize())
	t.labels = make([]int, cfg.BatchSize)
	if js, err := json.Marshal(cfg); err == nil {
		if m.Meta == nil {
			m.Meta = map[string]string{}
		}
		m.Meta["train_config"] = string(js)
	}
	return t, nil
}

// reweighted reports whether epoch uses the class weights.
func (t *trainer) reweighted(epoch int) bool {
	switch t.cfg.Method {
	case RW:
		return true
	case DRW, LDAMDRW:
		return epoch >= t.cfg.DeferEpoch
	}
	return false
}

func (t *trainer) phase(epoch int) string {
	var parts []string
	switch {
	case t.cfg.Sampler != nil:
		parts = append(parts, "custom sampler")
	case t.cfg.Method == RS || t.cfg.Method == DRS && epoch >= t.cfg.DeferEpoch:
		parts = append(parts, "balanced")
	default:
		parts = append(parts, "uniform")
	}
	if t.reweighted(epoch) {
		parts = append(parts, "reweighted")
	}
	if t.gitActive(epoch) {
		parts = append(parts, "GIT")
	}
	return strings.Join(parts, "+")
}

func (t *trainer) gitActive(epoch int) bool { return t.cfg.GIT != nil && epoch >= t.cfg.GIT.StartEpoch }

func (t *trainer) run(ctx context.Context) (*Result, error) {
	cfg := t.cfg
	res := &Result{Model: t.model, Config: cfg}
	n := t.data.Len()
	stepsPerEpoch := (n + cfg.BatchSize - 1) / cfg.BatchSize
	total := stepsPerEpoch * cfg.Epochs
	bar := newProgress(cfg.Quiet, "train "+t.model.Arch.Name+" "+string(cfg.Method), total)
	defer bar.Done()
	start := time.Now()
	step := 0
	k := t.data.NumClasses()
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		es := time.Now()
		order := t.sampler.Epoch(epoch, t.rng)
		if len(order) == 0 {
			return res, fmt.Errorf("train: sampler returned an empty epoch %d", epoch)
		}
		// A Sampler may be written in a cell: an index outside the training set would
		// otherwise panic deep in batch assembly.
		for i, j := range order {
			if j < 0 || j >= n {
				return res, fmt.Errorf("train: sampler returned index %d at position %d of epoch %d, outside the training set's [0, %d)", j, i, epoch, n)
			}
		}
		steps := (len(order) + cfg.BatchSize - 1) / cfg.BatchSize
		if t.reweighted(epoch) {
			t.loss.ClassWeights = t.weights
		} else {
			t.loss.ClassWeights = nil
		}
		rec := Epoch{Epoch: epoch + 1, Phase: t.phase(epoch)}
		var lossSum float64
		var correct, seen int
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				res.Interrupted = true
				if rec.Steps > 0 {
					rec.Loss, rec.Acc = lossSum/float64(rec.Steps), float64(correct)/float64(seen)
					rec.Seconds, rec.Partial = time.Since(es).Seconds(), true
					res.History = append(res.History, rec)
				}
				res.Seconds = time.Since(start).Seconds()
				return res, fmt.Errorf("train: interrupted in epoch %d after %d steps: %w", epoch+1, step, err)
			}
			lr := cfg.LRAt(float64(epoch) + float64(s)/float64(steps))
			if err := t.fillBatch(order, s, epoch); err != nil {
				return res, err
			}
			t.loss.Labels = t.labels
			if err := t.graph.Run(t.x); err != nil {
				return res, fmt.Errorf("train: step %d: %w", step, err)
			}
			l := t.graph.Loss()
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
				res.Seconds = time.Since(start).Seconds()
				return res, fmt.Errorf("train: loss is %v at epoch %d step %d (lower the learning rate?)", l, epoch+1, s)
			}
			t.opt.step(t.graph.Grads(), lr)
			pred := nn.Argmax(t.graph.Logits(), k)
			for i, p := range pred {
				if p == t.labels[i] {
					correct++
				}
			}
			seen += len(pred)
			lossSum += float64(l)
			rec.Steps++
			rec.LR = lr
			step++
			res.Images += cfg.BatchSize
			bar.Update(step, fmt.Sprintf("epoch %d/%d loss %.4f acc %.3f lr %.3g", epoch+1, cfg.Epochs,
				lossSum/float64(rec.Steps), float64(correct)/float64(seen), lr))
		}
		rec.Loss, rec.Acc = lossSum/float64(rec.Steps), float64(correct)/float64(seen)
		rec.Seconds = time.Since(es).Seconds()
		res.History = append(res.History, rec)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// fillBatch writes batch s of the epoch order into t.x and t.labels. The last batch of
// an epoch is topped up with random images of the same epoch, so every step has the
// graph's fixed batch size. GIT then replaces some positions by generated images.
func (t *trainer) fillBatch(order []int, s, epoch int) error {
	b := t.cfg.BatchSize
	size := t.data.ImageSize()
	for j := 0; j < b; j++ {
		p := s*b + j
		var idx int
		if p < len(order) {
			idx = order[p]
		} else {
			idx = order[t.rng.Intn(len(order))]
		}
		t.labels[j] = t.data.Labels[idx]
		toFloat(t.x[j*size:(j+1)*size], t.data.Pix[idx*size:(idx+1)*size])
	}
	if !t.gitActive(epoch) {
		return nil
	}
	g := t.cfg.GIT
	if g.Threshold > 0 {
		for j := 0; j < b; j++ {
			c := t.labels[j]
			if t.rng.Float64() < t.gitProb[c] {
				if err := t.generate(j, c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	ng := int(math.Round(g.Fraction * float64(b)))
	for j := 0; j < ng; j++ {
		c := t.nonEmpty[t.rng.Intn(len(t.nonEmpty))]
		if err := t.generate(j, c); err != nil {
			return err
		}
	}
	return nil
}

// generate puts a generated image of class c at batch position j.
func (t *trainer) generate(j, c int) error {
	g := t.cfg.GIT
	size := t.data.ImageSize()
	dst := t.x[j*size : (j+1)*size]
	t.labels[j] = c
	if g.Bank != nil {
		ids := t.bankBy[c]
		if len(ids) == 0 {
			return fmt.Errorf("train: GIT bank has no image of class %d (%s)", c, t.data.Classes[c])
		}
		i := ids[t.rng.Intn(len(ids))]
		toFloat(dst, g.Bank.Pix[i*size:(i+1)*size])
		return nil
	}
	src := t.byClass[c]
	img := t.data.Image(src[t.rng.Intn(len(src))])
	out := g.Generator.Apply(img, t.rng)
	if len(out.Pix) != size {
		return fmt.Errorf("train: GIT generator returned a %d×%d×%d image for a %d×%d×%d input", out.C, out.H, out.W, img.C, img.H, img.W)
	}
	toFloat(dst, out.Pix)
	return nil
}

func toFloat(dst []float32, src []uint8) {
	for i, p := range src {
		dst[i] = float32(p) * (1.0 / 255)
	}
}

// optimizer updates the parameters from their gradients.
type optimizer interface {
	step(grads [][]float32, lr float64)
}

func newOptimizer(cfg Config, params []*nn.Param) optimizer {
	bufs := func() [][]float32 {
		b := make([][]float32, len(params))
		for i, p := range params {
			b[i] = make([]float32, len(p.Data))
		}
		return b
	}
	if cfg.Optimizer == "adam" {
		return &adam{params: params, m: bufs(), v: bufs(), wd: float32(nonNegative(cfg.WeightDecay)), b1: 0.9, b2: 0.999, eps: 1e-8}
	}
	return &sgd{params: params, vel: bufs(), mom: float32(nonNegative(cfg.Momentum)), wd: float32(nonNegative(cfg.WeightDecay))}
}

// sgd is PyTorch's SGD: v ← μv + (g + λw), w ← w − lr·v.
type sgd struct {
	params  []*nn.Param
	vel     [][]float32
	mom, wd float32
}

func (o *sgd) step(grads [][]float32, lr float64) {
	r := float32(lr)
	for i, p := range o.params {
		w, g, v := p.Data, grads[i], o.vel[i]
		for j := range w {
			d := g[j] + o.wd*w[j]
			v[j] = o.mom*v[j] + d
			w[j] -= r * v[j]
		}
	}
}

// adam is PyTorch's Adam with L2 weight decay added to the gradient.
type adam struct {
	params          []*nn.Param
	m, v            [][]float32
	wd, b1, b2, eps float32
	t               int
}

func (o *adam) step(grads [][]float32, lr float64) {
	o.t++
	c1 := 1 - math.Pow(float64(o.b1), float64(o.t))
	c2 := 1 - math.Pow(float64(o.b2), float64(o.t))
	a := float32(lr / c1)
	s2 := float32(1 / math.Sqrt(c2))
	for i, p := range o.params {
		w, g, m, v := p.Data, grads[i], o.m[i], o.v[i]
		for j := range w {
			d := g[j] + o.wd*w[j]
			m[j] = o.b1*m[j] + (1-o.b1)*d
			v[j] = o.b2*v[j] + (1-o.b2)*d*d
			w[j] -= a * m[j] / (float32(math.Sqrt(float64(v[j])))*s2 + o.eps)
		}
	}
}

// nonNegative returns x, or 0 for a negative x (Config's "negative: none").
func nonNegative(x float64) float64 { return math.Max(x, 0) }
