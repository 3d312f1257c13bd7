package longtail

import (
	"context"
	"fmt"
	"html"
	"math/rand"
	"sort"
	"strings"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// Options configures NewSplit. The zero value gives instance 0 of seed 0, no nuisance.
type Options struct {
	// Instance selects the class-to-rank order: each instance of the same Seed puts
	// other classes at the head and the tail, as the paper's 30 instances do.
	Instance int
	// Seed makes everything random reproducible: the class order, the images sampled
	// from each class and the nuisance draws all derive from (Seed, Instance).
	Seed int64
	// Transform, if not nil, is baked into every image: one fixed draw per stored
	// training image and one per test image (PAPER.md: "transformed the same way").
	Transform nuisance.Transform
	// RawTestOnly keeps the test set untransformed (Test == RawTest).
	RawTestOnly bool
	// Order, if not nil, fixes the class at each rank (Order[0] is the largest class)
	// instead of drawing it; it must be a permutation of the class labels.
	Order []int
	// Context, if not nil, cancels the nuisance baking.
	Context context.Context
}

// WithTransform returns o with Transform set to t. From a notebook cell, prefer it to
// a composite literal when t is a type declared in the cell: the interpreter (yaegi
// v0.16) wraps interpreted values passed as arguments but not those stored in a
// struct literal's interface field (Options{Transform: myType{}} fails to run).
func (o Options) WithTransform(t nuisance.Transform) Options {
	o.Transform = t
	return o
}

// Split is a long-tailed training set drawn from a balanced dataset, with its
// balanced test set.
type Split struct {
	Name    string
	Profile Profile
	// Train is the long-tailed training set, nuisance baked in; RawTrain is the same
	// images untransformed.
	Train, RawTrain *dataset.Dataset
	// Test is the base dataset's balanced test set with one fixed nuisance draw per
	// image; RawTest is the untransformed test set (the x of eKLD).
	Test, RawTest *dataset.Dataset
	// TrainIndex[i] is the index in the base training set of Train's image i.
	TrainIndex []int
	Counts     []int // training images per class, indexed by label
	Rank       []int // rank of each class, 1 = largest, indexed by label
	Order      []int // Order[k] is the class at rank k+1
	Instance   int
	Seed       int64
	Transform  nuisance.Transform // nil when no nuisance is baked in
}

// seedFor derives independent seeds for the separate random choices of a split, so
// that e.g. changing the nuisance does not change which images are sampled.
func seedFor(seed int64, instance int, stream uint64) int64 {
	z := uint64(seed)*0x9e3779b97f4a7c15 + uint64(instance)*0xbf58476d1ce4e5b9 + stream*0x94d049bb133111eb
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int64(z ^ (z >> 31))
}

const (
	streamOrder = iota + 1
	streamSample
	streamTrainNuisance
	streamTestNuisance
)

// ClassOrder returns the class-to-rank order of an instance: a seeded permutation of
// 0..classes−1, Order[0] being the class that gets the largest size.
func ClassOrder(classes int, seed int64, instance int) []int {
	return rand.New(rand.NewSource(seedFor(seed, instance, streamOrder))).Perm(max(classes, 0))
}

// NewSplit builds the long-tailed split of train given by profile p, as the paper
// does: it orders the classes by a seeded permutation (opts.Instance, opts.Seed), takes
// p's size for each class's rank, samples that many images of the class without
// replacement from train, keeps the whole (balanced) test set, and bakes one fixed
// draw of opts.Transform into each training and test image. It returns an error if a
// class has fewer images than its rank asks for, if the profile gives a negative size or
// no image at all, or if a built-in profile's parameters do not describe a long tail
// (ρ < 1, a < 0, μ outside [0, 1], n_max < 1). test may be nil.
func NewSplit(train, test *dataset.Dataset, p Profile, opts Options) (*Split, error) {
	if train == nil {
		return nil, fmt.Errorf("longtail: no training set")
	}
	if p == nil {
		return nil, fmt.Errorf("longtail: no profile")
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	nc := train.NumClasses()
	if nc == 0 {
		return nil, fmt.Errorf("longtail: training set %q has no classes", train.Name)
	}
	order := opts.Order
	if order == nil {
		order = ClassOrder(nc, opts.Seed, opts.Instance)
	} else {
		if err := checkPerm(order, nc); err != nil {
			return nil, err
		}
		order = append([]int(nil), order...)
	}
	if pc, ok := p.(interface{ check() error }); ok {
		if err := pc.check(); err != nil {
			return nil, err
		}
	}
	sizes := p.Sizes(nc)
	if err := checkSizes(p, sizes, nc); err != nil {
		return nil, err
	}
	s := &Split{
		Name: strings.TrimSuffix(train.Name, " train") + "-LT", Profile: p,
		Counts: make([]int, nc), Rank: make([]int, nc), Order: order,
		Instance: opts.Instance, Seed: opts.Seed, Transform: opts.Transform,
	}
	byClass := train.ByClass()
	rng := rand.New(rand.NewSource(seedFor(opts.Seed, opts.Instance, streamSample)))
	// Classes are sampled in label order so that the images a class gets depend only
	// on its size, not on which classes happen to precede it in the rank order.
	for k, c := range order {
		s.Rank[c] = k + 1
		s.Counts[c] = sizes[k]
	}
	for c, g := range byClass {
		n := s.Counts[c]
		if n > len(g) {
			return nil, fmt.Errorf("longtail: class %d (%q) at rank %d needs %d images under %v, but %q has only %d",
				c, className(train, c), s.Rank[c], n, p, train.Name, len(g))
		}
		perm := rng.Perm(len(g))
		for _, j := range perm[:n] {
			s.TrainIndex = append(s.TrainIndex, g[j])
		}
	}
	sort.Ints(s.TrainIndex)
	raw, err := train.Subset(s.TrainIndex)
	if err != nil {
		return nil, err
	}
	raw.Name = s.Name
	s.RawTrain = raw
	s.Train = raw
	if opts.Transform != nil {
		s.Train, err = nuisance.ApplyBakedContext(ctx, raw, opts.Transform, seedFor(opts.Seed, opts.Instance, streamTrainNuisance))
		if err != nil {
			return nil, fmt.Errorf("longtail: bake nuisance into %s: %w", s.Name, err)
		}
	}
	if test != nil {
		if test.NumClasses() != nc {
			return nil, fmt.Errorf("longtail: test set %q has %d classes, training set %q has %d",
				test.Name, test.NumClasses(), train.Name, nc)
		}
		s.RawTest, s.Test = test, test
		if opts.Transform != nil && !opts.RawTestOnly {
			s.Test, err = nuisance.ApplyBakedContext(ctx, test, opts.Transform, seedFor(opts.Seed, opts.Instance, streamTestNuisance))
			if err != nil {
				return nil, fmt.Errorf("longtail: bake nuisance into test set %q: %w", test.Name, err)
			}
		}
	}
	return s, nil
}

func checkPerm(order []int, n int) error {
	if len(order) != n {
		return fmt.Errorf("longtail: Order has %d classes, want %d", len(order), n)
	}
	seen := make([]bool, n)
	for _, c := range order {
		if c < 0 || c >= n || seen[c] {
			return fmt.Errorf("longtail: Order %v is not a permutation of 0..%d", order, n-1)
		}
		seen[c] = true
	}
	return nil
}

func className(d *dataset.Dataset, c int) string {
	if c >= 0 && c < len(d.Classes) {
		return d.Classes[c]
	}
	return fmt.Sprint(c)
}

// MNIST builds a long-tailed split of the embedded MNIST (60,000 training, 10,000
// test images) in one call.
func MNIST(p Profile, opts Options) (*Split, error) {
	train, test, err := dataset.MNIST()
	if err != nil {
		return nil, err
	}
	return NewSplit(train, test, p, opts)
}

// Len returns the number of training images.
func (s *Split) Len() int { return s.Train.Len() }

// NumClasses returns the number of classes.
func (s *Split) NumClasses() int { return len(s.Counts) }

// Classes returns the class names.
func (s *Split) Classes() []string { return s.Train.Classes }

// Imbalance returns n_max / n_min over the classes with at least one image.
func (s *Split) Imbalance() float64 {
	mx, mn := 0, 0
	for _, n := range s.Counts {
		if n > mx {
			mx = n
		}
		if n > 0 && (mn == 0 || n < mn) {
			mn = n
		}
	}
	if mn == 0 {
		return 0
	}
	return float64(mx) / float64(mn)
}

// Sampler returns a sampler over the training images: "uniform" (ERM),
// "balanced" (class-balanced re-sampling from the start) or "drs" (deferred
// re-sampling from epoch switchEpoch).
func (s *Split) Sampler(kind string, switchEpoch int) (Sampler, error) {
	switch strings.ToLower(kind) {
	case "uniform", "erm", "":
		return NewUniform(s.Train.Len()), nil
	case "balanced", "classbalanced", "resample", "rs":
		return NewClassBalanced(s.Train.Labels), nil
	case "drs", "delayed":
		return NewDelayed(s.Train.Labels, switchEpoch), nil
	}
	return nil, fmt.Errorf("longtail: unknown sampler %q (want uniform, balanced or drs)", kind)
}

// String summarizes the split.
func (s *Split) String() string {
	var b strings.Builder
	mx, mn := 0, -1
	for _, n := range s.Counts {
		if n > mx {
			mx = n
		}
		if mn < 0 || n < mn {
			mn = n
		}
	}
	fmt.Fprintf(&b, "%s: %v, instance %d, seed %d: %d training images over %d classes (largest %d, smallest %d)",
		s.Name, s.Profile, s.Instance, s.Seed, s.Train.Len(), len(s.Counts), mx, mn)
	if s.Test != nil {
		fmt.Fprintf(&b, ", %d test images", s.Test.Len())
	}
	if s.Transform != nil {
		fmt.Fprintf(&b, ", nuisance %s", nuisance.Name(s.Transform))
	}
	b.WriteString("\nrank class count\n")
	for k, c := range s.Order {
		fmt.Fprintf(&b, "%4d %-8s %5d\n", k+1, className(s.Train, c), s.Counts[c])
	}
	return b.String()
}

// HTML renders the split for a notebook: a summary line, the table of classes by
// rank (class, rank, training count, test count) and the bar chart of class sizes
// (log scale), side by side.
func (s *Split) HTML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<div><p><b>%s</b>: %s, instance %d, seed %d — %d training images, %d classes, imbalance %.0f",
		html.EscapeString(s.Name), html.EscapeString(fmt.Sprint(s.Profile)), s.Instance, s.Seed, s.Train.Len(), len(s.Counts), s.Imbalance())
	if s.Transform != nil {
		fmt.Fprintf(&b, ", nuisance %s", html.EscapeString(nuisance.Name(s.Transform)))
	}
	b.WriteString("</p><div style=\"display:flex;gap:1em;align-items:flex-start\">")
	b.WriteString(`<div style="max-height:420px;overflow-y:auto"><table><thead><tr><th>rank</th><th>class</th><th>label</th><th>train</th>`)
	var testCounts []int
	if s.Test != nil {
		testCounts = s.Test.ClassCounts()
		b.WriteString("<th>test</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for k, c := range s.Order {
		fmt.Fprintf(&b, "<tr><td>%d</td><td>%s</td><td>%d</td><td>%d</td>", k+1, html.EscapeString(className(s.Train, c)), c, s.Counts[c])
		if testCounts != nil {
			fmt.Fprintf(&b, "<td>%d</td>", testCounts[c])
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>")
	if png, err := s.ChartPNG(true); err == nil {
		fmt.Fprintf(&b, `<img src="data:image/png;base64,%s" alt="class sizes"/>`, b64(png))
	}
	b.WriteString("</div></div>")
	return b.String()
}
