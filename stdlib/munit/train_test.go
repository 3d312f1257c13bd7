package munit

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/display"
	"github.com/goinv/goinv/stdlib/nn"
	"gorgonia.org/gorgonia"
)

// toyDigits is a small labelled set: class k is a bright bar at row 4+4k on a
// background of random intensity, so it has a class (bar position) and a nuisance
// (background).
func toyDigits(n int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	ds := &dataset.Dataset{Name: "toy", C: 1, H: 28, W: 28, Classes: []string{"0", "1", "2", "3", "4"}}
	for i := 0; i < n; i++ {
		y := i % 5
		img := dataset.NewImage(1, 28, 28)
		bg := uint8(rng.Intn(100))
		for p := range img.Pix {
			img.Pix[p] = bg
		}
		for r := 4 + 4*y; r < 7+4*y; r++ {
			for c := 4; c < 24; c++ {
				img.Set(0, r, c, 255)
			}
		}
		ds.Pix = append(ds.Pix, img.Pix...)
		ds.Labels = append(ds.Labels, y)
	}
	return ds
}

func tinyConfig() Config {
	return Config{Width: 8, ResBlocks: 1, MLPWidth: 32, StyleDim: 4, Quiet: true, Seed: 3}
}

// TestLossValues checks the L1 and LSGAN losses and their gradients (through
// gorgonia.Grad) on fixed values.
func TestLossValues(t *testing.T) {
	b := newBuilder()
	an, ad := b.input("a", 1, 4)
	bn, bd := b.input("b", 1, 4)
	copy(ad, []float32{1, -2, 0.5, 3})
	copy(bd, []float32{0, 0, 1, 3})
	l1 := b.l1(an, bn)
	mse := b.mseTo(an, 1)
	total := b.weighted([]*gorgonia.Node{l1, mse}, []float64{2, 3})
	grads, err := gorgonia.Grad(total, an, bn)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewMachine(b.g, append(gorgonia.Nodes{l1, mse}, grads...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if got := scalarOf(m, l1); math.Abs(got-(1+2+0.5+0)/4) > 1e-7 {
		t.Fatalf("l1 = %v, want 0.875", got)
	}
	if got := scalarOf(m, mse); math.Abs(got-(0+9+0.25+4)/4) > 1e-7 {
		t.Fatalf("mse = %v, want 3.3125", got)
	}
	// ∂/∂a of 2·mean|a−b| + 3·mean(a−1)²; ∂/∂b of the L1 term.
	wantA := []float32{2*0.25 + 3*2*0/4, -2*0.25 + 3*2*(-3)/4.0, -2*0.25 + 3*2*(-0.5)/4, 0 + 3*2*2/4.0}
	wantB := []float32{-0.5, 0.5, 0.5, 0}
	ga, gb := m.Float32s(grads[0]), m.Float32s(grads[1])
	for i := range wantA {
		if math.Abs(float64(ga[i]-wantA[i])) > 1e-6 || math.Abs(float64(gb[i]-wantB[i])) > 1e-6 {
			t.Fatalf("gradients a %v b %v, want %v and %v", ga, gb, wantA, wantB)
		}
	}
}

// TestIterationLosses checks that the losses an iteration reports are the ones the
// definitions give on its inputs, computed independently through the inference graphs.
func TestIterationLosses(t *testing.T) {
	ds := toyDigits(10, 1)
	cfg := tinyConfig().withDefaults()
	cfg.BatchSize = 2
	gen, _ := NewGenerator(cfg)
	tr := newTrainer(cfg, gen, newDiscriminator(cfg, rand.New(rand.NewSource(1))), 0, &History{})
	imgs := []dataset.Image{ds.Image(0), ds.Image(3)}
	// Expected reconstruction L1 before the update, on the [−1, 1] scale.
	var want float64
	for _, im := range imgs {
		_, style := gen.Encode(im)
		y, err := gen.net.transformValues(&gen.ic, []dataset.Image{im}, [][]float32{style})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range y {
			want += math.Abs(float64(v) - (float64(im.Pix[i])/127.5 - 1))
		}
	}
	want /= float64(2 * 28 * 28)
	l, err := tr.iterate(imgs, rand.New(rand.NewSource(5)))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l.recon-want) > 1e-5 {
		t.Fatalf("reconstruction loss %v, want %v", l.recon, want)
	}
	for name, v := range map[string]float64{"dis": l.dis, "adv": l.adv, "style": l.style, "content": l.content} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Fatalf("%s loss %v is not a positive number", name, v)
		}
	}
}

