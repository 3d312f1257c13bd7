package nuisance

import (
	"fmt"
	"math/rand"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/internal/seed"
)

// DilateErode thickens or thins strokes: with probability PDilate it dilates with a
// k×k square structuring element, k drawn uniformly from DilateSizes, and otherwise
// erodes with k drawn from ErodeSizes, in one pass. The zero value is the paper's
// nuisance: p = 0.6, dilation k ∈ {2, 3, 4}, erosion k ∈ {1, 2} (k = 1 leaves the
// image unchanged).
type DilateErode struct {
	// PDilate is the probability of dilating. 0 means the paper's 0.6; a negative
	// value means never dilate (always erode).
	PDilate     float64
	DilateSizes []int // nil means {2, 3, 4}
	ErodeSizes  []int // nil means {1, 2}
}

// NewDilateErode returns the paper's stroke-thickness nuisance.
func NewDilateErode() *DilateErode {
	return &DilateErode{PDilate: 0.6, DilateSizes: []int{2, 3, 4}, ErodeSizes: []int{1, 2}}
}

func (d DilateErode) params() (p float64, dil, ero []int) {
	p, dil, ero = d.PDilate, d.DilateSizes, d.ErodeSizes
	if p == 0 {
		p = 0.6
	}
	if p < 0 {
		p = 0
	}
	if dil == nil {
		dil = []int{2, 3, 4}
	}
	if ero == nil {
		ero = []int{1, 2}
	}
	return p, dil, ero
}

// Apply draws dilation or erosion and its size, and applies it to a copy of src.
func (d DilateErode) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	seed.MustRand(rng, "nuisance: DilateErode.Apply")
	p, dil, ero := d.params()
	if rng.Float64() < p && len(dil) > 0 {
		return Dilate(src, dil[rng.Intn(len(dil))])
	}
	if len(ero) > 0 {
		return Erode(src, ero[rng.Intn(len(ero))])
	}
	return src.Clone()
}

// String describes the transform.
func (d DilateErode) String() string {
	p, dil, ero := d.params()
	return fmt.Sprintf("DilateErode(p=%g dilate k∈%v, else erode k∈%v)", p, dil, ero)
}

// Dilate returns the grey-scale dilation of src by a k×k square: each output pixel is
// the maximum of the k×k window anchored as OpenCV anchors it (offsets −⌊k/2⌋ …
// k−1−⌊k/2⌋), pixels outside the image ignored. Channels are processed separately.
// k ≤ 1 returns a copy.
func Dilate(src dataset.Image, k int) dataset.Image { return morph(src, k, true) }

// Erode returns the grey-scale erosion of src by a k×k square (the minimum over the
// window), with the same anchoring and border rule as Dilate.
func Erode(src dataset.Image, k int) dataset.Image { return morph(src, k, false) }

// morph is written by hand: no well-kept pure-Go library does grey-scale morphology
// (gocv needs OpenCV through cgo, and the imaging libraries stop at convolution
// filters). A square element is separable, so one pass along rows then one along
// columns costs O(k) per pixel instead of O(k²).
func morph(src dataset.Image, k int, dilate bool) dataset.Image {
	out := src.Clone()
	if k <= 1 {
		return out
	}
	// Erosion is dilation of the negative: min(x) = 255 − max(255 − x). One max
	// kernel keeps the inner loops branch-free.
	if !dilate {
		for i, p := range out.Pix {
			out.Pix[i] = 255 - p
		}
	}
	h, w := src.H, src.W
	lo := -(k / 2)
	hi := k - 1 - k/2
	n := h * w
	tmp := make([]uint8, n)
	for ch := 0; ch < src.C; ch++ {
		o := out.Pix[ch*n : (ch+1)*n]
		for y := 0; y < h; y++ {
			row := o[y*w : (y+1)*w]
			trow := tmp[y*w : (y+1)*w]
			for x := range trow {
				a, b := x+lo, x+hi
				if a < 0 {
					a = 0
				}
				if b > w-1 {
					b = w - 1
				}
				v := row[a]
				for _, p := range row[a+1 : b+1] {
					v = max(v, p)
				}
				trow[x] = v
			}
		}
		for y := 0; y < h; y++ {
			a, b := y+lo, y+hi
			if a < 0 {
				a = 0
			}
			if b > h-1 {
				b = h - 1
			}
			orow := o[y*w : (y+1)*w]
			copy(orow, tmp[a*w:(a+1)*w])
			for yy := a + 1; yy <= b; yy++ {
				r := tmp[yy*w : (yy+1)*w]
				for x, p := range r {
					orow[x] = max(orow[x], p)
				}
			}
		}
	}
	if !dilate {
		for i, p := range out.Pix {
			out.Pix[i] = 255 - p
		}
	}
	return out
}
