package evaluate

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nn"
)

// oracle reads the class from the first pixel (pixel value = 10·class) and is wrong
// on purpose for images whose second pixel is 255, which it assigns to class 0.
type oracle struct {
	k     int
	calls int
	stop  func()
}

func (m *oracle) NumClasses() int { return m.k }
func (m *oracle) Logits(_ context.Context, b dataset.Batch) ([]float32, error) {
	m.calls++
	if m.stop != nil && m.calls == 2 {
		m.stop()
	}
	size := b.C * b.H * b.W
	out := make([]float32, b.N*m.k)
	for i := 0; i < b.N; i++ {
		x := b.X[i*size:]
		c := int(x[0]*255/10 + 0.5)
		if x[1] == 1 {
			c = 0
		}
		out[i*m.k+c] = 5
	}
	return out, nil
}

// data: class 0 × 4 images (all right), class 1 × 2 (one wrong), class 2 × 4 (two wrong).
func data() *dataset.Dataset {
	d := &dataset.Dataset{Name: "t", C: 1, H: 1, W: 2, Classes: []string{"zero", "one", "two"}}
	add := func(c int, wrong bool) {
		p1 := uint8(0)
		if wrong {
			p1 = 255
		}
		d.Pix = append(d.Pix, uint8(10*c), p1)
		d.Labels = append(d.Labels, c)
	}
	for i := 0; i < 4; i++ {
		add(0, false)
	}
	add(1, false)
	add(1, true)
	add(2, false)
	add(2, true)
	add(2, false)
	add(2, true)
	return d
}