func TestOverfitOneBatch(t *testing.T) {
	ds := toyDigits(4, 2)
	cfg := tinyConfig()
	cfg.BatchSize = 4
	cfg.LR = 4e-3
	cfg = cfg.withDefaults()
	gen, _ := NewGenerator(cfg)
	tr := newTrainer(cfg, gen, newDiscriminator(cfg, rand.New(rand.NewSource(1))), 0, &History{})
	imgs := []dataset.Image{ds.Image(0), ds.Image(1), ds.Image(2), ds.Image(3)}
	// first: the untrained generator's loss; last: the mean over the final 10 steps.
	var first, last float64
	const steps = 200
	for i := 0; i < steps; i++ {
		l, err := tr.iterate(imgs, stepRand(1, i))
		if err != nil {
			t.Fatal(err)
		}
		tr.step++
		if i == 0 {
			first = l.recon
		}
		if i >= steps-10 {
			last += l.recon / 10
		}
	}
	t.Logf("reconstruction L1 %.4f → %.4f (%.1f×)", first, last, first/last)
	if first/last < 5 {
		t.Fatalf("reconstruction L1 fell from %.4f to %.4f, less than 5×", first, last)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	gen, err := NewGenerator(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := gen.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	img := toyDigits(1, 3).Image(0)
	style := []float32{0.5, -1, 2, 0}
	a, b := gen.Transform(img, style), back.Transform(img, style)
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			t.Fatalf("pixel %d differs after the round trip: %d vs %d", i, a.Pix[i], b.Pix[i])
		}
	}
	if gen.NumParams() != back.NumParams() || back.Config().Width != 8 {
		t.Fatalf("loaded %v, saved %v", back, gen)
	}
}

// TestResume: 12 steps straight and 6 + checkpoint + resume to 12 give the same curve.
func TestResume(t *testing.T) {
	ds := toyDigits(20, 4)
	dir := t.TempDir()
	cfg := tinyConfig()
	cfg.Steps = 12
	cfg.BatchSize = 2
	_, full, err := Train(context.Background(), ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	half := cfg
	half.Steps = 6
	half.CheckpointPath = filepath.Join(dir, "ck.safetensors")
	half.CheckpointEvery = 3
	if _, _, err := Train(context.Background(), ds, half); err != nil {
		t.Fatal(err)
	}
	res := cfg
	res.Resume = half.CheckpointPath
	_, resumed, err := Train(context.Background(), ds, res)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Len() != 12 {
		t.Fatalf("resumed history has %d steps, want 12", resumed.Len())
	}
	for i := 0; i < 12; i++ {
		if math.Abs(full.Recon[i]-resumed.Recon[i]) > 1e-6 || math.Abs(full.Dis[i]-resumed.Dis[i]) > 1e-6 {
			t.Fatalf("step %d: resumed losses recon %v dis %v, uninterrupted %v %v", i+1,
				resumed.Recon[i], resumed.Dis[i], full.Recon[i], full.Dis[i])
		}
	}
}

// stopAfter is a context whose Err reports cancellation from its k+1-th call on, as
// an Interrupt between steps k and k+1 would.
type stopAfter struct {
	context.Context
	calls, k int
}

func (c *stopAfter) Err() error {
	c.calls++
	if c.calls > c.k {
		return context.Canceled
	}
	return nil
}

// TestInterrupt: an interrupted run returns the weights of its last completed step.
func TestInterrupt(t *testing.T) {
	ds := toyDigits(10, 5)
	cfg := tinyConfig()
	cfg.Steps = 1000
	gen, h, err := Train(&stopAfter{Context: context.Background(), k: 4}, ds, cfg)
	if err == nil || gen == nil || !h.Interrupted || h.Len() != 4 {
		t.Fatalf("interrupted Train: history %v, err %v", h, err)
	}
	cfg.Steps = 4
	ref, _, err := Train(context.Background(), ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	img := ds.Image(0)
	style := []float32{1, 0, -1, 0.5}
	a, b := gen.Transform(img, style), ref.Transform(img, style)
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			t.Fatalf("interrupted generator differs from a 4-step run at pixel %d", i)
		}
	}
}

