package dataset

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic, dims, big-endian elements.
func idxBytes(t IDXType, dims []int, elems []float64) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, byte(t), byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	for _, v := range elems {
		switch t {
		case IDXUint8:
			b.WriteByte(uint8(v))
		case IDXInt8:
			b.WriteByte(byte(int8(v)))
		case IDXInt16:
			binary.Write(&b, binary.BigEndian, int16(v))
		case IDXInt32:
			binary.Write(&b, binary.BigEndian, int32(v))
		case IDXFloat32:
			binary.Write(&b, binary.BigEndian, float32(v))
		case IDXFloat64:
			binary.Write(&b, binary.BigEndian, v)
		}
	}
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func seq(n int, f func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestIDXReader(t *testing.T) {
	dir := t.TempDir()
	pix := seq(3*4*5, func(i int) float64 { return float64(i * 4 % 256) })
	labels := []float64{2, 0, 1}
	for _, compress := range []bool{false, true} {
		ib, lb := idxBytes(IDXUint8, []int{3, 4, 5}, pix), idxBytes(IDXUint8, []int{3}, labels)
		suffix := ""
		if compress {
			ib, lb, suffix = gz(ib), gz(lb), ".gz"
		}
		ip := write(t, dir, "imgs.idx"+suffix, ib)
		lp := write(t, dir, "labels.idx"+suffix, lb)
		d, err := LoadIDX(ip, lp)
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != 3 || d.C != 1 || d.H != 4 || d.W != 5 || !reflect.DeepEqual(d.Labels, []int{2, 0, 1}) || len(d.Classes) != 3 {
			t.Fatalf("gzip=%v: got %d images %d×%d×%d labels %v classes %v", compress, d.Len(), d.C, d.H, d.W, d.Labels, d.Classes)
		}
		if d.Image(1).At(0, 2, 3) != uint8((20+13)*4%256) || d.Pix[59] != uint8(59*4%256) {
			t.Fatalf("gzip=%v: wrong pixel values", compress)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	// Other dtypes: float32 in [0,1] scales to 0–255, int16 clamps, float labels.
	fp := write(t, dir, "f.idx", idxBytes(IDXFloat32, []int{2, 2, 2}, []float64{0, 0.5, 1, 0.25, 0, 0, 1, 1}))
	ip := write(t, dir, "i.idx", idxBytes(IDXInt16, []int{2, 2, 2}, []float64{-5, 7, 300, 255, 0, 1, 2, 3}))
	lp := write(t, dir, "fl.idx", idxBytes(IDXFloat64, []int{2}, []float64{1, 0}))
	d, err := LoadIDX(fp, lp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Pix, []uint8{0, 128, 255, 64, 0, 0, 255, 255}) || !reflect.DeepEqual(d.Labels, []int{1, 0}) {
		t.Errorf("float32 images %v labels %v", d.Pix, d.Labels)
	}
	d, err = LoadIDX(ip, write(t, dir, "l32.idx", idxBytes(IDXInt32, []int{2}, []float64{0, 1})))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Pix, []uint8{0, 7, 255, 255, 0, 1, 2, 3}) {
		t.Errorf("int16 images %v", d.Pix)
	}
	// Channels-last colour images.
	cp := write(t, dir, "rgb.idx", idxBytes(IDXUint8, []int{1, 2, 2, 3}, seq(12, func(i int) float64 { return float64(i) })))
	d, err = LoadIDX(cp, write(t, dir, "l1.idx", idxBytes(IDXUint8, []int{1}, []float64{0})))
	if err != nil {
		t.Fatal(err)
	}
	if d.C != 3 || !bytes.Equal(d.Pix, []uint8{0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}) {
		t.Errorf("HWC→CHW: C=%d pix %v", d.C, d.Pix)
	}
}

func TestIDXErrors(t *testing.T) {
	dir := t.TempDir()
	good := idxBytes(IDXUint8, []int{3, 4, 5}, make([]float64, 60))
	labels := write(t, dir, "labels", idxBytes(IDXUint8, []int{3}, []float64{0, 1, 2}))
	_, err := LoadIDX(filepath.Join(dir, "nope"), labels)
	wantErr(t, err, "nope", "no such file")

	bad := append([]byte{0, 0, 0x07, 3}, good[4:]...)
	_, err = LoadIDX(write(t, dir, "badtype", bad), labels)
	wantErr(t, err, "badtype", "wrong magic", "0x00000703", "want 0x0000TTDD")

	_, err = LoadIDX(write(t, dir, "jpeg.idx", []byte("\xff\xd8\xff\xe0 not idx at all")), labels)
	wantErr(t, err, "jpeg.idx", "wrong magic")

	_, err = LoadIDX(write(t, dir, "short", good[:50]), labels)
	wantErr(t, err, "short", "truncated", "need 60 data bytes")

	_, err = LoadIDX(write(t, dir, "short.gz", gz(good[:50])), labels)
	wantErr(t, err, "short.gz", "truncated", "need 60 data bytes, found 34")

	_, err = LoadIDX(write(t, dir, "hdr", good[:6]), labels)
	wantErr(t, err, "hdr", "truncated IDX header")

	_, err = LoadIDX(write(t, dir, "empty", nil), labels)
	wantErr(t, err, "empty")

	_, err = LoadIDX(write(t, dir, "badgz", []byte{0x1f, 0x8b, 1, 2, 3}), labels)
	wantErr(t, err, "badgz", "gzip")

	ip := write(t, dir, "imgs", good)
	_, err = LoadIDX(ip, write(t, dir, "two-labels", idxBytes(IDXUint8, []int{2}, []float64{0, 1})))
	wantErr(t, err, "label count mismatch", "two-labels", "has 2 labels", "imgs", "has 3 images")

	_, err = LoadIDX(ip, write(t, dir, "fraclabels", idxBytes(IDXFloat32, []int{3}, []float64{0, 1.5, 2})))
	wantErr(t, err, "fraclabels", "not an integer")

	_, err = LoadIDX(write(t, dir, "vec", idxBytes(IDXUint8, []int{5}, make([]float64, 5))), labels)
	wantErr(t, err, "vec", "not images")

	huge := []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	_, err = LoadIDX(write(t, dir, "huge", huge), labels)
	wantErr(t, err, "huge")
}

func TestMNISTEmbedded(t *testing.T) {
	train, test, err := MNIST()
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.C != 1 || train.H != 28 || train.W != 28 {
		t.Fatalf("MNIST sizes %d/%d, shape %d×%d×%d", train.Len(), test.Len(), train.C, train.H, train.W)
	}
	// The published per-digit counts of MNIST.
	if got, want := train.ClassCounts(), []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}; !reflect.DeepEqual(got, want) {
		t.Errorf("train counts %v, want %v", got, want)
	}
	if got, want := test.ClassCounts(), []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}; !reflect.DeepEqual(got, want) {
		t.Errorf("test counts %v, want %v", got, want)
	}
	if !reflect.DeepEqual(train.Labels[:10], []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}) || !reflect.DeepEqual(test.Labels[:5], []int{7, 2, 1, 0, 4}) {
		t.Errorf("first labels %v / %v", train.Labels[:10], test.Labels[:5])
	}
	// Pixels against an independent decode of the embedded file: gzip, skip the
	// 16-byte header.
	raw, _ := mnistFS.ReadFile("data/t10k-images-idx3-ubyte.gz")
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(zr)
	if !bytes.Equal(all[16:], test.Pix) {
		t.Errorf("test pixels differ from the raw file")
	}
	img := train.Image(0)
	if img.At(0, 0, 0) != 0 || img.At(0, 14, 14) == 0 {
		t.Errorf("train image 0: corner %d, centre %d", img.At(0, 0, 0), img.At(0, 14, 14))
	}
	// Callers get copies: writing to one does not change the next call's result.
	train.Pix[500] = 77
	again, _, _ := MNIST()
	if again.Pix[500] == 77 && img.Pix[500] != 77 {
		t.Errorf("MNIST returned shared pixels")
	}
}

