// Package dataset holds labelled image collections: the embedded MNIST, readers for
// IDX, NPY/NPZ (Kuzushiji-49), CIFAR binary batches and image folders, and the one
// Dataset type every other toolkit package consumes.
//
// Pixels are stored as 8-bit values, channel-first (N×C×H×W), because every nuisance
// transformation of the paper (PAPER.md) is defined on 0–255 intensities: the
// background nuisance, for instance, replaces pixels equal to 0 by t ∈ {0..99}.
// Batches convert to float32 in [0, 1] for the models.
package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"
)

// Image is one C×H×W image with 8-bit pixels, channel-first. Pix may be a view into a
// Dataset: copy it (Clone) before writing if the dataset must stay unchanged.
type Image struct {
	C, H, W int
	Pix     []uint8
}

// NewImage returns a zero (black) image of the given shape.
func NewImage(c, h, w int) Image {
	if c < 0 || h < 0 || w < 0 {
		panic(fmt.Sprintf("dataset: NewImage(%d, %d, %d): negative image size", c, h, w))
	}
	return Image{C: c, H: h, W: w, Pix: make([]uint8, c*h*w)}
}

// Clone returns a deep copy of img.
func (img Image) Clone() Image {
	img.Pix = append([]uint8(nil), img.Pix...)
	return img
}

// At returns the pixel of channel c at row y, column x.
func (img Image) At(c, y, x int) uint8 { return img.Pix[(c*img.H+y)*img.W+x] }

// Set sets the pixel of channel c at row y, column x.
func (img Image) Set(c, y, x int, v uint8) { img.Pix[(c*img.H+y)*img.W+x] = v }

// Dataset is a labelled set of equally sized images.
type Dataset struct {
	Name    string
	C, H, W int
	Pix     []uint8  // N×C×H×W, row-major
	Labels  []int    // N labels, each in [0, len(Classes))
	Classes []string // class names, indexed by label
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// NumClasses returns the number of classes.
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// ImageSize returns the number of pixels (C·H·W) of one image.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Image returns image i as a view that shares the dataset's pixels.
func (d *Dataset) Image(i int) Image {
	d.checkIndex(i)
	n := d.ImageSize()
	return Image{C: d.C, H: d.H, W: d.W, Pix: d.Pix[i*n : (i+1)*n : (i+1)*n]}
}

// checkIndex panics with a message naming the dataset and its size when i is not an
// image index: the runtime's "slice bounds out of range [:78400000]" says neither
// which index nor which dataset.
// The bound is the number of images in Pix, which code filling a dataset may grow
// before Labels.
func (d *Dataset) checkIndex(i int) {
	if n := d.ImageSize(); i < 0 || n > 0 && (i+1)*n > len(d.Pix) {
		count := 0
		if n > 0 {
			count = len(d.Pix) / n
		}
		panic(fmt.Sprintf("dataset %q: image index %d outside [0, %d)", d.Name, i, count))
	}
}

// Validate checks that the shapes, pixel count and labels agree.
func (d *Dataset) Validate() error {
	if d.C <= 0 || d.H <= 0 || d.W <= 0 {
		return fmt.Errorf("dataset %q: image shape %d×%d×%d must be positive", d.Name, d.C, d.H, d.W)
	}
	if len(d.Pix) != len(d.Labels)*d.ImageSize() {
		return fmt.Errorf("dataset %q: %d pixels for %d labels of %d×%d×%d images (want %d)",
			d.Name, len(d.Pix), len(d.Labels), d.C, d.H, d.W, len(d.Labels)*d.ImageSize())
	}
	for i, y := range d.Labels {
		if y < 0 || y >= len(d.Classes) {
			return fmt.Errorf("dataset %q: label %d of image %d is outside [0, %d)", d.Name, y, i, len(d.Classes))
		}
	}
	return nil
}

// Batch is a float32 minibatch, channel-first, pixel values scaled to [0, 1].
type Batch struct {
	N, C, H, W int
	X          []float32 // N×C×H×W
	Labels     []int     // N labels
}

// Tensor returns the batch's images as an N×C×H×W gorgonia tensor backed by X (no copy).
func (b Batch) Tensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(b.N, b.C, b.H, b.W), tensor.WithBacking(b.X))
}

