package dataset

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// npyArray is one NumPy array read through npyio, converted to what the toolkit
// needs: 8-bit pixels or integer labels.
type npyArray struct {
	dtype string
	shape []int
	vals  []float64 // all elements, for non-uint8 types
	u8    []uint8   // the elements of a uint8 array (kept as bytes: K49 is 182 M of them)
}

// npyKind parses a NumPy dtype string ("|u1", "<i8", ">f4", …) into kind and size.
func npyKind(dtype string) (kind byte, size int, ok bool) {
	s := strings.TrimLeft(strings.Trim(dtype, "'\" "), "<>|=")
	if len(s) < 2 {
		return 0, 0, false
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil {
		return 0, 0, false
	}
	switch s[0] {
	case 'u', 'i':
		if n == 1 || n == 2 || n == 4 || n == 8 {
			return s[0], n, true
		}
	case 'f':
		if n == 4 || n == 8 {
			return 'f', n, true
		}
	case 'b':
		if n == 1 {
			return 'b', 1, true
		}
	}
	return 0, 0, false
}

// decodeNPY reads one .npy stream. avail, if ≥ 0, bounds the data bytes the stream can
// hold, so that a corrupt shape is reported instead of allocated.
func decodeNPY(r io.Reader, name string, avail int64) (a *npyArray, err error) {
	// npyio parses the header with reflection and may panic on malformed input;
	// a bad file must give an error, never crash the notebook.
	defer func() {
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("%s: malformed NPY data: %v", name, p)
		}
	}()
	rd, err := npy.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: not an NPY array (want magic \\x93NUMPY and a header): %w", name, err)
	}
	h := rd.Header.Descr
	kind, size, ok := npyKind(h.Type)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported dtype %q: want an integer (u1…u8, i1…i8), float (f4, f8) or bool array", name, strings.Trim(h.Type, "'\" "))
	}
	if h.Fortran && len(h.Shape) > 1 {
		return nil, fmt.Errorf("%s: Fortran-ordered array of shape %v: want C order (save with numpy.ascontiguousarray)", name, h.Shape)
	}
	n := int64(1)
	for _, d := range h.Shape {
		if d < 0 || (d > 0 && n > (1<<40)/int64(d)) {
			return nil, fmt.Errorf("%s: shape %v is too large", name, h.Shape)
		}
		n *= int64(d)
	}
	if avail >= 0 && n*int64(size) > avail {
		return nil, fmt.Errorf("%s: truncated: shape %v of %s needs %d bytes, at most %d are there", name, h.Shape, h.Type, n*int64(size), avail)
	}
	a = &npyArray{dtype: strings.Trim(h.Type, "'\" "), shape: append([]int(nil), h.Shape...)}
	conv := func(get func(i int) float64, m int) {
		a.vals = make([]float64, m)
		for i := range a.vals {
			a.vals[i] = get(i)
		}
	}
	var m int
	switch {
	case kind == 'u' && size == 1:
		err = rd.Read(&a.u8)
		m = len(a.u8)
	case kind == 'b':
		var v []bool
		err = rd.Read(&v)
		conv(func(i int) float64 { return b2f(v[i]) }, len(v))
		m = len(v)
	case kind == 'i' && size == 1:
		var v []int8
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'u' && size == 2:
		var v []uint16
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'i' && size == 2:
		var v []int16
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'u' && size == 4:
		var v []uint32
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'i' && size == 4:
		var v []int32
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'u' && size == 8:
		var v []uint64
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'i' && size == 8:
		var v []int64
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'f' && size == 4:
		var v []float32
		err = rd.Read(&v)
		conv(func(i int) float64 { return float64(v[i]) }, len(v))
		m = len(v)
	case kind == 'f' && size == 8:
		err = rd.Read(&a.vals)
		m = len(a.vals)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s: truncated: the data of the %s array of shape %v ends early", name, a.dtype, h.Shape)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s array of shape %v: %w", name, a.dtype, h.Shape, err)
	}
	if int64(m) != n {
		return nil, fmt.Errorf("%s: truncated: shape %v needs %d elements, read %d", name, h.Shape, n, m)
	}
	return a, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// pixels converts the array to 8-bit intensities with the rules of IDX.Pixels.
func (a *npyArray) pixels() []uint8 {
	if a.u8 != nil {
		return a.u8
	}
	unit := true
	isFloat := strings.ContainsRune(a.dtype, 'f')
	for _, v := range a.vals {
		if !(v >= 0 && v <= 1 || math.IsNaN(v)) {
			unit = false
			break
		}
	}
	scale := 1.0
	if isFloat && unit {
		scale = 255
	}
	out := make([]uint8, len(a.vals))
	for i, v := range a.vals {
		out[i] = clampByte(v * scale)
	}
	return out
}

func (a *npyArray) ints(name string) ([]int, error) {
	if len(a.shape) != 1 && !(len(a.shape) == 2 && a.shape[1] == 1) {
		return nil, fmt.Errorf("%s: shape %v is not labels: want (N) or (N, 1)", name, a.shape)
	}
	if a.u8 != nil {
		out := make([]int, len(a.u8))
		for i, v := range a.u8 {
			out[i] = int(v)
		}
		return out, nil
	}
	out := make([]int, len(a.vals))
	for i, v := range a.vals {
		if v != math.Trunc(v) || v < 0 || v > 1<<20 {
			return nil, fmt.Errorf("%s: label %v of image %d is not an integer in [0, 2^20]", name, v, i)
		}
		out[i] = int(v)
	}
	return out, nil
}

