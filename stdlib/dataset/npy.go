package dataset

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
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
)

// npyArray is one NumPy array, converted to what the toolkit needs: 8-bit pixels or
// integer labels.
type npyArray struct {
	dtype string
	shape []int
	vals  []float64 // all elements, for non-uint8 types
	u8    []uint8   // the elements of a uint8 array (kept as bytes: K49 is 182 M of them)
}

// npyRewrite is the advice for a file whose bytes are not what the NPY format says.
const npyRewrite = "the file is damaged or incomplete (an interrupted download or copy?): fetch or write it again (numpy.save)"

// npyKind parses a NumPy dtype string ("|u1", "<i8", ">f4", …) into kind, size and
// byte order.
func npyKind(dtype string) (kind byte, size int, order binary.ByteOrder, ok bool) {
	order = binary.LittleEndian
	switch {
	case strings.HasPrefix(dtype, ">"):
		order = binary.BigEndian
	case strings.HasPrefix(dtype, "="):
		order = binary.NativeEndian
	}
	s := strings.TrimLeft(dtype, "<>|=")
	if len(s) < 2 {
		return 0, 0, nil, false
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil {
		return 0, 0, nil, false
	}
	switch s[0] {
	case 'u', 'i':
		if n == 1 || n == 2 || n == 4 || n == 8 {
			return s[0], n, order, true
		}
	case 'f':
		if n == 4 || n == 8 {
			return 'f', n, order, true
		}
	case 'b':
		if n == 1 {
			return 'b', 1, order, true
		}
	}
	return 0, 0, nil, false
}

// npyHeader is what the header of a .npy file says about its array
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
type npyHeader struct {
	descr   string // the dtype, e.g. "|u1"
	fortran bool
	shape   []int
	size    int64 // bytes before the data: magic, version, header length and dictionary
}

// maxNPYHeader bounds the header length a file may claim: numpy writes a few hundred
// bytes, and a damaged length must not become a gigabyte allocation.
const maxNPYHeader = 1 << 20

// readNPYHeader reads the NPY preamble and header dictionary of r. avail, if ≥ 0, is
// the size of the stream. Every error says what was found where an NPY header was
// expected.
func readNPYHeader(r io.Reader, name string, avail int64) (npyHeader, error) {
	var pre [12]byte
	got, _ := io.ReadFull(r, pre[:8])
	if got < 6 || string(pre[:6]) != "\x93NUMPY" {
		return npyHeader{}, fmt.Errorf("%s: not an NPY array: %s", name, describeStart(pre[:got]))
	}
	if got < 8 {
		return npyHeader{}, fmt.Errorf("%s: truncated: the file ends after %d bytes, inside the NPY preamble; %s", name, got, npyRewrite)
	}
	major, minor := pre[6], pre[7]
	lenBytes := 4
	switch major {
	case 1:
		lenBytes = 2
	case 2, 3:
	default:
		return npyHeader{}, fmt.Errorf("%s: NPY format version %d.%d, want 1.0, 2.0 or 3.0 (what numpy.save writes); %s", name, major, minor, npyRewrite)
	}
	if n, _ := io.ReadFull(r, pre[8:8+lenBytes]); n < lenBytes {
		return npyHeader{}, fmt.Errorf("%s: truncated: the file ends after %d bytes, inside the NPY preamble; %s", name, 8+n, npyRewrite)
	}
	hlen := int64(binary.LittleEndian.Uint16(pre[8:]))
	if lenBytes == 4 {
		hlen = int64(binary.LittleEndian.Uint32(pre[8:]))
	}
	h := npyHeader{size: int64(8+lenBytes) + hlen}
	if hlen > maxNPYHeader {
		return npyHeader{}, fmt.Errorf("%s: the NPY header claims %d bytes (numpy writes a few hundred); %s", name, hlen, npyRewrite)
	}
	if avail >= 0 && h.size > avail {
		return npyHeader{}, fmt.Errorf("%s: truncated: the NPY header needs %d bytes, the file has %d; %s", name, h.size, avail, npyRewrite)
	}
	text := make([]byte, hlen)
	if n, _ := io.ReadFull(r, text); int64(n) < hlen {
		return npyHeader{}, fmt.Errorf("%s: truncated: the file ends %d bytes into its %d-byte NPY header; %s", name, n, hlen, npyRewrite)
	}
	if err := h.parse(string(text)); err != nil {
		shown := strings.TrimSpace(string(text))
		if len(shown) > 120 {
			shown = shown[:120] + "…"
		}
		return npyHeader{}, fmt.Errorf("%s: the NPY header %q is not a NumPy header dictionary ({'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W)}): %v; %s", name, shown, err, npyRewrite)
	}
	return h, nil
}

// describeStart says what a file that should be NPY looks like, from its first bytes.
func describeStart(b []byte) string {
	switch {
	case len(b) == 0:
		return "the file is empty; " + npyRewrite
	case bytes.HasPrefix([]byte("\x93NUMPY"), b):
		return fmt.Sprintf("truncated: the file ends after %d bytes, inside the NPY magic; %s", len(b), npyRewrite)
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return "the file is gzip-compressed: decompress it first (gunzip), then load the .npy inside"
	case isText(b):
		return fmt.Sprintf("the file starts with %q, which is text, not a binary NumPy array (a CSV or text file renamed .npy?): "+
			"load it in NumPy (numpy.loadtxt) and write it with numpy.save", b)
	}
	return fmt.Sprintf("the file starts with bytes % x, not the NPY magic \\x93NUMPY: it is not a NumPy .npy file (write one with numpy.save)", b)
}

// isText reports whether b looks like the start of a text file.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// parse reads the header dictionary, a Python literal such as
// {'descr': '|u1', 'fortran_order': False, 'shape': (3, 28, 28), }, in any key order.
func (h *npyHeader) parse(text string) error {
	p := pyLiteral{s: text}
	if !p.consume('{') {
		return errors.New("it does not start with {")
	}
	seen := map[string]bool{}
	for {
		if p.consume('}') {
			break
		}
		key, err := p.value()
		if err != nil {
			return err
		}
		if !p.consume(':') {
			return fmt.Errorf("no ':' after key %s", key)
		}
		val, err := p.value()
		if err != nil {
			return err
		}
		switch key {
		case "'descr'", `"descr"`:
			h.descr = val // a structured dtype is a list; decodeNPY says it is unsupported
			if len(val) >= 2 && val[0] == val[len(val)-1] && (val[0] == '\'' || val[0] == '"') {
				h.descr = val[1 : len(val)-1]
			}
		case "'fortran_order'", `"fortran_order"`:
			if val != "True" && val != "False" {
				return fmt.Errorf("'fortran_order' is %s, want True or False", val)
			}
			h.fortran = val == "True"
		case "'shape'", `"shape"`:
			if h.shape, err = parseShape(val); err != nil {
				return err
			}
		}
		seen[strings.Trim(key, `'"`)] = true
		if !p.consume(',') {
			if !p.consume('}') {
				return fmt.Errorf("no ',' or '}' after %s: %s", key, val)
			}
			break
		}
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return fmt.Errorf("it has no '%s'", k)
		}
	}
	return nil
}

