// Package invariance measures how invariant a classifier is to a nuisance
// transformation, class by class, with the paper's expected KL divergence
// (PAPER.md, "The invariance metric: eKLD"):
//
//	eKLD_j = E_{x ∈ class j} E_{x' ~ T(x)} KL( p(y|x) ‖ p(y|x') )
//
// where p(y|x) is the softmax of the logits at temperature 1, the logarithm is natural,
// x runs over held-out (test) images of class j and x' over random transforms of that
// same x. A companion figure is the consistency: the fraction of pairs (x, x') whose
// predicted classes agree. Small eKLD and high consistency mean an invariant model.
//
// The paper's finding is that on long-tailed training sets eKLD_j falls as the training
// size of class j grows; Figure draws eKLD against class size on a log axis with
// Spearman's rank correlation in the legend.
package invariance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sync"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/display"
	"github.com/goinv/goinv/stdlib/evaluate"
	"github.com/goinv/goinv/stdlib/internal/seed"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// Options configure EKLD. The zero value measures the paper's 40 images × 100
// transforms of every class with seed 0.
type Options struct {
	// Images is the number of test images drawn (without replacement, seeded) from each
	// class; 0 means 40. A class with fewer test images uses all of them.
	Images int
	// Transforms is the number of transforms x' drawn for each image x; 0 means 100.
	Transforms int
	// BatchSize is the approximate number of images per Logits call; 0 means 512.
	// Batches always hold whole groups (x and its transforms).
	BatchSize int
	// Seed chooses the images and the transforms. The draw for an image depends only on
	// Seed and the image's index in the test set, not on batching or Workers.
	Seed int64
	// Classes restricts the measurement to these labels, in this order; nil means all.
	Classes []int
	// TrainSizes, if set, gives the training-set size of each class (indexed by label),
	// copied into the table so that it can be plotted against class size.
	TrainSizes []int
	// Workers is the number of goroutines applying transforms while the model runs;
	// 0 means GOMAXPROCS. Transform.Apply is called concurrently when Workers > 1.
	Workers int
	// Quiet turns the progress bar off.
	Quiet bool
	// Label names the progress bar; "" means "eKLD".
	Label string
}

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	for _, f := range []struct {
		name  string
		v     int
		means string
	}{{"Images", r.Images, "40"}, {"Transforms", r.Transforms, "100"}, {"BatchSize", r.BatchSize, "512"}, {"Workers", r.Workers, "GOMAXPROCS"}} {
		if f.v < 0 {
			return r, fmt.Errorf("eKLD: Options.%s = %d, want ≥ 1 (0 means %s)", f.name, f.v, f.means)
		}
	}
	if r.Images == 0 {
		r.Images = 40
	}
	if r.Transforms == 0 {
		r.Transforms = 100
	}
	if r.BatchSize == 0 {
		r.BatchSize = 512
	}
	if r.Workers == 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	if r.Label == "" {
		r.Label = "eKLD"
	}
	return r, nil
}

// unit is one image x and its transforms.
type unit struct {
	class int // label
	row   int // row of the class in the table
	index int // index of x in the test set
}

// chunk is the batch prepared for a run of consecutive units.
type chunk struct {
	batch dataset.Batch
	err   error
}

// accumulator gathers the sums of one class.
type accumulator struct {
	images, pairs       int
	sum, sumSq          float64 // of the per-image mean KL
	consistent, correct int     // over pairs
	cleanCorrect        int     // over images
}

