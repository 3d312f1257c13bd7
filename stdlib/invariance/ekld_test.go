package invariance

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nn"
)

// synthetic returns k classes × n random 1×8×8 images; every image differs.
func synthetic(k, n int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	d := &dataset.Dataset{Name: "synthetic", C: 1, H: 8, W: 8}
	for c := 0; c < k; c++ {
		d.Classes = append(d.Classes, string(rune('a'+c)))
	}
	for i := 0; i < k*n; i++ {
		for j := 0; j < 64; j++ {
			d.Pix = append(d.Pix, uint8(rng.Intn(256)))
		}
		d.Labels = append(d.Labels, i%k)
	}
	return d
}

// constantModel ignores its input.
type constantModel struct{ k int }

func (m constantModel) NumClasses() int { return m.k }
func (m constantModel) Logits(_ context.Context, b dataset.Batch) ([]float32, error) {
	out := make([]float32, b.N*m.k)
	for i := 0; i < b.N; i++ {
		for c := 0; c < m.k; c++ {
			out[i*m.k+c] = float32(c) * 0.7
		}
	}
	return out, nil
}

// linear is a fixed random linear classifier: it depends on every pixel.
type linear struct {
	k     int
	w     []float32 // k × size
	calls atomic.Int32
}

func newLinear(k, size int, seed int64) *linear {
	rng := rand.New(rand.NewSource(seed))
	m := &linear{k: k, w: make([]float32, k*size)}
	for i := range m.w {
		m.w[i] = float32(rng.NormFloat64()) * 0.5
	}
	return m
}

func (m *linear) NumClasses() int { return m.k }
func (m *linear) Logits(_ context.Context, b dataset.Batch) ([]float32, error) {
	m.calls.Add(1)
	size := b.C * b.H * b.W
	out := make([]float32, b.N*m.k)
	for i := 0; i < b.N; i++ {
		x := b.X[i*size : (i+1)*size]
		for c := 0; c < m.k; c++ {
			var s float32
			for j, v := range x {
				s += m.w[c*size+j] * v
			}
			out[i*m.k+c] = s
		}
	}
	return out, nil
}

type identity struct{}

func (identity) Apply(src dataset.Image, _ *rand.Rand) dataset.Image { return src.Clone() }

// background replaces zero-valued pixels... here: adds a random offset to every pixel,
// clamped, so that the model's output really moves.
type shift struct{}

func (shift) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	out := src.Clone()
	d := rng.Intn(100)
	for i, p := range out.Pix {
		out.Pix[i] = uint8(min(255, int(p)+d))
	}
	return out
}

// plus10 is deterministic, so the test can compute the expected eKLD by hand.
type plus10 struct{}

func (plus10) Apply(src dataset.Image, _ *rand.Rand) dataset.Image {
	out := src.Clone()
	for i, p := range out.Pix {
		out.Pix[i] = uint8(min(255, int(p)+10))
	}
	return out
}

type panicky struct{}

func (panicky) Apply(dataset.Image, *rand.Rand) dataset.Image { panic("boom") }

var quiet = func(o Options) *Options { o.Quiet = true; return &o }

func TestEKLDZeroForConstantModel(t *testing.T) {
	d := synthetic(3, 30, 1)
	tab, err := EKLD(context.Background(), constantModel{3}, d, shift{}, quiet(Options{Images: 10, Transforms: 7}))
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Complete || len(tab.Rows) != 3 {
		t.Fatalf("complete %v, %d rows", tab.Complete, len(tab.Rows))
	}
	for _, r := range tab.Rows {
		if r.EKLD != 0 || r.Consistency != 1 || r.Images != 10 || r.Pairs != 70 {
			t.Errorf("class %s: eKLD %g consistency %g images %d pairs %d; want 0, 1, 10, 70", r.Name, r.EKLD, r.Consistency, r.Images, r.Pairs)
		}
	}
}

// The identity transform gives 0 only if each x is paired with transforms of the
// same x: the images of a class differ, so a mis-pairing would give a positive eKLD.
func TestEKLDZeroForIdentityTransform(t *testing.T) {
	d := synthetic(3, 30, 2)
	m := newLinear(3, 64, 3)
	tab, err := EKLD(context.Background(), m, d, identity{}, quiet(Options{Images: 12, Transforms: 5, BatchSize: 20}))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if r.EKLD != 0 || r.Consistency != 1 {
			t.Errorf("class %s: eKLD %g consistency %g, want 0 and 1", r.Name, r.EKLD, r.Consistency)
		}
		if r.Accuracy != r.CleanAccuracy {
			t.Errorf("class %s: accuracy %g differs from clean accuracy %g under the identity", r.Name, r.Accuracy, r.CleanAccuracy)
		}
	}
}

