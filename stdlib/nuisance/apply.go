package nuisance

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/display"
	"github.com/goinv/goinv/stdlib/internal/seed"
)

// ProgressThreshold is the number of images from which ApplyBaked shows a progress
// bar (smaller bakes finish in well under a second).
var ProgressThreshold = 20000

// progress is a variable so that tests can watch it; it returns the step and finish
// callbacks of a progress display.
var progress = func(name string, total int) (add func(int), done func()) {
	p := display.NewProgress(name, total)
	return p.Add, p.Done
}

// Identity leaves images unchanged (the "no nuisance" baseline).
type Identity struct{}

// Apply returns a copy of src; it draws nothing, so rng may be nil.
func (Identity) Apply(src dataset.Image, rng *rand.Rand) dataset.Image { return src.Clone() }

// String describes the transform.
func (Identity) String() string { return "Identity" }

// Func adapts a function to the Transform interface, so that a closure written in a
// notebook cell can be passed wherever a Transform is expected.
type Func func(src dataset.Image, rng *rand.Rand) dataset.Image

// Apply calls f.
func (f Func) Apply(src dataset.Image, rng *rand.Rand) dataset.Image { return f(src, rng) }

// Composed applies its transforms in order, each drawing its own parameters.
type Composed []Transform

// Compose returns the transform that applies ts in order. From a notebook cell, assign
// an interpreted transform to a nuisance.Transform variable before passing it here:
// the interpreter does not convert values inside variadic arguments. It panics, saying
// which, if a transform is nil.
func Compose(ts ...Transform) Composed {
	for i, t := range ts {
		if t == nil {
			panic(fmt.Sprintf("nuisance: Compose: transform %d of %d is nil", i, len(ts)))
		}
	}
	return Composed(ts)
}

// Apply applies each transform to the result of the previous one.
func (c Composed) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	out := src.Clone()
	for _, t := range c {
		out = t.Apply(out, rng)
	}
	return out
}

// String describes the composition.
func (c Composed) String() string {
	parts := make([]string, len(c))
	for i, t := range c {
		parts[i] = Name(t)
	}
	return "Compose(" + strings.Join(parts, ", ") + ")"
}

// Name returns a short description of t: its String() if it has one, else its type.
// A transform declared in a notebook cell reaches compiled code wrapped by the
// interpreter, which hides its type name and its String method: give it a name with
// Named.
func Name(t Transform) string {
	if s, ok := t.(fmt.Stringer); ok {
		return s.String()
	}
	if interpreted(t) {
		return "cell-defined transform (name it with nuisance.Named)"
	}
	return fmt.Sprintf("%T", t)
}

// interpreted reports whether t is the interpreter's wrapper of a value whose type a
// cell declared: the struct `yaegi extract` generates (stdlib/symbols), named
// _<package>_Transform, holding the value in IValue. Its %T, "symbols._github_com_goinv_goinv_stdlib_nuisance_Transform",
// says nothing to the reader.
func interpreted(t Transform) bool {
	typ := reflect.TypeOf(t)
	return typ != nil && typ.Kind() == reflect.Struct && strings.HasPrefix(typ.Name(), "_") &&
		typ.NumField() > 0 && typ.Field(0).Name == "IValue"
}

// Named returns t under the given name: Name, Compose's String, the descriptions of
// splits and the titles of tables and figures show name. Use it for a transform
// declared in a notebook cell, whose own String method compiled code cannot see:
//
//	flip := nuisance.Named("flip", myFlip{})
func Named(name string, t Transform) Transform {
	if t == nil {
		panic(fmt.Sprintf("nuisance: Named(%q, nil): the transform is nil", name))
	}
	return named{name: name, t: t}
}

type named struct {
	name string
	t    Transform
}

// Apply applies the named transform.
func (n named) Apply(src dataset.Image, rng *rand.Rand) dataset.Image { return n.t.Apply(src, rng) }

// String returns the name.
func (n named) String() string { return n.name }

// Names lists the names ByName accepts.
var Names = []string{"rotation", "background", "dilation", "identity"}