// unit maps a pixel to its float32 value in [0, 1]; a table lookup is cheaper than a
// conversion and a multiply per pixel.
var unit = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// Batch gathers the images at idx into a float32 batch in [0, 1].
func (d *Dataset) Batch(idx []int) Batch {
	n := d.ImageSize()
	b := Batch{N: len(idx), C: d.C, H: d.H, W: d.W, X: make([]float32, len(idx)*n), Labels: make([]int, len(idx))}
	for k, i := range idx {
		d.checkIndex(i)
		src := d.Pix[i*n : (i+1)*n]
		dst := b.X[k*n : (k+1)*n]
		for j, p := range src {
			dst[j] = unit[p]
		}
		b.Labels[k] = d.Labels[i]
	}
	return b
}

// BatchRange returns the images lo..hi−1 as a batch (clamped to the dataset).
func (d *Dataset) BatchRange(lo, hi int) Batch {
	lo, hi = max(lo, 0), min(hi, d.Len())
	idx := make([]int, max(hi-lo, 0))
	for k := range idx {
		idx[k] = lo + k
	}
	return d.Batch(idx)
}

// Batches splits the index order (nil means 0..Len−1) into consecutive batches of at
// most size images: the usual way to walk an epoch returned by a Sampler.
func (d *Dataset) Batches(order []int, size int) []Batch {
	if order == nil {
		order = make([]int, d.Len())
		for i := range order {
			order[i] = i
		}
	}
	if size <= 0 {
		size = len(order)
	}
	var out []Batch
	for lo := 0; lo < len(order); lo += size {
		out = append(out, d.Batch(order[lo:min(lo+size, len(order))]))
	}
	return out
}

// Tensor returns the whole dataset as an N×C×H×W float32 tensor in [0, 1].
func (d *Dataset) Tensor() *tensor.Dense { return d.BatchRange(0, d.Len()).Tensor() }

// LabelTensor returns the batch's labels as an N-vector of float32 class indices.
func (b Batch) LabelTensor() *tensor.Dense {
	y := make([]float32, len(b.Labels))
	for i, l := range b.Labels {
		y[i] = float32(l)
	}
	return tensor.New(tensor.WithShape(len(y)), tensor.WithBacking(y))
}

// OneHot returns the batch's labels as an N×classes float32 one-hot tensor.
func (b Batch) OneHot(classes int) *tensor.Dense {
	y := make([]float32, len(b.Labels)*classes)
	for i, l := range b.Labels {
		if l >= 0 && l < classes {
			y[i*classes+l] = 1
		}
	}
	return tensor.New(tensor.WithShape(len(b.Labels), classes), tensor.WithBacking(y))
}

// Image returns image k of the batch converted back to 8-bit pixels.
func (b Batch) Image(k int) Image {
	n := b.C * b.H * b.W
	img := NewImage(b.C, b.H, b.W)
	for j, v := range b.X[k*n : (k+1)*n] {
		img.Pix[j] = clampByte(float64(v) * 255)
	}
	return img
}

// openData opens a data file. A file that is not there gets an error that says where a
// relative path starts: a notebook's kernel runs in the folder Jupyter started it in,
// which need not be the one the data was written to.
func openData(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	return f, nil
}

// pathError is err, from opening or listing path, prefixed with the package name; a
// missing relative path also says where relative paths start (see openData).
func pathError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(path) {
		if wd, werr := os.Getwd(); werr == nil {
			return fmt.Errorf("dataset: %s: no such file or folder (relative paths start at the kernel's working directory %s)", path, wd)
		}
	}
	return fmt.Errorf("dataset: %w", err)
}

// missingFiles returns those of names that dir lacks.
func missingFiles(dir string, names []string) []string {
	var missing []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	return missing
}