func TestEKLDPositiveOtherwise(t *testing.T) {
	d := synthetic(3, 30, 4)
	m := newLinear(3, 64, 5)
	tab, err := EKLD(context.Background(), m, d, shift{}, quiet(Options{Images: 10, Transforms: 9}))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if !(r.EKLD > 1e-6) || r.EKLDSE <= 0 {
			t.Errorf("class %s: eKLD %g ± %g, want positive", r.Name, r.EKLD, r.EKLDSE)
		}
	}
}

// With a deterministic transform the expected value is computable directly: the mean
// over the sampled images of KL(p(x) ‖ p(x+10)).
func TestEKLDMatchesDirectComputation(t *testing.T) {
	d := synthetic(2, 20, 6)
	m := newLinear(2, 64, 7)
	opts := quiet(Options{Images: 20, Transforms: 3, BatchSize: 7})
	tab, err := EKLD(context.Background(), m, d, plus10{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		var sum float64
		var n int
		for i, y := range d.Labels {
			if y != r.Class {
				continue
			}
			x := d.Batch([]int{i})
			xp := plus10{}.Apply(d.Image(i), nil)
			bp := dataset.Dataset{C: 1, H: 8, W: 8, Pix: xp.Pix, Labels: []int{y}, Classes: d.Classes}
			lx, _ := m.Logits(context.Background(), x)
			lxp, _ := m.Logits(context.Background(), bp.Batch([]int{0}))
			sum += KL(lx, lxp)
			n++
		}
		want := sum / float64(n)
		if math.Abs(r.EKLD-want) > 1e-12*math.Max(1, want) {
			t.Errorf("class %s: eKLD %.15g, direct %.15g", r.Name, r.EKLD, want)
		}
	}
}

func TestEKLDDeterministicAcrossBatchingAndWorkers(t *testing.T) {
	d := synthetic(4, 25, 8)
	m := newLinear(4, 64, 9)
	a, err := EKLD(context.Background(), m, d, shift{}, quiet(Options{Images: 9, Transforms: 6, Seed: 42, Workers: 1, BatchSize: 1}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := EKLD(context.Background(), m, d, shift{}, quiet(Options{Images: 9, Transforms: 6, Seed: 42, Workers: 3, BatchSize: 100}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := EKLD(context.Background(), m, d, shift{}, quiet(Options{Images: 9, Transforms: 6, Seed: 43}))
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range a.Rows {
		if math.Abs(a.Rows[i].EKLD-b.Rows[i].EKLD) > 1e-12 || a.Rows[i].Consistency != b.Rows[i].Consistency {
			t.Errorf("class %d: %v vs %v", i, a.Rows[i], b.Rows[i])
		}
		same = same && a.Rows[i].EKLD == c.Rows[i].EKLD
	}
	if same {
		t.Error("another seed gave the same eKLD for every class")
	}
}

type cancelAfter struct {
	*linear
	n      int32
	cancel context.CancelFunc
}

func (m *cancelAfter) Logits(ctx context.Context, b dataset.Batch) ([]float32, error) {
	out, err := m.linear.Logits(ctx, b)
	if m.calls.Load() == m.n {
		m.cancel()
	}
	return out, err
}

func TestEKLDCancelReturnsPartial(t *testing.T) {
	d := synthetic(3, 30, 10)
	ctx, cancel := context.WithCancel(context.Background())
	m := &cancelAfter{linear: newLinear(3, 64, 11), n: 2, cancel: cancel}
	// One image (1 + 4 images) per batch: two batches cover two images of class a.
	tab, err := EKLD(ctx, m, d, shift{}, quiet(Options{Images: 10, Transforms: 4, BatchSize: 5}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if tab == nil || tab.Complete {
		t.Fatalf("want a partial table, got %v", tab)
	}
	if tab.Rows[0].Images != 2 || tab.Rows[1].Images != 0 || !math.IsNaN(tab.Rows[1].EKLD) {
		t.Errorf("partial rows: %+v", tab.Rows)
	}
	if !strings.Contains(tab.String(), "INTERRUPTED") {
		t.Errorf("String does not say the table is partial:\n%s", tab)
	}
}

func TestEKLDTransformPanicIsError(t *testing.T) {
	d := synthetic(2, 10, 12)
	_, err := EKLD(context.Background(), newLinear(2, 64, 13), d, panicky{}, quiet(Options{Images: 3, Transforms: 2}))
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
}

func TestEKLDClassesAndTrainSizes(t *testing.T) {
	d := synthetic(4, 10, 14)
	tab, err := EKLD(context.Background(), newLinear(4, 64, 15), d, shift{}, quiet(Options{Images: 100, Transforms: 2, Classes: []int{3, 1}, TrainSizes: []int{5, 50, 500, 5000}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 || tab.Rows[0].Class != 3 || tab.Rows[0].TrainSize != 5000 || tab.Rows[1].TrainSize != 50 {
		t.Fatalf("rows %+v", tab.Rows)
	}
	if tab.Rows[0].Images != 10 {
		t.Errorf("class with 10 test images measured %d images", tab.Rows[0].Images)
	}
	if _, err := EKLD(context.Background(), newLinear(4, 64, 15), d, shift{}, quiet(Options{Classes: []int{7}})); err == nil {
		t.Error("class outside the classifier: no error")
	}
}

func TestKL(t *testing.T) {
	p := []float32{1, 2, 3}
	q := []float32{3, 1, 0}
	// Hand computation with probabilities.
	sm := func(v []float32) []float64 {
		var s float64
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = math.Exp(float64(x))
			s += out[i]
		}
		for i := range out {
			out[i] /= s
		}
		return out
	}
	pp, qq := sm(p), sm(q)
	var want float64
	for i := range pp {
		want += pp[i] * math.Log(pp[i]/qq[i])
	}
	if got := KL(p, q); math.Abs(got-want) > 1e-12 {
		t.Errorf("KL = %.15g, want %.15g", got, want)
	}
	if got := KL(p, p); got != 0 {
		t.Errorf("KL(p, p) = %g", got)
	}
	// Logits far apart: probabilities underflow in float64, log-softmax does not.
	if got := KL([]float32{0, 2000}, []float32{2000, 0}); math.IsInf(got, 0) || math.IsNaN(got) || math.Abs(got-2000) > 1e-9 {
		t.Errorf("KL of extreme logits = %g, want 2000", got)
	}
}

func TestEKLDSplit(t *testing.T) {
	train, test := synthetic(3, 60, 20), synthetic(3, 20, 21)
	s, err := longtail.NewSplit(train, test, longtail.Counts(50, 10, 2), longtail.Options{Seed: 3, Transform: shift{}})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := EKLDSplit(context.Background(), newLinear(3, 64, 22), s, quiet(Options{Images: 4, Transforms: 3}))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if r.TrainSize != s.Counts[r.Class] || r.Images != 4 || !(r.EKLD > 0) {
			t.Errorf("row %+v, counts %v", r, s.Counts)
		}
	}
	s.Transform = nil
	if _, err := EKLDSplit(context.Background(), newLinear(3, 64, 22), s, nil); err == nil {
		t.Error("split without transform: no error")
	}
}

// TestEKLDUninitialisedModel: a model built but not trained used to be reported as a
// classifier with "0 classes".
func TestEKLDUninitialisedModel(t *testing.T) {
	_, err := EKLD(context.Background(), nn.SmallCNN(nn.Arch{Seed: 1}), synthetic(3, 5, 1), shift{}, quiet(Options{Images: 2, Transforms: 2}))
	if err == nil || !strings.Contains(err.Error(), "not initialised") {
		t.Fatalf("err = %v, want one saying the model is not initialised", err)
	}
}

// TestEKLDBadOptions: negative counts used to mean the defaults (a 40 × 100 measurement
// where a typo asked for a small one), sizes for only some classes gave a table, and a
// Spearman ρ, over those classes alone, and a nil argument did not say which it was.
func TestEKLDBadOptions(t *testing.T) {
	d := synthetic(3, 10, 16)
	m := newLinear(3, 64, 17)
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Images: -1}, "Options.Images = -1, want ≥ 1 (0 means 40)"},
		{Options{Transforms: -2}, "Options.Transforms = -2, want ≥ 1 (0 means 100)"},
		{Options{BatchSize: -3}, "Options.BatchSize = -3"},
		{Options{Workers: -1}, "Options.Workers = -1"},
		{Options{TrainSizes: []int{5, 50}}, "TrainSizes has 2 sizes, none for class c (label 2)"},
		{Options{Classes: []int{0, 1}, TrainSizes: []int{5}}, "TrainSizes has 1 sizes, none for class b (label 1)"},
	} {
		c.opts.Quiet = true
		if _, err := EKLD(context.Background(), m, d, shift{}, &c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.opts, err, c.want)
		}
	}
	if _, err := EKLD(context.Background(), m, d, shift{}, quiet(Options{Images: 2, Transforms: 2, Classes: []int{1}, TrainSizes: []int{5, 50}})); err != nil {
		t.Errorf("sizes for the measured classes: %v", err)
	}
	if _, err := EKLD(context.Background(), m, d.Head(0), shift{}, quiet(Options{})); err == nil || !strings.Contains(err.Error(), "has no images") {
		t.Errorf("an empty test set: err = %v", err)
	}
	noB := d.Filter(func(_ dataset.Image, y int) bool { return y != 1 })
	if _, err := EKLD(context.Background(), m, noB, shift{}, quiet(Options{Images: 2, Transforms: 2})); err == nil || !strings.Contains(err.Error(), "no image of class b: measure only the classes it has with Options.Classes") {
		t.Errorf("a class without test images: err = %v", err)
	}
	for want, call := range map[string]func() error{
		"the classifier is nil": func() error { _, err := EKLD(context.Background(), nil, d, shift{}, nil); return err },
		"the test set is nil":   func() error { _, err := EKLD(context.Background(), m, nil, shift{}, nil); return err },
		"the transform is nil":  func() error { _, err := EKLD(context.Background(), m, d, nil, nil); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}
