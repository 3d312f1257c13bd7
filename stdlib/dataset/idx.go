package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// IDXType is the element type code of an IDX file (the third byte of its magic number).
type IDXType byte

// The IDX element types.
const (
	IDXUint8   IDXType = 0x08
	IDXInt8    IDXType = 0x09
	IDXInt16   IDXType = 0x0B
	IDXInt32   IDXType = 0x0C
	IDXFloat32 IDXType = 0x0D
	IDXFloat64 IDXType = 0x0E
)

// Size returns the size in bytes of one element, or 0 for an unknown type.
func (t IDXType) Size() int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

// String names the type.
func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "uint8"
	case IDXInt8:
		return "int8"
	case IDXInt16:
		return "int16"
	case IDXInt32:
		return "int32"
	case IDXFloat32:
		return "float32"
	case IDXFloat64:
		return "float64"
	}
	return fmt.Sprintf("unknown(0x%02x)", byte(t))
}

// IDX is a decoded IDX array: its element type, its dimensions and its big-endian
// element bytes.
type IDX struct {
	Type IDXType
	Dims []int
	Data []byte // len = product(Dims) · Type.Size(), big-endian elements
}

// Len returns the number of elements.
func (a *IDX) Len() int {
	if a.Type.Size() == 0 {
		return 0
	}
	return len(a.Data) / a.Type.Size()
}

func (a *IDX) float(i int) float64 {
	switch a.Type {
	case IDXUint8:
		return float64(a.Data[i])
	case IDXInt8:
		return float64(int8(a.Data[i]))
	case IDXInt16:
		return float64(int16(binary.BigEndian.Uint16(a.Data[2*i:])))
	case IDXInt32:
		return float64(int32(binary.BigEndian.Uint32(a.Data[4*i:])))
	case IDXFloat32:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(a.Data[4*i:])))
	case IDXFloat64:
		return math.Float64frombits(binary.BigEndian.Uint64(a.Data[8*i:]))
	}
	return 0
}

// Pixels converts the elements to 8-bit intensities: uint8 as is; integer types
// clamped to [0, 255]; floating-point values scaled by 255 when they all lie in
// [0, 1] and clamped to [0, 255] otherwise (NaN becomes 0).
func (a *IDX) Pixels() []uint8 {
	if a.Type == IDXUint8 {
		return append([]uint8(nil), a.Data...)
	}
	n := a.Len()
	out := make([]uint8, n)
	scale := 1.0
	if a.Type == IDXFloat32 || a.Type == IDXFloat64 {
		unit := true
		for i := 0; i < n && unit; i++ {
			v := a.float(i)
			unit = v >= 0 && v <= 1 || math.IsNaN(v)
		}
		if unit {
			scale = 255
		}
	}
	for i := range out {
		out[i] = clampByte(a.float(i) * scale)
	}
	return out
}

