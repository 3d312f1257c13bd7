package dataset

import (
	"fmt"
	"math/rand"
	"sort"

	"github.com/goinv/goinv/stdlib/internal/seed"
)

// ClassCounts returns the number of images of each class, indexed by label.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, len(d.Classes))
	for _, y := range d.Labels {
		if y >= 0 && y < len(c) {
			c[y]++
		}
	}
	return c
}

// ByClass returns, for each class, the indices of its images in increasing order.
func (d *Dataset) ByClass() [][]int {
	counts := d.ClassCounts()
	out := make([][]int, len(d.Classes))
	for c, n := range counts {
		out[c] = make([]int, 0, n)
	}
	for i, y := range d.Labels {
		if y >= 0 && y < len(out) {
			out[y] = append(out[y], i)
		}
	}
	return out
}

// Subset returns a new dataset holding copies of the images at idx, in that order
// (indices may repeat). It returns an error if an index is out of range.
func (d *Dataset) Subset(idx []int) (*Dataset, error) {
	n := d.ImageSize()
	out := &Dataset{Name: d.Name, C: d.C, H: d.H, W: d.W,
		Pix: make([]uint8, len(idx)*n), Labels: make([]int, len(idx)), Classes: append([]string(nil), d.Classes...)}
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			return nil, fmt.Errorf("dataset %q: subset index %d (position %d) is outside [0, %d)", d.Name, i, k, d.Len())
		}
		copy(out.Pix[k*n:(k+1)*n], d.Pix[i*n:(i+1)*n])
		out.Labels[k] = d.Labels[i]
	}
	return out, nil
}

// Filter returns a new dataset with the images for which keep returns true, in their
// original order. keep may be an interpreted closure.
func (d *Dataset) Filter(keep func(img Image, label int) bool) *Dataset {
	var idx []int
	for i, y := range d.Labels {
		if keep(d.Image(i), y) {
			idx = append(idx, i)
		}
	}
	out, _ := d.Subset(idx) // indices are in range by construction
	return out
}

// OnlyClasses returns a new dataset with only the images of the given classes, in their
// original order. Labels and class names are kept as they are (not renumbered). It
// panics, saying so, for a class outside [0, NumClasses): a typo would otherwise keep
// fewer classes without a word.
func (d *Dataset) OnlyClasses(classes ...int) *Dataset {
	want := make(map[int]bool, len(classes))
	for _, c := range classes {
		if c < 0 || c >= d.NumClasses() {
			panic(fmt.Sprintf("dataset %q: OnlyClasses: class %d is outside [0, %d)", d.Name, c, d.NumClasses()))
		}
		want[c] = true
	}
	var idx []int
	for i, y := range d.Labels {
		if want[y] {
			idx = append(idx, i)
		}
	}
	out, _ := d.Subset(idx)
	return out
}

// Head returns a new dataset with the first n images (all of them if n ≥ Len).
func (d *Dataset) Head(n int) *Dataset {
	if n > d.Len() {
		n = d.Len()
	}
	if n < 0 {
		n = 0
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	out, _ := d.Subset(idx)
	return out
}

// PerClass returns a new dataset with the first n images of every class (fewer where
// a class has fewer), ordered by class.
func (d *Dataset) PerClass(n int) *Dataset {
	n = max(n, 0) // as Head: no images, not a panic
	var idx []int
	for _, g := range d.ByClass() {
		if len(g) > n {
			g = g[:n]
		}
		idx = append(idx, g...)
	}
	out, _ := d.Subset(idx)
	return out
}

// Shuffle returns a copy of d with its images in a random order drawn from seed.
func (d *Dataset) Shuffle(seed int64) *Dataset {
	out, _ := d.Subset(rand.New(rand.NewSource(seed)).Perm(d.Len()))
	return out
}

// Clone returns a deep copy of d.
func (d *Dataset) Clone() *Dataset {
	return &Dataset{Name: d.Name, C: d.C, H: d.H, W: d.W,
		Pix: append([]uint8(nil), d.Pix...), Labels: append([]int(nil), d.Labels...),
		Classes: append([]string(nil), d.Classes...)}
}

// Concat returns a new dataset holding the images of d followed by those of others.
// All must have the same image shape; the class list of the result is the longest of
// the inputs' (labels are kept as numbers, so inputs should share a class numbering).
func Concat(parts ...*Dataset) (*Dataset, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("dataset: Concat of nothing")
	}
	for i, p := range parts {
		if p == nil {
			return nil, fmt.Errorf("dataset: Concat: part %d of %d is nil (was the error of the call that made it ignored?)", i, len(parts))
		}
	}
	f := parts[0]
	out := &Dataset{Name: f.Name, C: f.C, H: f.H, W: f.W}
	total := 0
	for _, p := range parts {
		if p.C != f.C || p.H != f.H || p.W != f.W {
			return nil, fmt.Errorf("dataset: Concat %q (%d×%d×%d) with %q (%d×%d×%d): image shapes differ",
				f.Name, f.C, f.H, f.W, p.Name, p.C, p.H, p.W)
		}
		if len(p.Classes) > len(out.Classes) {
			out.Classes = append([]string(nil), p.Classes...)
		}
		total += p.Len()
	}
	out.Pix = make([]uint8, 0, total*f.ImageSize())
	out.Labels = make([]int, 0, total)
	for _, p := range parts {
		out.Pix = append(out.Pix, p.Pix...)
		out.Labels = append(out.Labels, p.Labels...)
	}
	return out, nil
}

// Append adds a copy of img with the given label to d. The image must have d's shape
// (an empty dataset with zero shape takes img's) and the label must name a class.
func (d *Dataset) Append(img Image, label int) error {
	if d.Len() == 0 && d.C == 0 && d.H == 0 && d.W == 0 {
		d.C, d.H, d.W = img.C, img.H, img.W
	}
	if img.C != d.C || img.H != d.H || img.W != d.W || len(img.Pix) != d.ImageSize() {
		return fmt.Errorf("dataset %q: append %d×%d×%d image (%d pixels) to a %d×%d×%d dataset",
			d.Name, img.C, img.H, img.W, len(img.Pix), d.C, d.H, d.W)
	}
	if label < 0 || label >= len(d.Classes) {
		return fmt.Errorf("dataset %q: append label %d outside [0, %d)", d.Name, label, len(d.Classes))
	}
	d.Pix = append(d.Pix, img.Pix...)
	d.Labels = append(d.Labels, label)
	return nil
}

// SampleIndices returns up to n indices of each class drawn without replacement using rng,
// each class's indices sorted, classes in label order.
func (d *Dataset) SampleIndices(n int, rng *rand.Rand) [][]int {
	n = max(n, 0)
	seed.MustRand(rng, "dataset: SampleIndices")
	by := d.ByClass()
	for c, g := range by {
		if len(g) > n {
			p := rng.Perm(len(g))[:n]
			sel := make([]int, n)
			for k, j := range p {
				sel[k] = g[j]
			}
			sort.Ints(sel)
			by[c] = sel
		}
	}
	return by
}
