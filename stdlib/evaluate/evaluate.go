// Package evaluate measures a classifier on a labelled dataset: batched logits and
// probabilities, accuracy, balanced accuracy (the mean of the per-class accuracies, the
// figure that matters on a long-tailed problem with a balanced test set), per-class
// accuracy and the confusion matrix with a heatmap.
//
// A typical cell:
//
//	rep, err := evaluate.Evaluate(cell.Context(), model, split.Test, nil)
//	rep                 // a table of per-class accuracy
//	rep.Confusion.Figure()
package evaluate

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nn"
)

// Options control how a dataset is fed to a classifier. The zero value works.
type Options struct {
	// BatchSize is the number of images per Logits call; 0 means 256.
	BatchSize int
	// Quiet turns the progress bar off.
	Quiet bool
	// Label names the progress bar; "" means "evaluate".
	Label string
}

func (o *Options) batchSize() int {
	if o == nil || o.BatchSize <= 0 {
		return 256
	}
	return o.BatchSize
}

// Predictions holds a classifier's logits for the first N images of a dataset.
type Predictions struct {
	N, K    int
	Logits  []float32 // N×K, row-major
	Labels  []int     // the true labels of the N images
	Classes []string  // class names, indexed by label (may be nil)
}

// Predict runs m over every image of d in batches and returns the logits. If ctx is
// cancelled, Predict stops at a batch boundary and returns the predictions made so far
// (a shorter but usable Predictions) together with ctx's error.
func Predict(ctx context.Context, m nn.Classifier, d *dataset.Dataset, opts *Options) (*Predictions, error) {
	if m == nil {
		return nil, errors.New("evaluate: the classifier is nil: pass a trained model (the Model of train.Fit's result, or nn.Load)")
	}
	if d == nil {
		return nil, errors.New("evaluate: the dataset is nil: pass the images to evaluate on, e.g. a split's Test")
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	k := m.NumClasses()
	if k <= 0 {
		if in, ok := m.(interface{ Initialized() bool }); ok && !in.Initialized() {
			// An nn.Model knows its classes only once trained, loaded or initialised;
			// "0 classes" left the reader guessing.
			return nil, errors.New("evaluate: the model is not initialised: train it (train.Fit), load a checkpoint (nn.Load) or call its Init(c, h, w, classes) first")
		}
		return nil, fmt.Errorf("evaluate: classifier reports %d classes", k)
	}
	// A label the classifier cannot predict would count as a class it always gets
	// wrong: the model and the dataset do not belong together.
	for i, y := range d.Labels {
		if y >= k {
			return nil, fmt.Errorf("evaluate: image %d of %q has label %d (%s), but the classifier predicts %d classes: evaluate it on a dataset of the classes it was trained on",
				i, d.Name, y, className(d.Classes, y), k)
		}
	}
	n := d.Len()
	bs := opts.batchSize()
	label := "evaluate"
	if opts != nil && opts.Label != "" {
		label = opts.Label
	}
	var bar progress = nopProgress{}
	if opts == nil || !opts.Quiet {
		bar = newProgress(label, n)
	}
	defer bar.Done()
	p := &Predictions{K: k, Logits: make([]float32, 0, n*k), Labels: make([]int, 0, n), Classes: d.Classes}
	idx := make([]int, 0, bs)
	for start := 0; start < n; start += bs {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		end := min(start+bs, n)
		idx = idx[:0]
		for i := start; i < end; i++ {
			idx = append(idx, i)
		}
		b := d.Batch(idx)
		logits, err := m.Logits(ctx, b)
		if err != nil {
			if ctx.Err() != nil {
				return p, ctx.Err()
			}
			return p, fmt.Errorf("evaluate: logits of images %d–%d: %w", start, end-1, err)
		}
		if len(logits) != b.N*k {
			return p, fmt.Errorf("evaluate: classifier returned %d logits for %d images × %d classes", len(logits), b.N, k)
		}
		p.Logits = append(p.Logits, logits...)
		p.Labels = append(p.Labels, b.Labels...)
		p.N += b.N
		bar.Update(p.N, "")
	}
	return p, nil
}

// Row returns the logits of image i.
func (p *Predictions) Row(i int) []float32 { return p.Logits[i*p.K : (i+1)*p.K] }

// Probabilities returns the softmax (temperature 1) of every row of logits, N×K.
func (p *Predictions) Probabilities() []float64 {
	out := make([]float64, p.N*p.K)
	for i := 0; i < p.N; i++ {
		Softmax(out[i*p.K:(i+1)*p.K], p.Row(i))
	}
	return out
}

// Argmax returns the predicted class of every image (the first maximum on ties).
func (p *Predictions) Argmax() []int {
	out := make([]int, p.N)
	for i := range out {
		out[i] = Argmax(p.Row(i))
	}
	return out
}

// Report computes the accuracy figures and the confusion matrix of the predictions.
func (p *Predictions) Report() *Report {
	k := p.K
	if len(p.Classes) > k {
		k = len(p.Classes)
	}
	c := NewConfusion(p.Labels, p.Argmax(), k, p.Classes)
	return c.Report()
}

// Evaluate runs m over d and reports accuracy, balanced accuracy, per-class accuracy
// and the confusion matrix. On cancellation it returns the report of the images seen
// so far (Report.N says how many) together with ctx's error.
func Evaluate(ctx context.Context, m nn.Classifier, d *dataset.Dataset, opts *Options) (*Report, error) {
	p, err := Predict(ctx, m, d, opts)
	if p == nil {
		return nil, err
	}
	return p.Report(), err
}

// Softmax writes the softmax of logits into dst (len(dst) == len(logits)), computed in
// float64 after subtracting the maximum so that large logits cannot overflow.
func Softmax(dst []float64, logits []float32) {
	if len(dst) != len(logits) {
		panic(fmt.Sprintf("evaluate: Softmax of %d logits into %d values", len(logits), len(dst)))
	}
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for i, v := range logits {
		dst[i] = math.Exp(float64(v) - mx)
		s += dst[i]
	}
	for i := range dst {
		dst[i] /= s
	}
}

// LogSoftmax writes log softmax(logits) into dst, as logits − logsumexp(logits) with
// the maximum subtracted first: exact for any finite logits, never log(0).
func LogSoftmax(dst []float64, logits []float32) {
	if len(dst) != len(logits) {
		panic(fmt.Sprintf("evaluate: LogSoftmax of %d logits into %d values", len(logits), len(dst)))
	}
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(s)
	for i, v := range logits {
		dst[i] = float64(v) - lse
	}
}

// Argmax returns the index of the largest value (the first one on ties).
func Argmax(v []float32) int {
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