// npyBytes writes a .npy v1.0 file by hand (independent of the reader's library).
func npyBytes(descr string, shape []int, data []byte) []byte {
	sh := make([]string, len(shape))
	for i, s := range shape {
		sh[i] = fmt.Sprint(s)
	}
	shs := strings.Join(sh, ", ")
	if len(shape) == 1 {
		shs += ","
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shs)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

func npzBytes(t testing.TB, arrays map[string][]byte) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for k, v := range arrays {
		f, err := w.Create(k + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(v)
	}
	w.Close()
	return b.Bytes()
}

func TestNPYReader(t *testing.T) {
	dir := t.TempDir()
	pix := make([]byte, 4*3*3)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	lab := make([]byte, 4*8)
	for i, y := range []int64{3, 1, 48, 0} {
		binary.LittleEndian.PutUint64(lab[8*i:], uint64(y))
	}
	ip := write(t, dir, "imgs.npy", npyBytes("|u1", []int{4, 3, 3}, pix))
	lp := write(t, dir, "labels.npy", npyBytes("<i8", []int{4}, lab))
	d, err := LoadNPY(ip, lp)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 4 || d.H != 3 || d.W != 3 || d.C != 1 || !bytes.Equal(d.Pix, pix) || !reflect.DeepEqual(d.Labels, []int{3, 1, 48, 0}) || d.NumClasses() != 49 {
		t.Fatalf("npy: %v", d)
	}
	// NPZ, as the K49 release ships it, with a class map.
	k := t.TempDir()
	write(t, k, "k49-train-imgs.npz", npzBytes(t, map[string][]byte{"arr_0": npyBytes("|u1", []int{4, 3, 3}, pix)}))
	write(t, k, "k49-train-labels.npz", npzBytes(t, map[string][]byte{"arr_0": npyBytes("<i8", []int{4}, lab)}))
	write(t, k, "k49-test-imgs.npz", npzBytes(t, map[string][]byte{"arr_0": npyBytes("|u1", []int{1, 3, 3}, pix[:9])}))
	lab1 := make([]byte, 1)
	lab1[0] = 5
	write(t, k, "k49-test-labels.npz", npzBytes(t, map[string][]byte{"arr_0": npyBytes("|u1", []int{1}, lab1)}))
	var cm strings.Builder
	cm.WriteString("index,codepoint,char\n")
	for i := 0; i < 49; i++ {
		fmt.Fprintf(&cm, "%d,U+%04X,%c\n", i, 0x3042+i, rune(0x3042+i))
	}
	write(t, k, "k49_classmap.csv", []byte(cm.String()))
	tr, te, err := LoadK49(k)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 4 || te.Len() != 1 || tr.NumClasses() != 49 || te.NumClasses() != 49 || tr.Classes[0] != "あ" || !bytes.Equal(tr.Pix, pix) || te.Labels[0] != 5 {
		t.Fatalf("K49: train %v test %v classes[0] %q", tr, te, tr.Classes[0])
	}
	// float images in [0,1] scale; big-endian int labels.
	fb := make([]byte, 4*2)
	binary.LittleEndian.PutUint32(fb, math.Float32bits(0.5))
	binary.LittleEndian.PutUint32(fb[4:], math.Float32bits(1))
	lb := []byte{0, 0, 0, 1}
	d, err = LoadNPY(write(t, dir, "f.npy", npyBytes("<f4", []int{1, 1, 2}, fb)), write(t, dir, "be.npy", npyBytes(">i4", []int{1}, lb)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Pix, []uint8{128, 255}) || d.Labels[0] != 1 {
		t.Errorf("float/big-endian: %v %v", d.Pix, d.Labels)
	}
}

func TestNPYErrors(t *testing.T) {
	dir := t.TempDir()
	pix := make([]byte, 2*2*2)
	ip := write(t, dir, "imgs.npy", npyBytes("|u1", []int{2, 2, 2}, pix))
	lp := write(t, dir, "labels.npy", npyBytes("|u1", []int{2}, []byte{0, 1}))
	_, err := LoadNPY(filepath.Join(dir, "missing.npz"), lp)
	wantErr(t, err, "missing.npz", "no such file")
	_, err = LoadNPY(write(t, dir, "c.npy", npyBytes("<c16", []int{2, 2, 2}, make([]byte, 128))), lp)
	wantErr(t, err, "c.npy", "unsupported dtype", "<c16")
	_, err = LoadNPY(write(t, dir, "s.npy", npyBytes("|S3", []int{2}, make([]byte, 6))), lp)
	wantErr(t, err, "s.npy", "unsupported dtype")
	_, err = LoadNPY(write(t, dir, "short.npy", npyBytes("|u1", []int{2, 2, 2}, pix[:5])), lp)
	wantErr(t, err, "short.npy", "truncated")
	_, err = LoadNPY(write(t, dir, "magic.npy", []byte("\x93NUMPX\x01\x00garbage here")), lp)
	wantErr(t, err, "magic.npy", "not an NPY array")
	_, err = LoadNPY(ip, write(t, dir, "three.npy", npyBytes("|u1", []int{3}, []byte{0, 1, 2})))
	wantErr(t, err, "label count mismatch", "three.npy", "3 labels", "2 images")
	_, err = LoadNPY(write(t, dir, "bad.npz", []byte("PK\x03\x04 not a zip")), lp)
	wantErr(t, err, "bad.npz", "zip")
	_, err = LoadNPY(write(t, dir, "other.npz", npzBytes(t, map[string][]byte{"x": npyBytes("|u1", []int{2}, []byte{0, 1})})), lp)
	wantErr(t, err, "other.npz", "not images")
	_, _, err = LoadK49(dir)
	wantErr(t, err, "k49-train-imgs.npz")
}

// npyV2 writes a version 2.0 .npy file whose header lists its keys in another order
// than numpy's (the format allows any order).
func npyV2(descr, shape string, data []byte) []byte {
	hdr := fmt.Sprintf("{'shape': %s, 'fortran_order': False, 'descr': '%s'}\n", shape, descr)
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x02\x00")
	binary.Write(&b, binary.LittleEndian, uint32(len(hdr)))
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

// TestNPYDtypes checks the values of every dtype LoadNPY reads, in both byte orders,
// and a version 2.0 header with its keys in another order.
func TestNPYDtypes(t *testing.T) {
	dir := t.TempDir()
	lp := write(t, dir, "labels.npy", npyBytes("|u1", []int{1}, []byte{0}))
	for _, c := range []struct {
		descr string
		data  []byte
		want  []uint8
	}{
		{"|i1", []byte{3, 0x80}, []uint8{3, 0}},
		{"|b1", []byte{0, 7}, []uint8{0, 1}},
		{"<u2", []byte{0x2c, 0x01, 200, 0}, []uint8{255, 200}},
		{">i2", []byte{0xff, 0xfe, 0, 90}, []uint8{0, 90}},
		{"<u4", []byte{17, 0, 0, 0, 0, 0, 1, 0}, []uint8{17, 255}},
		{">u8", []byte{0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 41}, []uint8{40, 41}},
		{"<f8", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.5)), math.Float64bits(0)), []uint8{128, 0}},
		{">f4", binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, math.Float32bits(1)), math.Float32bits(0.25)), []uint8{255, 64}},
	} {
		for _, file := range [][]byte{npyBytes(c.descr, []int{1, 1, 2}, c.data), npyV2(c.descr, "(1, 1, 2)", c.data)} {
			d, err := LoadNPY(write(t, dir, "x.npy", file), lp)
			if err != nil {
				t.Errorf("%s: %v", c.descr, err)
				continue
			}
			if !bytes.Equal(d.Pix, c.want) {
				t.Errorf("%s: pixels %v, want %v", c.descr, d.Pix, c.want)
			}
		}
	}
}