// parseShape parses a shape tuple: "()", "(5,)", "(3, 28, 28)" (Python 2 wrote "3L").
func parseShape(val string) ([]int, error) {
	if len(val) < 2 || val[0] != '(' || val[len(val)-1] != ')' {
		return nil, fmt.Errorf("'shape' is %s, want a tuple such as (N, H, W)", val)
	}
	shape := []int{}
	for _, tok := range strings.Split(val[1:len(val)-1], ",") {
		tok = strings.TrimSuffix(strings.TrimSpace(tok), "L")
		if tok == "" {
			continue
		}
		d, err := strconv.Atoi(tok)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("'shape' is %s: %q is not a non-negative integer", val, tok)
		}
		shape = append(shape, d)
	}
	return shape, nil
}

// pyLiteral scans the few Python literals an NPY header holds.
type pyLiteral struct {
	s string
	i int
}

func (p *pyLiteral) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// consume skips spaces and then c, reporting whether c was there.
func (p *pyLiteral) consume(c byte) bool {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// value returns the text of the next value: a quoted string, a bracketed group
// (tuple, list or dict, nested, as a structured dtype has) or a bare word (True, 3).
func (p *pyLiteral) value() (string, error) {
	p.skipSpace()
	start, depth := p.i, 0
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '\'' || c == '"':
			end := strings.IndexByte(p.s[p.i+1:], c)
			if end < 0 {
				return "", fmt.Errorf("unterminated string %s", p.s[p.i:])
			}
			p.i += end + 2
		case c == '(' || c == '[' || c == '{':
			depth++
			p.i++
		case depth > 0 && (c == ')' || c == ']' || c == '}'):
			depth--
			p.i++
		case depth == 0 && strings.IndexByte(",:)]}", c) >= 0:
			return p.end(start)
		default:
			p.i++
		}
	}
	if depth > 0 {
		return "", fmt.Errorf("unclosed bracket in %s", p.s[start:])
	}
	return p.end(start)
}

