package train

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nn"
)

// longTailed returns a random 1×8×8 dataset with the given class sizes; pixel values
// depend on the class so that the classes are learnable.
func longTailed(sizes ...int) *dataset.Dataset {
	r := rand.New(rand.NewSource(7))
	d := &dataset.Dataset{Name: "lt", C: 1, H: 8, W: 8}
	for c, n := range sizes {
		d.Classes = append(d.Classes, string(rune('a'+c)))
		for i := 0; i < n; i++ {
			for p := 0; p < 64; p++ {
				v := r.Intn(100)
				if p/16 == c%4 {
					v += 150
				}
				d.Pix = append(d.Pix, uint8(v))
			}
			d.Labels = append(d.Labels, c)
		}
	}
	return d
}

func TestLRSchedule(t *testing.T) {
	c, err := Config{Epochs: 200, WarmupEpochs: 5, LR: 0.1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Milestones[0] != 160 || c.Milestones[1] != 180 || c.DeferEpoch != 160 {
		t.Errorf("default milestones %v defer %d, want the paper's 160, 180", c.Milestones, c.DeferEpoch)
	}
	for _, x := range []struct{ epoch, want float64 }{{0.5, 0.01}, {2.5, 0.05}, {5, 0.1}, {159.9, 0.1}, {160, 0.001}, {185, 0.00001}} {
		if got := c.LRAt(x.epoch); math.Abs(got-x.want) > 1e-9 {
			t.Errorf("lr at epoch %g = %g, want %g", x.epoch, got, x.want)
		}
	}
	cos, _ := Config{Epochs: 10, Schedule: "cosine", LR: 1}.withDefaults()
	if got := cos.LRAt(5); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("cosine lr at half-time = %g, want 0.5", got)
	}
	if _, err := (Config{Method: "nope"}).withDefaults(); err == nil {
		t.Error("unknown method accepted")
	}
}