func TestTransformAndBank(t *testing.T) {
	ds := toyDigits(10, 6)
	gen, _ := NewGenerator(tinyConfig())
	bank, err := Bank(context.Background(), gen, ds, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if bank.Len() != 15 || bank.Validate() != nil {
		t.Fatalf("bank has %d images (want 15): %v", bank.Len(), bank.Validate())
	}
	for i, y := range bank.Labels {
		if y != i/3 {
			t.Fatalf("bank label %d = %d, want %d", i, y, i/3)
		}
	}
	img := ds.Image(0)
	a := gen.Apply(img, rand.New(rand.NewSource(1)))
	b := gen.Apply(img, rand.New(rand.NewSource(1)))
	c := gen.Apply(img, rand.New(rand.NewSource(2)))
	same, diff := true, false
	for i := range a.Pix {
		same = same && a.Pix[i] == b.Pix[i]
		diff = diff || a.Pix[i] != c.Pix[i]
	}
	if !same || !diff {
		t.Fatalf("Apply: same seed same image %v, other seed other image %v", same, diff)
	}
	grid := gen.VariantsGrid([]dataset.Image{img, ds.Image(1)}, 3, 1)
	if w := grid.Bounds().Dx(); w != 2+5*(56+2)+6 {
		t.Fatalf("grid width %d", w)
	}
}

// TestGeneratorNilRand checks that Apply and RandomStyle with a nil generator panic
// saying what to pass, instead of a nil pointer dereference inside math/rand.
func TestGeneratorNilRand(t *testing.T) {
	gen, err := NewGenerator(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	img := toyDigits(1, 1).Image(0)
	for name, call := range map[string]func(){
		"Generator.Apply":       func() { gen.Apply(img, nil) },
		"Generator.RandomStyle": func() { gen.RandomStyle(nil) },
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			call()
			return "no panic"
		}()
		if want := "munit: " + name + " needs a seeded *rand.Rand"; !strings.Contains(msg, want) {
			t.Errorf("%s with a nil rng: %s; want %q", name, msg, want)
		}
	}
}

// TestTrainSaysWhatToFix: a nil training set read as an empty one, and images of
// another size than the generator's did not say which setting makes them fit.
func TestTrainSaysWhatToFix(t *testing.T) {
	rgb := &dataset.Dataset{Name: "rgb", C: 3, H: 32, W: 32, Pix: make([]uint8, 2*3*32*32), Labels: []int{0, 1}, Classes: []string{"a", "b"}}
	wide := &dataset.Dataset{Name: "wide", C: 1, H: 28, W: 32, Pix: make([]uint8, 2*28*32), Labels: []int{0, 1}, Classes: []string{"a", "b"}}
	for want, ds := range map[string]*dataset.Dataset{
		"the training set is nil":               nil,
		`the training set "none" has no images`: {Name: "none", C: 1, H: 28, W: 28, Classes: []string{"a"}},
		"are 3×32×32, the generator expects 1×28×28: set Config.Channels = 3 and Config.ImageSize = 32": rgb,
		"the generator makes square images": wide,
	} {
		if _, _, err := Train(context.Background(), ds, tinyConfig()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if _, err := Bank(context.Background(), nil, rgb, 1, 1); err == nil || !strings.Contains(err.Error(), "the generator is nil: train one") {
		t.Errorf("Bank of a nil generator: err = %v", err)
	}
}

// TestLoadClassifierCheckpoint: a classifier's file given to Load failed with "no
// generator configuration in the metadata: unexpected end of JSON input".
func TestLoadClassifierCheckpoint(t *testing.T) {
	m := nn.SmallCNN(nn.Arch{Seed: 1})
	if err := m.Init(1, 8, 8, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cnn.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "not a MUNIT generator: it is a classifier checkpoint: load it with nn.Load") {
		t.Errorf("Load of a classifier: err = %v", err)
	}
}

func TestHistoryPlot(t *testing.T) {
	h := &History{}
	for i := 1; i <= 120; i++ {
		h.add(i, losses{dis: 0.5, adv: 0.3, recon: 1 / float64(i), style: 0.8, content: 0.5}, 0.01)
	}
	p := h.Plot()
	if _, err := p.WriterTo(300, 200, "png"); err != nil {
		t.Fatalf("render the loss plot: %v", err)
	}
	if s := h.String(); s == "" {
		t.Fatal("empty String")
	}
}

// recordSink remembers what is published.
type recordSink struct {
	mu      sync.Mutex
	created map[string]string // id → first MIME type seen
	updates map[string]int
}

func (s *recordSink) Display(data display.MIMEBundle, md map[string]any, id string, update bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if update {
		s.updates[id]++
		return
	}
	for k := range data {
		if k == "image/png" || s.created[id] == "" {
			s.created[id] = k
		}
	}
}
func (s *recordSink) ClearOutput(bool) {}

// TestNotebookOutput: Train shows one sample grid and updates it in place.
func TestNotebookOutput(t *testing.T) {
	s := &recordSink{created: map[string]string{}, updates: map[string]int{}}
	display.SetSink(s)
	defer display.SetSink(nil)
	cfg := tinyConfig()
	cfg.Quiet = false
	cfg.Steps = 6
	cfg.SampleEvery = 2
	if _, _, err := Train(context.Background(), toyDigits(10, 7), cfg); err != nil {
		t.Fatal(err)
	}
	images := 0
	for id, kind := range s.created {
		if kind == "image/png" {
			images++
			if s.updates[id] != 3 {
				t.Errorf("sample grid updated %d times in 6 steps every 2, want 3", s.updates[id])
			}
		}
	}
	if images != 1 || len(s.created) != 2 {
		t.Fatalf("published %v, want one progress bar and one image", s.created)
	}
}

// TestBadTrainingSettings: negative optimisation settings and bank sizes are errors
// naming the field; they used to return an untrained generator (Steps: -3), climb the
// loss (LR: -1) or give an empty bank (perClass: -1) without an error.
func TestBadTrainingSettings(t *testing.T) {
	ds := toyDigits(10, 6)
	for _, tc := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.Steps = -3 }, "Steps = -3"},
		{func(c *Config) { c.BatchSize = -2 }, "BatchSize = -2"},
		{func(c *Config) { c.LR = -1 }, "LR = -1"},
		{func(c *Config) { c.Beta2 = 1 }, "β2 = 1"},
		{func(c *Config) { c.LogEvery = -1 }, "LogEvery -1"},
	} {
		cfg := tinyConfig()
		cfg.Steps = 1
		tc.set(&cfg)
		g, _, err := Train(context.Background(), ds, cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v (generator %v), want one containing %q", err, g, tc.want)
		}
	}
	gen, err := NewGenerator(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, -1} {
		if _, err := Bank(context.Background(), gen, ds, n, 1); err == nil || !strings.Contains(err.Error(), "perClass") {
			t.Errorf("Bank(perClass %d): err = %v, want a perClass error", n, err)
		}
	}
	if _, err := Bank(context.Background(), gen, nil, 2, 1); err == nil {
		t.Error("Bank of a nil dataset: no error")
	}
}

// TestBankProgress: a bank of more than one batch shows a progress bar (it showed
// nothing for the tens of seconds a GIT bank takes); a small one stays quiet.
func TestBankProgress(t *testing.T) {
	s := &recordSink{created: map[string]string{}, updates: map[string]int{}}
	display.SetSink(s)
	defer display.SetSink(nil)
	gen, err := NewGenerator(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	ds := toyDigits(10, 6)
	if _, err := Bank(context.Background(), gen, ds, 2, 1); err != nil {
		t.Fatal(err)
	}
	if len(s.created) != 0 {
		t.Fatalf("a 10-image bank published %v", s.created)
	}
	if _, err := Bank(context.Background(), gen, ds, 60, 1); err != nil {
		t.Fatal(err)
	}
	if len(s.created) != 1 {
		t.Fatalf("a 300-image bank published %v, want one progress bar", s.created)
	}
}
