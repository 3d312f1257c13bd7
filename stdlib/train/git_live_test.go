package train

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/munit"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// liveRecorder wraps a live MUNIT generator as GIT's transform and records every
// source and generated image, in call order.
type liveRecorder struct {
	gen  *munit.Generator
	mu   sync.Mutex
	srcs []dataset.Image
	outs []dataset.Image
}

func (r *liveRecorder) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	out := r.gen.Apply(src, rng)
	r.mu.Lock()
	r.srcs = append(r.srcs, src)
	r.outs = append(r.outs, out)
	r.mu.Unlock()
	return out
}

// tinyMNISTLT is a small MNIST-LT split (exponential, n_max 40, ρ 10: 40 … 4 images)
// with the background nuisance baked in, the pretrained generator's setting.
func tinyMNISTLT(t *testing.T) *longtail.Split {
	t.Helper()
	split, err := longtail.MNIST(longtail.Exponential(40, 10), longtail.Options{Seed: 0, Transform: nuisance.NewBackground()})
	if err != nil {
		t.Fatal(err)
	}
	return split
}

// TestGITLiveGeneratorBatches: with a live generator, from the start epoch on, the
// first half of every batch holds the generator's outputs (not their sources), labelled
// with their sources' classes, which are drawn class-balanced, so the tail classes
// get as many generated images as the head.
func TestGITLiveGeneratorBatches(t *testing.T) {
	gen, err := munit.Pretrained("background")
	if err != nil {
		t.Fatal(err)
	}
	split := tinyMNISTLT(t)
	d := split.Train
	labelOf := map[string]int{}
	for i := 0; i < d.Len(); i++ {
		labelOf[string(d.Image(i).Pix)] = d.Labels[i]
	}
	m := nn.SmallCNN(nn.Arch{Conv1: 4, Conv2: 4})
	if err := m.Init(1, 28, 28, d.Classes); err != nil {
		t.Fatal(err)
	}
	rec := &liveRecorder{gen: gen}
	cfg, _ := Config{Method: DRS, Epochs: 2, DeferEpoch: 1, BatchSize: 32, GIT: &GIT{Generator: rec}}.withDefaults()
	tr, err := newTrainer(m, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	order := tr.sampler.Epoch(0, tr.rng)
	if err := tr.fillBatch(order, 0, 0); err != nil {
		t.Fatal(err)
	}
	if len(rec.outs) != 0 {
		t.Fatalf("the generator ran %d times before GIT's start epoch", len(rec.outs))
	}
	genPerClass := make([]int, d.NumClasses())
	const batches = 20
	for b := 0; b < batches; b++ {
		rec.outs, rec.srcs = nil, nil
		order := tr.sampler.Epoch(1, tr.rng)
		if err := tr.fillBatch(order, 0, 1); err != nil {
			t.Fatal(err)
		}
		if len(rec.outs) != 16 {
			t.Fatalf("batch %d: %d generated images, want 16 (fraction 0.5 of 32)", b, len(rec.outs))
		}
		for j, out := range rec.outs {
			src := rec.srcs[j]
			c, ok := labelOf[string(src.Pix)]
			if !ok {
				t.Fatalf("batch %d position %d: the generator's source is not a training image", b, j)
			}
			if tr.labels[j] != c {
				t.Fatalf("batch %d position %d: label %d, the source's class is %d", b, j, tr.labels[j], c)
			}
			var diff float64
			for p, v := range out.Pix {
				if x := tr.x[j*784+p]; math.Abs(float64(x)-float64(v)/255) > 1e-6 {
					t.Fatalf("batch %d position %d pixel %d: batch holds %v, the generator made %v", b, j, p, x, float64(v)/255)
				}
				diff += math.Abs(float64(v) - float64(src.Pix[p]))
			}
			if diff/784 < 1 {
				t.Fatalf("batch %d position %d: the generated image equals its source (mean difference %.2f grey levels)", b, j, diff/784)
			}
			genPerClass[c]++
		}
	}
	// Class-balanced sources: every class, the three smallest included, gets about
	// 1/10 of the 320 generated images although they hold 4–6 of the 159 images.
	counts := split.Counts
	for c, n := range genPerClass {
		if n < 12 {
			t.Errorf("class %d (%d training images) got %d of %d generated images", c, counts[c], n, 16*batches)
		}
	}
	t.Logf("generated images per class %v for training counts %v", genPerClass, counts)
}

// TestGITLiveGeneratorFit: a classifier trains with a live generator end to end,
// calls it for half of every batch from the DRS switch on, and the run is
// reproducible with its seed.
func TestGITLiveGeneratorFit(t *testing.T) {
	gen, err := munit.Pretrained("background")
	if err != nil {
		t.Fatal(err)
	}
	split := tinyMNISTLT(t)
	run := func() (*Result, int) {
		m := nn.SmallCNN(nn.Arch{Conv1: 4, Conv2: 8, Seed: 2})
		rec := &liveRecorder{gen: gen}
		res, err := Fit(context.Background(), m, split.Train, Config{Method: DRS, Epochs: 3, DeferEpoch: 1, BatchSize: 32,
			Optimizer: "adam", Seed: 4, Quiet: true, GIT: &GIT{Generator: rec}})
		if err != nil {
			t.Fatal(err)
		}
		return res, len(rec.outs)
	}
	a, callsA := run()
	b, callsB := run()
	steps := (split.Train.Len() + 31) / 32
	if want := 2 * steps * 16; callsA != want || callsB != want {
		t.Fatalf("the generator ran %d and %d times, want %d (2 GIT epochs × %d steps × 16)", callsA, callsB, want, steps)
	}
	if len(a.History) != 3 || !strings.Contains(a.History[2].Phase, "GIT") || strings.Contains(a.History[0].Phase, "GIT") {
		t.Fatalf("phases %q, %q, %q: GIT should be on from epoch 1 only", a.History[0].Phase, a.History[1].Phase, a.History[2].Phase)
	}
	for e := range a.History {
		if l := a.History[e].Loss; math.IsNaN(l) || math.IsInf(l, 0) || l != b.History[e].Loss {
			t.Fatalf("epoch %d: losses %v and %v, want equal finite values for the same seed", e, l, b.History[e].Loss)
		}
	}
	pa, pb := a.Model.Params(), b.Model.Params()
	for i := range pa {
		for j, v := range pa[i].Data {
			if v != pb[i].Data[j] {
				t.Fatalf("parameter %s differs between two runs with the same seed", pa[i].Name)
			}
		}
	}
	t.Logf("losses per epoch %.4f %.4f %.4f; %d generator calls per run", a.History[0].Loss, a.History[1].Loss, a.History[2].Loss, callsA)
}
