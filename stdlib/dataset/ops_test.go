package dataset

import (
	"bytes"
	"fmt"
	"image/png"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func small() *Dataset {
	d := &Dataset{Name: "small", C: 1, H: 2, W: 2, Classes: []string{"a", "b", "c"}}
	for i := 0; i < 6; i++ {
		img := NewImage(1, 2, 2)
		for j := range img.Pix {
			img.Pix[j] = uint8(i*10 + j)
		}
		if err := d.Append(img, i%3); err != nil {
			panic(err)
		}
	}
	return d
}

func TestOps(t *testing.T) {
	d := small()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.ClassCounts(), []int{2, 2, 2}) || !reflect.DeepEqual(d.ByClass()[1], []int{1, 4}) {
		t.Errorf("counts %v byclass %v", d.ClassCounts(), d.ByClass())
	}
	s, err := d.Subset([]int{4, 0, 4})
	if err != nil || !reflect.DeepEqual(s.Labels, []int{1, 0, 1}) || s.Image(0).At(0, 1, 1) != 43 {
		t.Fatalf("subset: %v %v", s, err)
	}
	s.Pix[0] = 99
	if d.Pix[4*4] == 99 {
		t.Errorf("subset shares pixels")
	}
	if _, err := d.Subset([]int{6}); err == nil || !strings.Contains(err.Error(), "outside [0, 6)") {
		t.Errorf("out-of-range subset: %v", err)
	}
	f := d.Filter(func(img Image, y int) bool { return y == 2 || img.Pix[0] == 0 })
	if !reflect.DeepEqual(f.Labels, []int{0, 2, 2}) {
		t.Errorf("filter labels %v", f.Labels)
	}
	if o := d.OnlyClasses(1); !reflect.DeepEqual(o.Labels, []int{1, 1}) {
		t.Errorf("only classes %v", o.Labels)
	}
	if p := d.PerClass(1); !reflect.DeepEqual(p.Labels, []int{0, 1, 2}) || p.Image(2).Pix[0] != 20 {
		t.Errorf("per class %v", p.Labels)
	}
	c, err := Concat(d, d.Head(2))
	if err != nil || c.Len() != 8 || c.Labels[7] != 1 || c.Pix[len(c.Pix)-1] != 13 {
		t.Fatalf("concat: %v %v", c, err)
	}
	other := &Dataset{Name: "rgb", C: 3, H: 2, W: 2, Classes: []string{"x"}}
	if _, err := Concat(d, other); err == nil {
		t.Errorf("concat of different shapes should fail")
	}
	// A nil part (a loader's dropped error) was a nil pointer dereference.
	if _, err := Concat(d, nil); err == nil || !strings.Contains(err.Error(), "part 1 of 2 is nil") {
		t.Errorf("concat with a nil part: err = %v", err)
	}
	if err := d.Append(NewImage(1, 3, 3), 0); err == nil {
		t.Errorf("append of wrong shape should fail")
	}
	if err := d.Append(NewImage(1, 2, 2), 3); err == nil {
		t.Errorf("append of unknown label should fail")
	}
	sh := d.Shuffle(1)
	if !reflect.DeepEqual(sh.ClassCounts(), d.ClassCounts()) || reflect.DeepEqual(sh.Labels, d.Labels) && bytes.Equal(sh.Pix, d.Pix) {
		t.Errorf("shuffle: %v", sh.Labels)
	}
}

func TestBatchAndTensor(t *testing.T) {
	d := small()
	b := d.Batch([]int{5, 1})
	if b.N != 2 || b.X[0] != 50.0/255 || b.X[7] != 13.0/255 || !reflect.DeepEqual(b.Labels, []int{2, 1}) {
		t.Fatalf("batch %+v", b)
	}
	tt := b.Tensor()
	if !reflect.DeepEqual([]int(tt.Shape()), []int{2, 1, 2, 2}) || tt.Data().([]float32)[3] != 53.0/255 {
		t.Errorf("tensor shape %v", tt.Shape())
	}
	if oh := b.OneHot(3); oh.Data().([]float32)[2] != 1 || oh.Data().([]float32)[4] != 1 {
		t.Errorf("one-hot %v", oh.Data())
	}
	if !bytes.Equal(b.Image(0).Pix, d.Image(5).Pix) {
		t.Errorf("batch image round trip")
	}
	bs := d.Batches([]int{0, 1, 2, 3, 4}, 2)
	if len(bs) != 3 || bs[2].N != 1 || bs[2].Labels[0] != 1 {
		t.Errorf("batches %d", len(bs))
	}
	if all := d.Tensor(); all.Shape()[0] != 6 {
		t.Errorf("dataset tensor %v", all.Shape())
	}
}

func TestRender(t *testing.T) {
	train, _, err := MNIST()
	if err != nil {
		t.Fatal(err)
	}
	g := train.Preview(5)
	if b := g.Bounds(); b.Dx() < 5*56 || b.Dy() < 10*56 {
		t.Errorf("preview %v", b)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		t.Fatal(err)
	}
	s := train.String()
	if !strings.Contains(s, "60000 images of 1×28×28") || !strings.Contains(s, "1: 6742") {
		t.Errorf("String: %s", s)
	}
	h := train.HTML()
	if !strings.Contains(h, "<td>6742</td>") {
		t.Errorf("HTML lacks counts")
	}
	if len(train.Image(0).PNG()) == 0 {
		t.Errorf("image PNG empty")
	}
	rgb := Grid([]Image{NewImage(3, 4, 4), NewImage(1, 8, 8)}, GridOptions{Cols: 2, Scale: 1, RowLabels: []string{"row"}})
	if rgb.Bounds().Dy() != 8+2*2 {
		t.Errorf("grid height %d", rgb.Bounds().Dy())
	}
}

// panicMessage runs f and returns what it panicked with ("" if it did not).
func panicMessage(f func()) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprint(p)
		}
	}()
	f()
	return ""
}

// TestBadArgumentsFromCells: what a notebook cell may pass by mistake gives an empty
// result or a panic that names the dataset, the index and the valid range, not a
// runtime "slice bounds out of range [:78400000]".
func TestBadArgumentsFromCells(t *testing.T) {
	d := small()
	if got := d.PerClass(-2); got.Len() != 0 {
		t.Errorf("PerClass(-2) has %d images, want 0", got.Len())
	}
	if got := d.SampleIndices(-1, rand.New(rand.NewSource(1))); len(got) != 3 || len(got[0]) != 0 {
		t.Errorf("SampleIndices(-1) = %v, want three empty classes", got)
	}
	for name, tc := range map[string]struct {
		f    func()
		want string
	}{
		"Image(-1)":          {func() { d.Image(-1) }, `dataset "small": image index -1 outside [0, 6)`},
		"Image(6)":           {func() { d.Image(6) }, "image index 6 outside [0, 6)"},
		"Images":             {func() { d.Images([]int{0, 99}) }, "image index 99 outside [0, 6)"},
		"Batch":              {func() { d.Batch([]int{1, 1000}) }, "image index 1000 outside [0, 6)"},
		"NewImage(-1, 2, 2)": {func() { NewImage(-1, 2, 2) }, "negative image size"},
		"SampleIndices nil":  {func() { d.SampleIndices(1, nil) }, "needs a seeded *rand.Rand"},
		"OnlyClasses(1, 42)": {func() { d.OnlyClasses(1, 42) }, `dataset "small": OnlyClasses: class 42 is outside [0, 3)`},
	} {
		if got := panicMessage(tc.f); !strings.Contains(got, tc.want) {
			t.Errorf("%s panicked with %q, want %q", name, got, tc.want)
		}
	}
}