// TestNPYBrokenFiles checks that a damaged or wrong file is named, and the error says
// what was found and how to fix it, instead of a parser's raw words ("slice bounds
// out of range", "strconv.Atoi", "npy: invalid dictionary format").
func TestNPYBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	pix := make([]byte, 2*2*2)
	good := npyBytes("|u1", []int{2, 2, 2}, pix)
	ip := write(t, dir, "imgs.npy", good)
	lp := write(t, dir, "labels.npy", npyBytes("|u1", []int{2}, []byte{0, 1}))
	withHeader := func(hdr string) []byte {
		b := []byte("\x93NUMPY\x01\x00")
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
		return append(append(b, hdr...), pix...)
	}
	huge := []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{")
	npz := npzBytes(t, map[string][]byte{"arr_0": good})
	for _, c := range []struct {
		name string
		file []byte
		want []string
	}{
		{"text.npy", []byte("0,1,2\n3,4,5\n"), []string{"not an NPY array", `starts with "0,1,2`, "text", "numpy.loadtxt"}},
		{"empty.npy", nil, []string{"empty", "numpy.save"}},
		{"magic.npy", good[:4], []string{"truncated", "NPY magic"}},
		{"preamble.npy", good[:9], []string{"truncated", "NPY preamble", "numpy.save"}},
		{"header.npy", good[:20], []string{"truncated", "NPY header needs", "the file has 20"}},
		{"data.npy", good[:len(good)-3], []string{"truncated", "|u1 array of shape [2 2 2]", "8 bytes of data", "only 5"}},
		{"gz.npy", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, []string{"gzip", "gunzip"}},
		{"png.npy", []byte("\x89PNG\r\n\x1a\n...."), []string{"not an NPY array", "89 50 4e 47", "numpy.save"}},
		{"version.npy", append([]byte("\x93NUMPY\x09\x00"), good[8:]...), []string{"version 9.0", "want 1.0, 2.0 or 3.0"}},
		{"huge.npy", huge, []string{"claims 4294967295 bytes"}},
		{"shape.npy", withHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2 2), }\n"), []string{"not a NumPy header", `"2 2" is not a non-negative integer`}},
		{"noshape.npy", withHeader("{'descr': '|u1', 'fortran_order': False, }\n"), []string{"not a NumPy header", "no 'shape'"}},
		{"order.npy", withHeader("{'descr': '|u1', 'fortran_order': maybe, 'shape': (2, 2, 2), }\n"), []string{"'fortran_order' is maybe"}},
		{"notdict.npy", withHeader("descr=u1 shape=2,2,2\n"), []string{"not a NumPy header", "does not start with {"}},
		{"struct.npy", withHeader("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }\n"), []string{"unsupported structured dtype [('a', '<i4')]", "save one field"}},
		{"f2.npy", npyBytes("<f2", []int{2, 2, 2}, make([]byte, 16)), []string{"unsupported dtype \"<f2\"", "astype"}},
		{"cut.npz", npz[:len(npz)/2], []string{"not a complete NPZ archive", "numpy.savez"}},
		{"labels-as-images.npy", npyBytes("|u1", []int{2}, []byte{0, 1}), []string{"a labels file?", "images file first"}},
	} {
		_, err := LoadNPY(write(t, dir, c.name, c.file), lp)
		wantErr(t, err, append([]string{c.name}, c.want...)...)
		for _, raw := range []string{"slice bounds", "strconv", "npy: invalid", "npy: not a valid", "runtime error"} {
			if err != nil && strings.Contains(err.Error(), raw) {
				t.Errorf("%s: the error shows the parser's %q: %v", c.name, raw, err)
			}
		}
	}
	// A missing labels file given by a relative path says where relative paths start.
	wd, _ := os.Getwd()
	_, err := LoadNPY(ip, "no-labels-here.npy")
	wantErr(t, err, "no-labels-here.npy", "no such file", "working directory "+wd)

	// K49: the missing files are listed, with what the folder must hold.
	k := t.TempDir()
	for _, f := range []string{"k49-train-imgs.npz", "k49-train-labels.npz", "k49-test-imgs.npz"} {
		write(t, k, f, npz)
	}
	_, _, err = LoadK49(k)
	wantErr(t, err, "LoadK49", k+" has no k49-test-labels.npz:", "the four files", "kmnist")
	_, _, err = LoadK49(filepath.Join(k, "nowhere"))
	wantErr(t, err, "LoadK49", "no folder", "nowhere", "working directory")
}