// TestDRSResamplesAfterTheSwitch checks the class frequencies the trainer's sampler
// produces before and after the deferral epoch (χ² against the expected frequencies).
func TestDRSResamplesAfterTheSwitch(t *testing.T) {
	d := longTailed(400, 200, 80, 40, 20)
	m := nn.SmallCNN(nn.Arch{Conv1: 4, Conv2: 4})
	if err := m.Init(1, 8, 8, d.Classes); err != nil {
		t.Fatal(err)
	}
	cfg, _ := Config{Method: DRS, Epochs: 4, DeferEpoch: 2, BatchSize: 16}.withDefaults()
	tr, err := newTrainer(m, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	chi2 := func(epoch int, want []float64) float64 {
		counts := make([]float64, len(want))
		n := 0
		for rep := 0; rep < 20; rep++ {
			for _, i := range tr.sampler.Epoch(epoch, tr.rng) {
				counts[d.Labels[i]]++
				n++
			}
		}
		var x float64
		for c, w := range want {
			e := w * float64(n)
			x += (counts[c] - e) * (counts[c] - e) / e
		}
		return x
	}
	natural := []float64{400.0 / 740, 200.0 / 740, 80.0 / 740, 40.0 / 740, 20.0 / 740}
	balanced := []float64{0.2, 0.2, 0.2, 0.2, 0.2}
	// 4 degrees of freedom: χ² > 18.5 has probability 0.001.
	if x := chi2(0, natural); x > 18.5 {
		t.Errorf("epoch 0 (uniform phase): χ² = %.1f against the natural frequencies", x)
	}
	if x := chi2(2, balanced); x > 18.5 {
		t.Errorf("epoch 2 (resampled phase): χ² = %.1f against uniform class frequencies", x)
	}
	if x := chi2(0, balanced); x < 100 {
		t.Errorf("epoch 0 should not be balanced (χ² = %.1f)", x)
	}
}

func TestMethodsTrain(t *testing.T) {
	d := longTailed(120, 60, 24, 12)
	for _, method := range []Method{ERM, RS, DRS, RW, DRW, LDAM, LDAMDRW, Focal} {
		m := nn.SmallCNN(nn.Arch{Conv1: 4, Conv2: 8, Seed: 1})
		res, err := Fit(context.Background(), m, d, Config{Method: method, Epochs: 4, BatchSize: 16, LR: 0.05, DeferEpoch: 2, Quiet: true, Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		h := res.History
		if len(h) != 4 {
			t.Fatalf("%s: %d epochs", method, len(h))
		}
		for _, e := range h {
			if math.IsNaN(e.Loss) {
				t.Fatalf("%s: NaN loss", method)
			}
		}
		late := h[3].Phase
		switch method {
		case DRS:
			if h[0].Phase != "uniform" || late != "balanced" {
				t.Errorf("DRS phases %q → %q", h[0].Phase, late)
			}
		case DRW, LDAMDRW:
			if h[0].Phase != "uniform" || late != "uniform+reweighted" {
				t.Errorf("%s phases %q → %q", method, h[0].Phase, late)
			}
		case RW:
			if h[0].Phase != "uniform+reweighted" {
				t.Errorf("RW phase %q", h[0].Phase)
			}
		}
		if (method == LDAM || method == LDAMDRW) && m.Arch.Head != "cosine" {
			t.Errorf("%s trained a %s head", method, m.Arch.Head)
		}
		if !strings.Contains(m.Meta["train_config"], string(method)) {
			t.Errorf("%s: checkpoint metadata %q", method, m.Meta["train_config"])
		}
	}
}

func TestGITBatches(t *testing.T) {
	d := longTailed(64, 32, 8)
	bank := &dataset.Dataset{Name: "bank", C: 1, H: 8, W: 8, Classes: d.Classes}
	for c := 0; c < 3; c++ { // generated images are all white: easy to spot
		for i := 0; i < 4; i++ {
			bank.Pix = append(bank.Pix, make([]uint8, 64)...)
			for p := len(bank.Pix) - 64; p < len(bank.Pix); p++ {
				bank.Pix[p] = 255
			}
			bank.Labels = append(bank.Labels, c)
		}
	}
	m := nn.SmallCNN(nn.Arch{Conv1: 4, Conv2: 4})
	if err := m.Init(1, 8, 8, d.Classes); err != nil {
		t.Fatal(err)
	}
	white := func(tr *trainer) (n int, perClass []int) {
		perClass = make([]int, 3)
		for j := 0; j < tr.cfg.BatchSize; j++ {
			if tr.x[j*64] == 1 && tr.x[j*64+63] == 1 {
				n++
				perClass[tr.labels[j]]++
			}
		}
		return n, perClass
	}
	cfg, _ := Config{Method: DRS, Epochs: 4, DeferEpoch: 2, BatchSize: 32, GIT: &GIT{Bank: bank}}.withDefaults()
	tr, err := newTrainer(m, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	order := tr.sampler.Epoch(0, tr.rng)
	tr.fillBatch(order, 0, 1)
	if n, _ := white(tr); n != 0 {
		t.Errorf("GIT active before its start epoch: %d generated", n)
	}
	tr.fillBatch(order, 0, 2)
	if n, _ := white(tr); n != 16 {
		t.Errorf("GIT fraction 0.5 of 32 gave %d generated images", n)
	}
	// Threshold variant: T = 40, n = (64, 32, 8): probabilities 0, 0.25, 1.
	cfg.GIT = &GIT{Bank: bank, Threshold: 40, StartEpoch: 2}
	tr, _ = newTrainer(m, d, cfg)
	if p := tr.gitProb; p[0] != 0 || math.Abs(p[1]-0.25) > 1e-12 || p[2] != 1 {
		t.Errorf("threshold probabilities %v, want [0 0.25 1]", p)
	}
	var gen, tot [3]int
	for rep := 0; rep < 200; rep++ {
		order := tr.sampler.Epoch(2, tr.rng)
		tr.fillBatch(order, 0, 2)
		_, pc := white(tr)
		for j := 0; j < 32; j++ {
			tot[tr.labels[j]]++
		}
		for c := range pc {
			gen[c] += pc[c]
		}
	}
	if gen[0] != 0 || gen[2] != tot[2] || math.Abs(float64(gen[1])/float64(tot[1])-0.25) > 0.05 {
		t.Errorf("threshold GIT generated %v of %v per class", gen, tot)
	}
}

func TestFitResNetLearns(t *testing.T) {
	d := longTailed(60, 60, 60, 60)
	m, err := nn.ResNet(nn.Arch{Depth: 8, Width: 8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Fit(context.Background(), m, d, Config{Epochs: 5, BatchSize: 32, LR: 0.05, Schedule: "cosine", Quiet: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if png, err := res.PNG(); err != nil || len(png) < 100 || !strings.Contains(res.HTML(), "<table>") {
		t.Errorf("rendering: %d PNG bytes, %v", len(png), err)
	}
	h := res.History
	if h[len(h)-1].Loss > 0.7*h[0].Loss || h[len(h)-1].Acc < 0.8 {
		t.Errorf("ResNet-8 did not learn an easy task:\n%v", res)
	}
}

// TestConfigRejectsNegatives: a negative count or rate is reported, not replaced by the
// default (Epochs: -1 used to train 30 epochs, LR: -1 at 0.1); "negative: none" for
// Momentum and WeightDecay survives a second withDefaults (a Result's Config reused).
func TestConfigRejectsNegatives(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Epochs: -1}, "Epochs = -1"},
		{Config{BatchSize: -3}, "BatchSize = -3"},
		{Config{LR: -0.1}, "LR = -0.1"},
		{Config{LR: math.NaN()}, "LR = NaN"},
		{Config{WarmupEpochs: -2}, "WarmupEpochs = -2"},
		{Config{Beta: 1.5}, "Beta = 1.5"},
		{Config{Beta: -0.5}, "Beta = -0.5"},
		{Config{Method: Focal, Gamma: -1}, "Gamma = -1"},
		{Config{MaxMargin: -0.5}, "MaxMargin = -0.5"},
		{Config{CosineScale: -30}, "CosineScale = -30"},
	} {
		if _, err := tc.c.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want one containing %q", tc.c, err, tc.want)
		}
	}
	c, err := Config{Momentum: -1, WeightDecay: -1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if nonNegative(again.Momentum) != 0 || nonNegative(again.WeightDecay) != 0 {
		t.Errorf("after a second withDefaults momentum %g, weight decay %g, want none", again.Momentum, again.WeightDecay)
	}
}

// TestFitSaysHowTheGITBankDiffers: "GIT bank images or classes differ" said neither
// what the bank held nor how to make a fitting one.
func TestFitSaysHowTheGITBankDiffers(t *testing.T) {
	d := longTailed(4, 4)
	bank := &dataset.Dataset{Name: "bank", C: 1, H: 28, W: 28, Pix: make([]uint8, 2*28*28), Labels: []int{0, 1}, Classes: []string{"a", "b"}}
	_, err := Fit(context.Background(), nn.SmallCNN(nn.Arch{}), d, Config{Epochs: 1, Quiet: true, GIT: &GIT{Bank: bank}})
	if err == nil || !strings.Contains(err.Error(), `the GIT bank "bank" has 1×28×28 images of 2 classes, the training set "lt" 1×8×8 images of 2: make the bank from this training set`) {
		t.Errorf("a bank of other images: err = %v", err)
	}
}

// TestFitSaysWhichArgumentIsMissing: "nil model or dataset" did not say which.
func TestFitSaysWhichArgumentIsMissing(t *testing.T) {
	d := longTailed(4, 4)
	empty := &dataset.Dataset{Name: "nothing", C: 1, H: 8, W: 8, Classes: []string{"a", "b"}}
	for want, call := range map[string]func() error{
		"the model is nil: build one":          func() error { _, err := Fit(context.Background(), nil, d, Config{}); return err },
		"the training set is nil":              func() error { _, err := Fit(context.Background(), nn.SmallCNN(nn.Arch{}), nil, Config{}); return err },
		`training set "nothing" has no images`: func() error { _, err := Fit(context.Background(), nn.SmallCNN(nn.Arch{}), empty, Config{}); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}