func clampByte(v float64) uint8 {
	switch {
	case math.IsNaN(v) || v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(math.Round(v))
}

// Ints converts the elements to integers; floating-point elements must be integral.
func (a *IDX) Ints() ([]int, error) {
	n := a.Len()
	out := make([]int, n)
	for i := range out {
		v := a.float(i)
		if v != math.Trunc(v) || math.IsInf(v, 0) || math.Abs(v) > 1<<31 {
			return nil, fmt.Errorf("element %d is %v, not an integer", i, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

// maxIDXBytes bounds the data size a header may announce (16 GiB), so that a corrupt
// header is reported instead of attempted.
const maxIDXBytes = 1 << 34

// DecodeIDX reads one IDX array from r, gzip-compressed or raw (detected from the
// first bytes). name is used in error messages; size, if ≥ 0, is the number of bytes
// r holds and lets a truncated raw file be reported before reading it.
func DecodeIDX(r io.Reader, name string, size int64) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(2)
	if err != nil {
		return nil, fmt.Errorf("%s: empty or unreadable: want an IDX file (magic 0x000008.. or gzip): %w", name, eofToTruncated(err))
	}
	var src io.Reader = br
	if head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: bad gzip header: %w", name, err)
		}
		defer zr.Close()
		src, size = zr, -1
	}
	var magic [4]byte
	if _, err := io.ReadFull(src, magic[:]); err != nil {
		return nil, fmt.Errorf("%s: truncated IDX header (want 4 magic bytes): %w", name, eofToTruncated(err))
	}
	t := IDXType(magic[2])
	nd := int(magic[3])
	if magic[0] != 0 || magic[1] != 0 || t.Size() == 0 || nd == 0 {
		return nil, fmt.Errorf("%s: wrong magic number 0x%02x%02x%02x%02x: want 0x0000TTDD with type TT in {08 uint8, 09 int8, 0B int16, 0C int32, 0D float32, 0E float64} and DD ≥ 1 dimensions",
			name, magic[0], magic[1], magic[2], magic[3])
	}
	dimBytes := make([]byte, 4*nd)
	if _, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, fmt.Errorf("%s: truncated IDX header: want %d dimension sizes: %w", name, nd, eofToTruncated(err))
	}
	a := &IDX{Type: t, Dims: make([]int, nd)}
	need := int64(t.Size())
	for i := range a.Dims {
		d := int64(binary.BigEndian.Uint32(dimBytes[4*i:]))
		a.Dims[i] = int(d)
		if d > 0 && need > maxIDXBytes/d {
			return nil, fmt.Errorf("%s: IDX dimensions %v announce more than %d bytes", name, a.Dims[:i+1], int64(maxIDXBytes))
		}
		need *= d
	}
	if size >= 0 {
		if have := size - int64(4+4*nd); have < need {
			return nil, fmt.Errorf("%s: truncated: dimensions %v of %v need %d data bytes, the file has %d", name, a.Dims, t, need, have)
		}
	}
	a.Data, err = readN(src, need)
	if err != nil {
		return nil, fmt.Errorf("%s: reading data: %w", name, err)
	}
	if int64(len(a.Data)) < need {
		return nil, fmt.Errorf("%s: truncated: dimensions %v of %v need %d data bytes, found %d", name, a.Dims, t, need, len(a.Data))
	}
	return a, nil
}

func eofToTruncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readN reads up to need bytes, growing its buffer as data arrives so that a corrupt
// size in a compressed stream costs no more memory than the data actually present.
func readN(r io.Reader, need int64) ([]byte, error) {
	c := need
	if c > 1<<20 {
		c = 1 << 20
	}
	buf := make([]byte, 0, c)
	for int64(len(buf)) < need {
		if len(buf) == cap(buf) {
			nc := 2 * int64(cap(buf))
			if nc > need {
				nc = need
			}
			nb := make([]byte, len(buf), nc)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// ReadIDX reads the IDX file at path (gzip-compressed or raw).
func ReadIDX(path string) (*IDX, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	a, err := DecodeIDX(f, path, size)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return a, nil
}

// imagesFromIDX interprets an IDX array as images: (N, H, W) grayscale, (N, H, W, C)
// with C ≤ 4 channels-last, (N, C, H, W) with C ≤ 4, or (N, H·W) with a square H·W.
func imagesFromIDX(a *IDX, name string) (n, c, h, w int, pix []uint8, err error) {
	d := a.Dims
	switch {
	case len(d) == 3:
		n, c, h, w = d[0], 1, d[1], d[2]
	case len(d) == 4 && d[3] >= 1 && d[3] <= 4:
		n, h, w, c = d[0], d[1], d[2], d[3]
	case len(d) == 4 && d[1] >= 1 && d[1] <= 4:
		n, c, h, w = d[0], d[1], d[2], d[3]
	case len(d) == 2:
		s := int(math.Sqrt(float64(d[1])))
		if s*s != d[1] {
			return 0, 0, 0, 0, nil, fmt.Errorf("%s: images of %d pixels are not square; want dimensions (N, H, W)", name, d[1])
		}
		n, c, h, w = d[0], 1, s, s
	default:
		return 0, 0, 0, 0, nil, fmt.Errorf("%s: dimensions %v are not images: want (N, H, W), (N, H, W, C) or (N, C, H, W) with C ≤ 4", name, d)
	}
	if h == 0 || w == 0 {
		return 0, 0, 0, 0, nil, fmt.Errorf("%s: dimensions %v: images must have positive height and width", name, d)
	}
	pix = a.Pixels()
	if len(d) == 4 && d[3] >= 1 && d[3] <= 4 && c > 1 {
		pix = hwcToCHW(pix, n, h, w, c)
	}
	return n, c, h, w, pix, nil
}

// hwcToCHW reorders N×H×W×C pixels into N×C×H×W.
func hwcToCHW(src []uint8, n, h, w, c int) []uint8 {
	out := make([]uint8, len(src))
	plane := h * w
	for i := 0; i < n; i++ {
		s := src[i*plane*c : (i+1)*plane*c]
		o := out[i*plane*c : (i+1)*plane*c]
		for p := 0; p < plane; p++ {
			for ch := 0; ch < c; ch++ {
				o[ch*plane+p] = s[p*c+ch]
			}
		}
	}
	return out
}

func labelsFromIDX(a *IDX, name string) ([]int, error) {
	if !(len(a.Dims) == 1 || len(a.Dims) == 2 && a.Dims[1] == 1) {
		return nil, fmt.Errorf("%s: dimensions %v are not labels: want (N) or (N, 1)", name, a.Dims)
	}
	ls, err := a.Ints()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i, y := range ls {
		if y < 0 || y > 1<<20 {
			return nil, fmt.Errorf("%s: label %d of image %d is outside [0, 2^20]", name, y, i)
		}
	}
	return ls, nil
}

func decodeIDXPair(images io.Reader, imagesName string, labels io.Reader, labelsName string) (*Dataset, error) {
	ia, err := DecodeIDX(images, imagesName, -1)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	la, err := DecodeIDX(labels, labelsName, -1)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return idxDataset(ia, imagesName, la, labelsName)
}

func idxDataset(ia *IDX, imagesName string, la *IDX, labelsName string) (*Dataset, error) {
	n, c, h, w, pix, err := imagesFromIDX(ia, imagesName)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	ls, err := labelsFromIDX(la, labelsName)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if len(ls) != n {
		return nil, fmt.Errorf("dataset: label count mismatch: %s has %d labels, %s has %d images", labelsName, len(ls), imagesName, n)
	}
	d := &Dataset{C: c, H: h, W: w, Pix: pix, Labels: ls}
	d.Classes = numberedClasses(maxLabel(ls) + 1)
	return d, nil
}

func maxLabel(ls []int) int {
	m := -1
	for _, y := range ls {
		if y > m {
			m = y
		}
	}
	return m
}

func numberedClasses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

// LoadIDX reads an images file and a labels file in IDX format (gzip or raw) into a
// dataset with classes named "0", "1", … (set Classes afterwards to name them).
func LoadIDX(imagesPath, labelsPath string) (*Dataset, error) {
	ia, err := ReadIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	la, err := ReadIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	d, err := idxDataset(ia, imagesPath, la, labelsPath)
	if err != nil {
		return nil, err
	}
	d.Name = strings.TrimSuffix(filepath.Base(imagesPath), ".gz")
	return d, nil
}

// FashionMNISTClasses are the class names of Fashion-MNIST.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// KMNISTClasses are the romanized class names of Kuzushiji-MNIST (お き す つ な は ま や れ を).
var KMNISTClasses = []string{"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"}

// LoadIDXDir reads an MNIST-layout directory — train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each
// optionally .gz — as Fashion-MNIST and KMNIST ship. classes names the classes
// (nil for "0", "1", …); name names the datasets.
func LoadIDXDir(dir, name string, classes []string) (train, test *Dataset, err error) {
	find := func(base string) (string, error) {
		for _, p := range []string{base + ".gz", base, strings.ReplaceAll(base, "-idx", ".idx") + ".gz", strings.ReplaceAll(base, "-idx", ".idx")} {
			full := filepath.Join(dir, p)
			if _, err := os.Stat(full); err == nil {
				return full, nil
			}
		}
		return "", fmt.Errorf("dataset: %s: missing file: want %s or %s.gz", dir, base, base)
	}
	load := func(split, img, lab string) (*Dataset, error) {
		ip, err := find(img)
		if err != nil {
			return nil, err
		}
		lp, err := find(lab)
		if err != nil {
			return nil, err
		}
		d, err := LoadIDX(ip, lp)
		if err != nil {
			return nil, err
		}
		d.Name = name + " " + split
		if classes != nil {
			if len(d.Classes) > len(classes) {
				return nil, fmt.Errorf("dataset: %s: labels go up to %d but %d class names were given", lp, len(d.Classes)-1, len(classes))
			}
			d.Classes = append([]string(nil), classes...)
		}
		return d, nil
	}
	if train, err = load("train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"); err != nil {
		return nil, nil, err
	}
	if test, err = load("test", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"); err != nil {
		return nil, nil, err
	}
	// Both splits share one class list even if the test split lacks the last class.
	if len(test.Classes) < len(train.Classes) {
		test.Classes = append([]string(nil), train.Classes...)
	} else {
		train.Classes = append([]string(nil), test.Classes...)
	}
	return train, test, nil
}

// LoadFashionMNIST reads Fashion-MNIST from dir (the four IDX files, gzip or raw).
func LoadFashionMNIST(dir string) (train, test *Dataset, err error) {
	return LoadIDXDir(dir, "Fashion-MNIST", FashionMNISTClasses)
}

// LoadKMNIST reads Kuzushiji-MNIST from dir (the four IDX files, gzip or raw).
func LoadKMNIST(dir string) (train, test *Dataset, err error) {
	return LoadIDXDir(dir, "KMNIST", KMNISTClasses)
}