func (p *pyLiteral) end(start int) (string, error) {
	v := strings.TrimSpace(p.s[start:p.i])
	if v == "" {
		return "", fmt.Errorf("a value is missing at %q", p.s[start:])
	}
	return v, nil
}

// decodeNPY reads one .npy stream. avail, if ≥ 0, bounds the bytes the stream can
// hold, so that a damaged shape is reported instead of allocated.
func decodeNPY(r io.Reader, name string, avail int64) (*npyArray, error) {
	h, err := readNPYHeader(r, name, avail)
	if err != nil {
		return nil, err
	}
	kind, size, order, ok := npyKind(h.descr)
	if !ok && strings.HasPrefix(h.descr, "[") {
		return nil, fmt.Errorf("%s: unsupported structured dtype %s: want a plain integer, float or bool array; save one field, e.g. numpy.save(path, a['image'])", name, h.descr)
	}
	if !ok {
		return nil, fmt.Errorf("%s: unsupported dtype %q: want an integer (u1…u8, i1…i8), float (f4, f8) or bool array; "+
			"convert it in NumPy first, e.g. numpy.save(path, a.astype(numpy.uint8)) for images or a.astype(numpy.int64) for labels", name, h.descr)
	}
	if h.fortran && len(h.shape) > 1 {
		return nil, fmt.Errorf("%s: Fortran-ordered array of shape %v: want C order (save numpy.ascontiguousarray(a))", name, h.shape)
	}
	n := int64(1)
	for _, d := range h.shape {
		if d > 0 && n > (1<<40)/int64(d) {
			return nil, fmt.Errorf("%s: shape %v is too large; %s", name, h.shape, npyRewrite)
		}
		n *= int64(d)
	}
	need := n * int64(size)
	if avail >= 0 && need > avail-h.size {
		return nil, fmt.Errorf("%s: truncated: the header says %s array of shape %v, %d bytes of data, but only %d follow it; %s",
			name, h.descr, h.shape, need, avail-h.size, npyRewrite)
	}
	a := &npyArray{dtype: h.descr, shape: h.shape}
	data := make([]byte, need)
	if got, err := io.ReadFull(r, data); int64(got) < need {
		if err != io.ErrUnexpectedEOF && err != io.EOF { // a damaged .npz member: a checksum or deflate error
			return nil, fmt.Errorf("%s: reading the data of the %s array of shape %v: %v; %s", name, h.descr, h.shape, err, npyRewrite)
		}
		return nil, fmt.Errorf("%s: truncated: the data of the %s array of shape %v ends after %d of %d bytes; %s",
			name, h.descr, h.shape, got, need, npyRewrite)
	}
	if kind == 'u' && size == 1 {
		a.u8 = data
		return a, nil
	}
	a.vals = make([]float64, n)
	for i := range a.vals {
		e := data[i*size : (i+1)*size]
		switch {
		case kind == 'b':
			a.vals[i] = float64(min(e[0], 1))
		case kind == 'i' && size == 1:
			a.vals[i] = float64(int8(e[0]))
		case kind == 'u' && size == 2:
			a.vals[i] = float64(order.Uint16(e))
		case kind == 'i' && size == 2:
			a.vals[i] = float64(int16(order.Uint16(e)))
		case kind == 'u' && size == 4:
			a.vals[i] = float64(order.Uint32(e))
		case kind == 'i' && size == 4:
			a.vals[i] = float64(int32(order.Uint32(e)))
		case kind == 'u' && size == 8:
			a.vals[i] = float64(order.Uint64(e))
		case kind == 'i' && size == 8:
			a.vals[i] = float64(int64(order.Uint64(e)))
		case kind == 'f' && size == 4:
			a.vals[i] = float64(math.Float32frombits(order.Uint32(e)))
		case kind == 'f' && size == 8:
			a.vals[i] = math.Float64frombits(order.Uint64(e))
		}
	}
	return a, nil
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

// images lets NPY image arrays share the IDX shape rules ((N,H,W), (N,H,W,C), (N,C,H,W)).
func (a *npyArray) images(name string) (n, c, h, w int, pix []uint8, err error) {
	if len(a.shape) == 1 {
		return 0, 0, 0, 0, nil, fmt.Errorf("%s: shape %v is one number per image, not images (a labels file? LoadNPY takes the images file first, then the labels): want (N, H, W), (N, H, W, C) or (N, C, H, W)", name, a.shape)
	}
	fake := &IDX{Type: IDXUint8, Dims: a.shape, Data: a.pixels()}
	return imagesFromIDX(fake, name)
}

// readNPYFile reads a .npy file, or the first array (by name) of a .npz file, or the
// named array key of a .npz file (key "" means arr_0, else the first).
func readNPYFile(path, key string) (*npyArray, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if n == 4 && (bytes.Equal(head[:], []byte("PK\x03\x04")) || bytes.Equal(head[:], []byte("PK\x05\x06"))) {
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
		return nil, fmt.Errorf("%s: not a complete NPZ archive (%v): an .npz is a zip file, and this one is damaged or cut short (an interrupted download?); fetch or write it again (numpy.savez)", name, err)
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
		return nil, fmt.Errorf("%s[%s]: %w; %s", name, key, err, npyRewrite)
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

// k49Files are the files of the Kuzushiji-49 release LoadK49 reads.
var k49Files = []string{"k49-train-imgs.npz", "k49-train-labels.npz", "k49-test-imgs.npz", "k49-test-labels.npz"}

// LoadK49 reads Kuzushiji-49 from dir as released (k49-train-imgs.npz,
// k49-train-labels.npz, k49-test-imgs.npz, k49-test-labels.npz; 232,365 training and
// 38,547 test images, 1×28×28, 49 classes). Class names come from k49_classmap.csv
// when it is there (the character of each class), else "0" … "48".
func LoadK49(dir string) (train, test *Dataset, err error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		wd, _ := os.Getwd()
		return nil, nil, fmt.Errorf("dataset: LoadK49: there is no folder %s (relative paths start at the kernel's working directory %s): "+
			"pass the folder that holds the Kuzushiji-49 files %s (https://github.com/rois-codh/kmnist)", dir, wd, strings.Join(k49Files, ", "))
	}
	var missing []string
	for _, f := range k49Files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("dataset: LoadK49: %s has no %s: K49 is the four files %s of the Kuzushiji-49 release (https://github.com/rois-codh/kmnist), in one folder",
			dir, strings.Join(missing, ", "), strings.Join(k49Files, ", "))
	}
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