// ByName returns the paper's nuisance called name: "rotation", "background",
// "dilation" (also "dilation/erosion", "dilate_erode", "thickness"), or "identity"
// ("none", ""). Several names joined by "+" compose: "rotation+background".
func ByName(name string) (Transform, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if strings.Contains(name, "+") {
		var c Composed
		for _, part := range strings.Split(name, "+") {
			t, err := ByName(part)
			if err != nil {
				return nil, err
			}
			c = append(c, t)
		}
		return c, nil
	}
	switch name {
	case "rotation", "rotate":
		return NewRotation(), nil
	case "background", "bg":
		return NewBackground(), nil
	case "dilation", "dilation/erosion", "dilate_erode", "dilateerode", "erosion", "thickness":
		return NewDilateErode(), nil
	case "identity", "none", "":
		return Identity{}, nil
	}
	return nil, fmt.Errorf("nuisance: unknown transform %q (want one of %s)", name, strings.Join(Names, ", "))
}

// splitmix is a tiny rand.Source64 (SplitMix64). Baking derives one generator per
// image from (seed, index); math/rand's default source costs ~10 µs and 5 KB to seed,
// which would dominate a 60 000-image bake, while this one seeds for free and gives
// every image its own reproducible stream regardless of how the work is scheduled.
type splitmix struct{ s uint64 }

func (r *splitmix) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
func (r *splitmix) Int63() int64    { return int64(r.Uint64() >> 1) }
func (r *splitmix) Seed(seed int64) { r.s = uint64(seed) }

// ImageRand returns the random generator ApplyBaked uses for image i under seed: a
// deterministic function of (seed, i), so one image's draw can be reproduced alone.
func ImageRand(seed int64, i int) *rand.Rand {
	m := &splitmix{s: uint64(seed)*0x9e3779b97f4a7c15 ^ uint64(i)*0xd1b54a32d192ed03}
	m.Uint64()
	return rand.New(m)
}

// ApplyBaked returns a copy of ds in which every image carries one fixed random draw
// of t, as the paper stores its long-tailed training sets: a class of 5 images sees 5
// draws. Image i uses ImageRand(seed, i), so the result does not depend on the number
// of workers and the same seed reproduces it byte for byte. Labels and class names are
// kept. The work runs on Workers goroutines.
func ApplyBaked(ds *dataset.Dataset, t Transform, seed int64) (*dataset.Dataset, error) {
	return ApplyBakedContext(context.Background(), ds, t, seed)
}

// Workers bounds the goroutines ApplyBaked uses; 0 means GOMAXPROCS.
var Workers = 0

// ApplyBakedContext is ApplyBaked with cancellation: when ctx is cancelled it stops
// and returns ctx's error (the partial dataset is not returned because a half-baked
// training set would silently mix transformed and raw images).
func ApplyBakedContext(ctx context.Context, ds *dataset.Dataset, t Transform, seed int64) (*dataset.Dataset, error) {
	if ds == nil {
		return nil, errors.New("nuisance: ApplyBaked: the dataset is nil")
	}
	if t == nil {
		t = Identity{}
	}
	out := &dataset.Dataset{
		Name: ds.Name, C: ds.C, H: ds.H, W: ds.W,
		Pix:     make([]uint8, len(ds.Pix)),
		Labels:  append([]int(nil), ds.Labels...),
		Classes: append([]string(nil), ds.Classes...),
	}
	n := ds.Len()
	size := ds.ImageSize()
	workers := Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > n {
		workers = n
	}
	// Images are handed out in chunks through a shared counter; each worker checks the
	// context between chunks.
	const chunk = 256
	var (
		mu      sync.Mutex
		next    int
		firstEr error
		wg      sync.WaitGroup
	)
	add, done := func(int) {}, func() {}
	if n >= ProgressThreshold {
		add, done = progress("bake "+Name(t), n)
	}
	defer done()
	take := func() (int, int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstEr != nil || next >= n {
			return 0, 0, false
		}
		if err := ctx.Err(); err != nil {
			firstEr = err
			return 0, 0, false
		}
		a := next
		next += chunk
		if next > n {
			next = n
		}
		if a > 0 {
			add(chunk) // the previous chunk handed out is (nearly) done
		}
		return a, next, true
	}
	fail := func(err error) {
		mu.Lock()
		if firstEr == nil {
			firstEr = err
		}
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					fail(fmt.Errorf("nuisance: transform %s panicked: %v", Name(t), r))
				}
			}()
			for {
				a, b, ok := take()
				if !ok {
					return
				}
				for i := a; i < b; i++ {
					src := ds.Image(i)
					img := t.Apply(src, ImageRand(seed, i))
					if img.C != ds.C || img.H != ds.H || img.W != ds.W || len(img.Pix) != size {
						fail(fmt.Errorf("nuisance: transform %s turned image %d of shape %d×%d×%d into %d×%d×%d (%d pixels); transforms must keep the shape",
							Name(t), i, ds.C, ds.H, ds.W, img.C, img.H, img.W, len(img.Pix)))
						return
					}
					copy(out.Pix[i*size:(i+1)*size], img.Pix)
				}
			}
		}()
	}
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	return out, nil
}