func TestEvaluate(t *testing.T) {
	rep, err := Evaluate(context.Background(), &oracle{k: 3}, data(), &Options{BatchSize: 3, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.N != 10 || rep.Correct != 7 || math.Abs(rep.Accuracy-0.7) > 1e-15 {
		t.Errorf("N %d correct %d accuracy %g", rep.N, rep.Correct, rep.Accuracy)
	}
	wantPer := []float64{1, 0.5, 0.5}
	for c, w := range wantPer {
		if rep.PerClass[c] != w {
			t.Errorf("class %d accuracy %g, want %g", c, rep.PerClass[c], w)
		}
	}
	if math.Abs(rep.BalancedAccuracy-2.0/3) > 1e-15 {
		t.Errorf("balanced accuracy %g, want 2/3", rep.BalancedAccuracy)
	}
	want := [][]int{{4, 0, 0}, {1, 1, 0}, {2, 0, 2}}
	for i := range want {
		for j := range want[i] {
			if rep.Confusion.Counts[i][j] != want[i][j] {
				t.Fatalf("confusion %v, want %v", rep.Confusion.Counts, want)
			}
		}
	}
	if n := rep.Confusion.Normalized(); n[1][0] != 0.5 || n[0][0] != 1 {
		t.Errorf("normalized %v", n)
	}
	for _, s := range []string{rep.String(), rep.HTML(), rep.Confusion.String(), rep.Confusion.HTML()} {
		if !strings.Contains(s, "two") {
			t.Errorf("rendering lacks class names:\n%s", s)
		}
	}
	if !strings.Contains(rep.String(), "balanced accuracy 66.67%") {
		t.Errorf("String:\n%s", rep)
	}
	png := rep.Confusion.Figure().PNG()
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		_, err := rep.Confusion.Figure().Render("png")
		t.Fatalf("heatmap did not render: %v", err)
	}
}

func TestEvaluateMissingClassIsNaN(t *testing.T) {
	c := NewConfusion([]int{0, 0, 2}, []int{0, 2, 2}, 3, nil)
	r := c.Report()
	if !math.IsNaN(r.PerClass[1]) || r.BalancedAccuracy != 0.75 {
		t.Errorf("per class %v balanced %g", r.PerClass, r.BalancedAccuracy)
	}
	if !strings.Contains(r.String(), "–") {
		t.Errorf("missing class not shown as –:\n%s", r)
	}
}

func TestPredictCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &oracle{k: 3, stop: cancel}
	p, err := Predict(ctx, m, data(), &Options{BatchSize: 3, Quiet: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if p == nil || p.N != 6 || len(p.Logits) != 18 || len(p.Labels) != 6 {
		t.Fatalf("partial predictions: %+v", p)
	}
	if r := p.Report(); r.N != 6 {
		t.Errorf("report of partial predictions has N %d", r.N)
	}
}

type badShape struct{}

func (badShape) NumClasses() int { return 3 }
func (badShape) Logits(_ context.Context, b dataset.Batch) ([]float32, error) {
	return make([]float32, b.N*2), nil
}

func TestPredictChecksShape(t *testing.T) {
	if _, err := Predict(context.Background(), badShape{}, data(), &Options{Quiet: true}); err == nil {
		t.Error("no error for a classifier returning the wrong number of logits")
	}
}

func TestSoftmax(t *testing.T) {
	dst := make([]float64, 3)
	Softmax(dst, []float32{1000, 1000, -1000})
	if math.Abs(dst[0]-0.5) > 1e-15 || math.Abs(dst[1]-0.5) > 1e-15 || dst[2] != 0 {
		t.Errorf("softmax of large logits %v", dst)
	}
	Softmax(dst, []float32{0, math.Ln2, 0})
	if math.Abs(dst[1]-0.5) > 1e-7 || math.Abs(dst[0]-0.25) > 1e-7 {
		t.Errorf("softmax %v, want [0.25 0.5 0.25]", dst)
	}
	p := &Predictions{N: 2, K: 3, Logits: []float32{1, 2, 3, 3, 2, 1}}
	probs := p.Probabilities()
	for i := 0; i < 2; i++ {
		s := probs[3*i] + probs[3*i+1] + probs[3*i+2]
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("row %d sums to %g", i, s)
		}
	}
	if a := p.Argmax(); a[0] != 2 || a[1] != 0 {
		t.Errorf("argmax %v", a)
	}
}

// TestPredictUninitialisedModel: evaluating a model built but not trained used to fail
// with "classifier reports 0 classes".
func TestPredictUninitialisedModel(t *testing.T) {
	_, err := Predict(context.Background(), nn.SmallCNN(nn.Arch{Seed: 1}), data(), &Options{Quiet: true})
	if err == nil || !strings.Contains(err.Error(), "not initialised") || !strings.Contains(err.Error(), "train.Fit") {
		t.Fatalf("err = %v, want one saying the model is not initialised and how to fix it", err)
	}
}

// TestEvaluateEmptyDataset: a report of no images said "accuracy 0.00% (0/0)".
func TestEvaluateEmptyDataset(t *testing.T) {
	r, err := Evaluate(context.Background(), &oracle{k: 3}, data().Head(0), &Options{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{r.String(), r.HTML()} {
		if !strings.Contains(s, "no images evaluated") || strings.Contains(s, "0.00%") {
			t.Errorf("report of an empty dataset:\n%s", s)
		}
	}
}

// TestPredictRejectsLabelsBeyondTheClassifier: a dataset with a class the model cannot
// predict was evaluated as if the model always got it wrong.
func TestPredictRejectsLabelsBeyondTheClassifier(t *testing.T) {
	d := data()
	if _, err := Evaluate(context.Background(), &oracle{k: d.NumClasses() - 1}, d, &Options{Quiet: true}); err == nil ||
		!strings.Contains(err.Error(), "but the classifier predicts 2 classes") {
		t.Errorf("a label beyond the classifier's classes: err = %v", err)
	}
	for want, call := range map[string]func() error{
		"the classifier is nil: pass a trained model": func() error { _, err := Evaluate(context.Background(), nil, d, nil); return err },
		"the dataset is nil: pass the images":         func() error { _, err := Evaluate(context.Background(), &oracle{k: 3}, nil, nil); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}