func cifarRecords(labelBytes int, labels [][]byte, fill func(rec, i int) byte) []byte {
	var b bytes.Buffer
	for r, l := range labels {
		b.Write(l[:labelBytes])
		for i := 0; i < cifarPixels; i++ {
			b.WriteByte(fill(r, i))
		}
	}
	return b.Bytes()
}

func TestCIFARReaders(t *testing.T) {
	dir := t.TempDir()
	fill := func(rec, i int) byte { return byte(rec*31 + i) }
	for i := 1; i <= 5; i++ {
		write(t, dir, fmt.Sprintf("cifar-10-batches-bin/data_batch_%d.bin", i), cifarRecords(1, [][]byte{{byte(i)}, {byte(9)}}, fill))
	}
	write(t, dir, "cifar-10-batches-bin/test_batch.bin", cifarRecords(1, [][]byte{{3}}, fill))
	tr, te, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 10 || te.Len() != 1 || tr.C != 3 || tr.H != 32 || !reflect.DeepEqual(tr.Labels[:4], []int{1, 9, 2, 9}) || tr.Classes[9] != "truck" {
		t.Fatalf("CIFAR-10: %v", tr)
	}
	// Plane order: the red plane first, pixel i of record 1 is byte(31+i).
	if img := tr.Image(1); img.At(0, 0, 0) != 31 || int(img.At(1, 0, 0)) != (31+1024)%256 || int(img.At(2, 31, 31)) != (31+3071)%256 {
		t.Errorf("CIFAR-10 pixels wrong")
	}
	c100 := t.TempDir()
	write(t, c100, "train.bin", cifarRecords(2, [][]byte{{3, 77}, {19, 99}}, fill))
	write(t, c100, "test.bin", cifarRecords(2, [][]byte{{0, 5}}, fill))
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("fine%d", i)
	}
	write(t, c100, "fine_label_names.txt", []byte(strings.Join(names, "\n")+"\n"))
	tr, _, err = LoadCIFAR100(c100, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr.Labels, []int{77, 99}) || tr.NumClasses() != 100 || tr.Classes[77] != "fine77" {
		t.Errorf("CIFAR-100 fine: %v %v", tr.Labels, tr.Classes[77])
	}
	tr, _, err = LoadCIFAR100(c100, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr.Labels, []int{3, 19}) || tr.NumClasses() != 20 {
		t.Errorf("CIFAR-100 coarse: %v", tr.Labels)
	}
	// Errors.
	_, err = ReadCIFAR(write(t, dir, "short.bin", cifarRecords(1, [][]byte{{1}}, fill)[:3000]), 1, 0, 10)
	wantErr(t, err, "short.bin", "truncated", "3073-byte records")
	_, err = ReadCIFAR(write(t, dir, "lab.bin", cifarRecords(1, [][]byte{{12}}, fill)), 1, 0, 10)
	wantErr(t, err, "lab.bin", "label 12", "want < 10")
	empty := t.TempDir()
	_, _, err = LoadCIFAR10(empty)
	wantErr(t, err, "LoadCIFAR10: "+empty+" holds none of data_batch_1.bin", "test_batch.bin", "no cifar-10-batches-bin folder", "cifar-10-binary.tar.gz")
	// A partial unpacking: the missing files are listed, in the folder that has the others.
	partial := t.TempDir()
	for i := 1; i <= 4; i++ {
		write(t, partial, fmt.Sprintf("cifar-10-batches-bin/data_batch_%d.bin", i), cifarRecords(1, [][]byte{{1}}, fill))
	}
	_, _, err = LoadCIFAR10(partial)
	wantErr(t, err, filepath.Join(partial, "cifar-10-batches-bin")+" has no data_batch_5.bin, test_batch.bin (an incomplete download")
	_, _, err = LoadCIFAR100(partial, false)
	wantErr(t, err, "LoadCIFAR100", "holds none of train.bin, test.bin", "cifar-100-binary.tar.gz")
	_, err = DecodeCIFAR(bytes.NewReader(make([]byte, 4000)), "stream", 1, 0, 10)
	wantErr(t, err, "stream", "truncated", "record 1")
	// Bad arguments are named as such, not as a truncated file or a bad label.
	lab := filepath.Join(dir, "lab.bin")
	_, err = ReadCIFAR(lab, 0, 0, 10)
	wantErr(t, err, "0 label bytes per record", "CIFAR-10: 1")
	_, err = ReadCIFAR(lab, 2, 2, 100)
	wantErr(t, err, "label byte 2 of 2", "labelIndex")
	_, err = ReadCIFAR(lab, 1, 0, 0)
	wantErr(t, err, "0 classes", "want 1 to 256")
}