// EKLD measures eKLD and consistency of m under t for every class of test (or the
// classes in opts.Classes), on raw held-out images: for each class it draws
// opts.Images images x, and for each x it draws opts.Transforms transforms x' = t(x)
// of that same x. Batches of x and x' go through m.Logits; transforms of the next
// batches are prepared by opts.Workers goroutines meanwhile.
//
// If ctx is cancelled EKLD stops at a batch boundary and returns the classes measured
// so far (a partial Table, Complete false) together with ctx's error.
func EKLD(ctx context.Context, m nn.Classifier, test *dataset.Dataset, t nuisance.Transform, opts *Options) (*Table, error) {
	switch {
	case m == nil:
		return nil, errors.New("eKLD: the classifier is nil: pass a trained model (the Model of train.Fit's result, or nn.Load)")
	case test == nil:
		return nil, errors.New("eKLD: the test set is nil: pass held-out images, e.g. a split's RawTest")
	case t == nil:
		return nil, errors.New("eKLD: the transform is nil: pass the nuisance to measure invariance to, e.g. nuisance.NewRotation()")
	}
	if err := test.Validate(); err != nil {
		return nil, fmt.Errorf("eKLD: %w", err)
	}
	if test.Len() == 0 {
		return nil, fmt.Errorf("eKLD: the test set %q has no images", test.Name)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	k := m.NumClasses()
	if in, ok := m.(interface{ Initialized() bool }); ok && !in.Initialized() {
		return nil, errors.New("eKLD: the model is not initialised: train it (train.Fit), load a checkpoint (nn.Load) or call its Init(c, h, w, classes) first")
	}
	if k < 2 {
		return nil, fmt.Errorf("eKLD: classifier reports %d classes, need at least 2", k)
	}
	classes := o.Classes
	if classes == nil {
		for c := 0; c < test.NumClasses(); c++ {
			classes = append(classes, c)
		}
	}
	byClass := make(map[int][]int, len(classes))
	for i, y := range test.Labels {
		byClass[y] = append(byClass[y], i)
	}

	tab := &Table{Images: o.Images, Transforms: o.Transforms, Seed: o.Seed, Rows: make([]ClassResult, len(classes))}
	var units []unit
	for r, c := range classes {
		if c < 0 || c >= k {
			return nil, fmt.Errorf("eKLD: class %d is outside the classifier's %d classes", c, k)
		}
		row := ClassResult{Class: c, Name: className(test.Classes, c), TrainSize: -1}
		if c < len(o.TrainSizes) {
			row.TrainSize = o.TrainSizes[c]
		} else if o.TrainSizes != nil {
			// Sizes missing for some classes would plot, and correlate, only the others.
			return nil, fmt.Errorf("eKLD: Options.TrainSizes has %d sizes, none for class %s (label %d): give one per class, indexed by label (a split's Counts)",
				len(o.TrainSizes), row.Name, c)
		}
		tab.Rows[r] = row
		idx := append([]int(nil), byClass[c]...)
		if len(idx) == 0 {
			return nil, fmt.Errorf("eKLD: the test set %q has no image of class %s: measure only the classes it has with Options.Classes", test.Name, row.Name)
		}
		// The images of a class are a seeded sample, independent of the other classes.
		rng := rand.New(rand.NewSource(seed.Mix(o.Seed, int64(c), 0x696d61676573)))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		if len(idx) > o.Images {
			idx = idx[:o.Images]
		}
		for _, i := range idx {
			units = append(units, unit{class: c, row: r, index: i})
		}
	}

	group := 1 + o.Transforms
	perChunk := max(1, o.BatchSize/group)
	nChunks := (len(units) + perChunk - 1) / perChunk
	span := func(c int) []unit { return units[c*perChunk : min((c+1)*perChunk, len(units))] }

	var bar interface {
		Update(int, string)
		Done()
	} = nopProgress{}
	if !o.Quiet {
		bar = display.NewProgress(o.Label, len(units))
	}
	defer bar.Done()

	// Workers prepare chunks ahead of the model; slots deliver them in order and the
	// semaphore bounds the look-ahead (and so the memory) to a few batches.
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	slots := make([]chan chunk, nChunks)
	for i := range slots {
		slots[i] = make(chan chunk, 1)
	}
	jobs := make(chan int)
	ahead := make(chan struct{}, o.Workers+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for c := 0; c < nChunks; c++ {
			select {
			case ahead <- struct{}{}:
			case <-wctx.Done():
				return
			}
			select {
			case jobs <- c:
			case <-wctx.Done():
				return
			}
		}
	}()
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				slots[c] <- prepare(test, t, span(c), o)
			}
		}()
	}

	acc := make([]accumulator, len(classes))
	lp := make([]float64, k)
	lq := make([]float64, k)
	done := 0
	finish := func() *Table {
		for r := range tab.Rows {
			acc[r].fill(&tab.Rows[r])
		}
		tab.Complete = done == len(units)
		return tab
	}
	for c := 0; c < nChunks; c++ {
		var ch chunk
		select {
		case ch = <-slots[c]:
		case <-ctx.Done():
			return finish(), ctx.Err()
		}
		<-ahead
		if ch.err != nil {
			return finish(), ch.err
		}
		if err := ctx.Err(); err != nil {
			return finish(), err
		}
		logits, err := m.Logits(ctx, ch.batch)
		if err != nil {
			if ctx.Err() != nil {
				return finish(), ctx.Err()
			}
			return finish(), fmt.Errorf("eKLD: logits: %w", err)
		}
		if len(logits) != ch.batch.N*k {
			return finish(), fmt.Errorf("eKLD: classifier returned %d logits for %d images × %d classes", len(logits), ch.batch.N, k)
		}
		us := span(c)
		for u, un := range us {
			base := u * group
			a := &acc[un.row]
			clean := logits[base*k : (base+1)*k]
			evaluate.LogSoftmax(lp, clean)
			yx := evaluate.Argmax(clean)
			if yx == un.class {
				a.cleanCorrect++
			}
			var s float64
			for j := 1; j < group; j++ {
				q := logits[(base+j)*k : (base+j+1)*k]
				evaluate.LogSoftmax(lq, q)
				s += klLog(lp, lq)
				yq := evaluate.Argmax(q)
				if yq == yx {
					a.consistent++
				}
				if yq == un.class {
					a.correct++
				}
			}
			mean := s / float64(o.Transforms)
			a.images++
			a.pairs += o.Transforms
			a.sum += mean
			a.sumSq += mean * mean
		}
		done += len(us)
		last := us[len(us)-1]
		bar.Update(done, fmt.Sprintf("class %s · eKLD %.4g", tab.Rows[last.row].Name, acc[last.row].sum/float64(acc[last.row].images)))
	}
	return finish(), nil
}