// asIDX lets NPY image arrays share the IDX shape rules ((N,H,W), (N,H,W,C), (N,C,H,W)).
func (a *npyArray) images(name string) (n, c, h, w int, pix []uint8, err error) {
	fake := &IDX{Type: IDXUint8, Dims: a.shape, Data: a.pixels()}
	return imagesFromIDX(fake, name)
}

// readNPYFile reads a .npy file, or the first array (by name) of a .npz file, or the
// named array key of a .npz file (key "" means arr_0, else the first).
func readNPYFile(path, key string) (*npyArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var head [4]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return nil, fmt.Errorf("dataset: %s: empty or truncated: want an NPY or NPZ file", path)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if bytes.Equal(head[:], []byte("PK\x03\x04")) || bytes.Equal(head[:], []byte("PK\x05\x06")) {
		a, err := decodeNPZ(f, st.Size(), path, key)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		return a, nil
	}
	a, err := decodeNPY(f, path, st.Size())
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return a, nil
}

// decodeNPZ reads one array of an NPZ archive (a zip of .npy files).
func decodeNPZ(r io.ReaderAt, size int64, name, key string) (*npyArray, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid NPZ (zip) archive: %w", name, err)
	}
	var keys []string
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		k := strings.TrimSuffix(f.Name, ".npy")
		keys = append(keys, k)
		files[k] = f
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: NPZ archive holds no arrays", name)
	}
	if key == "" {
		key = keys[0]
		if _, ok := files["arr_0"]; ok {
			key = "arr_0"
		}
	}
	zf, ok := files[key]
	if !ok {
		return nil, fmt.Errorf("%s: NPZ archive has no array %q (it has %s)", name, key, strings.Join(keys, ", "))
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s[%s]: %w", name, key, err)
	}
	defer rc.Close()
	avail := int64(zf.UncompressedSize64)
	if avail < 0 {
		avail = 0
	}
	return decodeNPY(rc, name+"["+key+"]", avail)
}

// LoadNPY reads images and labels from two NumPy files, each .npy or .npz (the first
// array of an .npz, "arr_0" when present, as numpy.savez_compressed names it).
// Images may be (N, H, W), (N, H, W, C) or (N, C, H, W) of any integer, float or bool
// dtype (floats in [0, 1] are scaled to 0–255); labels (N) of an integer dtype.
// Classes are named "0", "1", …
func LoadNPY(imagesPath, labelsPath string) (*Dataset, error) {
	ia, err := readNPYFile(imagesPath, "")
	if err != nil {
		return nil, err
	}
	la, err := readNPYFile(labelsPath, "")
	if err != nil {
		return nil, err
	}
	n, c, h, w, pix, err := ia.images(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	ls, err := la.ints(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if len(ls) != n {
		return nil, fmt.Errorf("dataset: label count mismatch: %s has %d labels, %s has %d images", labelsPath, len(ls), imagesPath, n)
	}
	name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(imagesPath), ".npz"), ".npy")
	return &Dataset{Name: name, C: c, H: h, W: w, Pix: pix, Labels: ls, Classes: numberedClasses(maxLabel(ls) + 1)}, nil
}

// LoadK49 reads Kuzushiji-49 from dir as released (k49-train-imgs.npz,
// k49-train-labels.npz, k49-test-imgs.npz, k49-test-labels.npz; 232,365 training and
// 38,547 test images, 1×28×28, 49 classes). Class names come from k49_classmap.csv
// when it is there (the character of each class), else "0" … "48".
func LoadK49(dir string) (train, test *Dataset, err error) {
	if train, err = LoadNPY(filepath.Join(dir, "k49-train-imgs.npz"), filepath.Join(dir, "k49-train-labels.npz")); err != nil {
		return nil, nil, err
	}
	if test, err = LoadNPY(filepath.Join(dir, "k49-test-imgs.npz"), filepath.Join(dir, "k49-test-labels.npz")); err != nil {
		return nil, nil, err
	}
	classes := numberedClasses(49)
	if mx := max(len(train.Classes), len(test.Classes)); mx > 49 {
		return nil, nil, fmt.Errorf("dataset: %s: labels go up to %d, K49 has 49 classes", dir, mx-1)
	}
	if names, err := readK49ClassMap(filepath.Join(dir, "k49_classmap.csv")); err == nil && len(names) == 49 {
		classes = names
	}
	train.Name, test.Name = "K49 train", "K49 test"
	train.Classes, test.Classes = classes, append([]string(nil), classes...)
	return train, test, nil
}

func readK49ClassMap(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var names []string
	for i, r := range recs {
		if i == 0 && len(r) > 0 && r[0] == "index" {
			continue
		}
		if len(r) < 3 {
			return nil, fmt.Errorf("%s: line %d: want index,codepoint,char", path, i+1)
		}
		names = append(names, r[2])
	}
	return names, nil
}