func TestFolderReader(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, img image.Image, enc func(io.Writer, image.Image) error) {
		var b bytes.Buffer
		if err := enc(&b, img); err != nil {
			t.Fatal(err)
		}
		write(t, dir, name, b.Bytes())
	}
	red := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for i := 0; i < len(red.Pix); i += 4 {
		red.Pix[i], red.Pix[i+3] = 200, 255
	}
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range gray.Pix {
		gray.Pix[i] = 90
	}
	pal := image.NewPaletted(image.Rect(0, 0, 8, 8), []color.Color{color.Black, color.White})
	save("cats/a.png", red, png.Encode)
	save("cats/b.jpg", red, func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, &jpeg.Options{Quality: 95}) })
	save("dogs/c.gif", pal, func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) })
	save("dogs/d.png", gray, png.Encode)
	write(t, dir, "dogs/notes.txt", []byte("skipped"))
	// A large folder shows its progress (here "large" is 3 images or more).
	oldFrom, oldProgress := folderProgressFrom, folderProgress
	defer func() { folderProgressFrom, folderProgress = oldFrom, oldProgress }()
	folderProgressFrom = 3
	steps, total, finished := 0, 0, false
	folderProgress = func(name string, n int) (func(int), func()) {
		total = n
		return func(k int) { steps += k }, func() { finished = true }
	}
	d, err := LoadFolder(dir, FolderOptions{Width: 8, Height: 8})
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || steps != 4 || !finished {
		t.Errorf("progress: total %d, %d steps, finished %v; want 4 images", total, steps, finished)
	}
	if d.Len() != 4 || d.C != 3 || d.H != 8 || d.W != 8 || !reflect.DeepEqual(d.Classes, []string{"cats", "dogs"}) || !reflect.DeepEqual(d.Labels, []int{0, 0, 1, 1}) {
		t.Fatalf("folder: %v labels %v", d, d.Labels)
	}
	if p := d.Image(0); p.At(0, 4, 4) != 200 || p.At(1, 4, 4) != 0 {
		t.Errorf("resized red PNG centre = %d,%d", p.At(0, 4, 4), p.At(1, 4, 4))
	}
	if p := d.Image(1); int(p.At(0, 4, 4)) < 190 || p.At(1, 4, 4) > 10 {
		t.Errorf("JPEG red centre = %d,%d", p.At(0, 4, 4), p.At(1, 4, 4))
	}
	if p := d.Image(3); p.At(0, 3, 3) != 90 || p.At(2, 3, 3) != 90 {
		t.Errorf("upscaled gray PNG = %d", p.At(0, 3, 3))
	}
	g, err := LoadFolder(dir, FolderOptions{Width: 5, Height: 6, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.C != 1 || g.W != 5 || g.H != 6 || g.Image(3).At(0, 2, 2) != 90 {
		t.Errorf("gray folder: %v", g)
	}
	// One dimension given: the other is the first image's (cats/a.png is 16×8); Width
	// alone used to be replaced by the first image's width as well.
	w, err := LoadFolder(dir, FolderOptions{Width: 10})
	if err != nil {
		t.Fatal(err)
	}
	if w.W != 10 || w.H != 8 {
		t.Errorf("Width 10 alone: %d×%d images, want 10×8", w.W, w.H)
	}
	// A negative size is an error, not a makeslice panic.
	_, err = LoadFolder(dir, FolderOptions{Width: -3, Height: 5})
	wantErr(t, err, "-3×5", "must be ≥ 0")
	write(t, dir, "dogs/e.png", []byte("not a png"))
	_, err = LoadFolder(dir, FolderOptions{Width: 8, Height: 8})
	wantErr(t, err, "e.png", "not a decodable", "replace or remove the file")
	// A folder that is not there, by a relative path: where relative paths start.
	wd, _ := os.Getwd()
	_, err = LoadFolder(filepath.Join("no", "such", "folder"), FolderOptions{})
	wantErr(t, err, "no/such/folder: no such file or folder (relative paths start at the kernel's working directory "+wd+")")
	_, err = LoadFolder(t.TempDir(), FolderOptions{})
	wantErr(t, err, "no class subfolders")
}

// TestFromImageZeroSize: a zero width or height keeps the source's (it gave an empty
// image), a negative one panics saying so.
func TestFromImageZeroSize(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 6, 4))
	if img := FromImage(src, 0, 0, true); img.W != 6 || img.H != 4 || len(img.Pix) != 24 {
		t.Errorf("FromImage(0, 0) = %d×%d with %d pixels, want 6×4", img.W, img.H, len(img.Pix))
	}
	if img := FromImage(src, 3, 0, false); img.W != 3 || img.H != 4 || img.C != 3 {
		t.Errorf("FromImage(3, 0) = %d×%d×%d, want 3×4×3", img.C, img.H, img.W)
	}
	if msg := panicMessage(func() { FromImage(src, -3, 5, true) }); !strings.Contains(msg, "negative size") {
		t.Errorf("FromImage(-3, 5) panicked with %q", msg)
	}
}