// fill writes the class's averages into row.
func (a *accumulator) fill(row *ClassResult) {
	row.Images, row.Pairs = a.images, a.pairs
	if a.images == 0 {
		row.EKLD, row.EKLDSE, row.Consistency, row.Accuracy, row.CleanAccuracy = nan, nan, nan, nan, nan
		return
	}
	n := float64(a.images)
	row.EKLD = a.sum / n
	row.EKLDSE = 0
	if a.images > 1 {
		v := (a.sumSq - a.sum*a.sum/n) / (n - 1)
		row.EKLDSE = math.Sqrt(max(v, 0) / n)
	}
	row.Consistency = float64(a.consistent) / float64(a.pairs)
	row.Accuracy = float64(a.correct) / float64(a.pairs)
	row.CleanAccuracy = float64(a.cleanCorrect) / n
}

var nan = math.NaN()

// prepare builds the batch of a run of units: each x followed by its transforms.
func prepare(test *dataset.Dataset, t nuisance.Transform, us []unit, o Options) (ch chunk) {
	defer func() {
		// A transform written in a cell may panic; turn that into an error instead of
		// killing the session.
		if r := recover(); r != nil {
			ch = chunk{err: fmt.Errorf("eKLD: transform panicked: %v", r)}
		}
	}()
	group := 1 + o.Transforms
	size := test.ImageSize()
	n := len(us) * group
	// The images go through a small Dataset so that dataset.Batch does the conversion
	// to float32: x then gets exactly the values it gets everywhere else (evaluation,
	// training), and a model gives it the same logits here as there.
	ds := &dataset.Dataset{C: test.C, H: test.H, W: test.W, Pix: make([]uint8, 0, n*size), Labels: make([]int, 0, n)}
	for _, un := range us {
		x := test.Image(un.index)
		ds.Pix = append(ds.Pix, x.Pix...)
		rng := rand.New(rand.NewSource(seed.Mix(o.Seed, int64(un.index), 0x7472616e73666f72)))
		for j := 1; j < group; j++ {
			xp := t.Apply(x, rng)
			if xp.C != x.C || xp.H != x.H || xp.W != x.W || len(xp.Pix) != size {
				return chunk{err: fmt.Errorf("eKLD: transform turned a %d×%d×%d image into %d×%d×%d with %d pixels", x.C, x.H, x.W, xp.C, xp.H, xp.W, len(xp.Pix))}
			}
			ds.Pix = append(ds.Pix, xp.Pix...)
		}
		for j := 0; j < group; j++ {
			ds.Labels = append(ds.Labels, un.class)
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return chunk{batch: ds.Batch(idx)}
}

// KL returns KL(softmax(p) ‖ softmax(q)) in nats for two logit vectors of the same
// length, computed from log-softmax so that no probability underflows to log(0).
func KL(p, q []float32) float64 {
	if len(p) != len(q) {
		panic(fmt.Sprintf("invariance: KL of %d and %d logits", len(p), len(q)))
	}
	lp := make([]float64, len(p))
	lq := make([]float64, len(q))
	evaluate.LogSoftmax(lp, p)
	evaluate.LogSoftmax(lq, q)
	return klLog(lp, lq)
}

// klLog returns Σ exp(lp)·(lp − lq) for log-probabilities lp, lq.
func klLog(lp, lq []float64) float64 {
	var s float64
	for i, a := range lp {
		s += math.Exp(a) * (a - lq[i])
	}
	return s
}

func className(names []string, c int) string {
	if c < len(names) && names[c] != "" {
		return names[c]
	}
	return fmt.Sprint(c)
}

type nopProgress struct{}

func (nopProgress) Update(int, string) {}
func (nopProgress) Done()              {}

// EKLDSplit measures eKLD of m on a long-tailed split: x from split.RawTest, x' from
// split.Transform applied afresh to the same x, training sizes from split.Counts. opts
// may be nil; its TrainSizes is replaced by the split's counts.
func EKLDSplit(ctx context.Context, m nn.Classifier, split *longtail.Split, opts *Options) (*Table, error) {
	if split == nil {
		return nil, fmt.Errorf("eKLD: nil split")
	}
	if split.Transform == nil {
		return nil, fmt.Errorf("eKLD: split %s has no nuisance transform to measure invariance to", split.Name)
	}
	if split.RawTest == nil {
		return nil, fmt.Errorf("eKLD: split %s has no test set", split.Name)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.TrainSizes = split.Counts
	return EKLD(ctx, m, split.RawTest, split.Transform, &o)
}