// Samples returns n fresh draws of t applied to img (the x' ~ T(x) of the eKLD metric,
// PAPER.md). img itself is not modified.
func Samples(img dataset.Image, t Transform, n int, rng *rand.Rand) []dataset.Image {
	seed.MustRand(rng, "nuisance: Samples")
	mustTransform(t, "nuisance: Samples")
	out := make([]dataset.Image, max(n, 0))
	for i := range out {
		out[i] = t.Apply(img, rng)
	}
	return out
}

// SampleDataset returns a dataset holding n fresh draws of t for each image of ds at
// idx, image-major (draws of idx[0] first), with the labels of the originals: a ready
// input for batched evaluation of eKLD.
func SampleDataset(ds *dataset.Dataset, idx []int, t Transform, n int, rng *rand.Rand) *dataset.Dataset {
	seed.MustRand(rng, "nuisance: SampleDataset")
	mustDataset(ds, "nuisance: SampleDataset")
	mustTransform(t, "nuisance: SampleDataset")
	size := ds.ImageSize()
	out := &dataset.Dataset{Name: ds.Name + " samples", C: ds.C, H: ds.H, W: ds.W,
		Pix: make([]uint8, 0, len(idx)*n*size), Labels: make([]int, 0, len(idx)*n),
		Classes: append([]string(nil), ds.Classes...)}
	for _, i := range idx {
		src := ds.Image(i)
		for k := 0; k < n; k++ {
			img := t.Apply(src, rng)
			out.Pix = append(out.Pix, img.Pix...)
			out.Labels = append(out.Labels, ds.Labels[i])
		}
	}
	return out
}

// Grid shows originals beside transformed versions: one row per index in idx, the
// original image first, then n fresh draws of t (drawn from seed), each row labelled
// with its class name.
func Grid(ds *dataset.Dataset, t Transform, idx []int, n int, seed int64) image.Image {
	mustDataset(ds, "nuisance: Grid")
	if t == nil {
		t = Identity{}
	}
	rng := rand.New(rand.NewSource(seed))
	rows := make([][]dataset.Image, len(idx))
	labels := make([]string, len(idx))
	for r, i := range idx {
		src := ds.Image(i)
		rows[r] = append([]dataset.Image{src}, Samples(src, t, n, rng)...)
		if y := ds.Labels[i]; y >= 0 && y < len(ds.Classes) {
			labels[r] = ds.Classes[y]
		}
	}
	return dataset.GridRows(rows, dataset.GridOptions{RowLabels: labels})
}

// CompareGrid shows the same images from two datasets side by side, row by row: the
// first cols images of a above those of b (e.g. RawTrain above Train of a split).
func CompareGrid(a, b *dataset.Dataset, idx []int) image.Image {
	mustDataset(a, "nuisance: CompareGrid (first dataset)")
	mustDataset(b, "nuisance: CompareGrid (second dataset)")
	return dataset.GridRows([][]dataset.Image{a.Images(idx), b.Images(idx)},
		dataset.GridOptions{RowLabels: []string{a.Name, b.Name}})
}

// mustDataset and mustTransform panic, naming the call, when an argument is nil, as
// the functions that return no error cannot say so otherwise: a nil dataset usually
// comes from a loader whose error was dropped.
func mustDataset(ds *dataset.Dataset, who string) {
	if ds == nil {
		panic(who + ": the dataset is nil (was the error of the call that made it ignored?)")
	}
}

func mustTransform(t Transform, who string) {
	if t == nil {
		panic(who + ": the transform is nil: pass one, e.g. nuisance.NewRotation() or nuisance.Identity{}")
	}
}
