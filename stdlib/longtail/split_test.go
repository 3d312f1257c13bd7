package longtail

import (
	"bytes"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nuisance"
)

func mnist(t testing.TB) (train, test *dataset.Dataset) {
	t.Helper()
	train, test, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

func TestSplitCountsAndOrder(t *testing.T) {
	train, test := mnist(t)
	p := Zipf(4800, 2, 5)
	s, err := NewSplit(train, test, p, Options{Seed: 7, Instance: 3, Transform: nuisance.NewBackground()})
	if err != nil {
		t.Fatal(err)
	}
	sizes := p.Sizes(10)
	if got := s.Train.ClassCounts(); !reflect.DeepEqual(got, s.Counts) {
		t.Errorf("train class counts %v, split Counts %v", got, s.Counts)
	}
	for k, c := range s.Order {
		if s.Counts[c] != sizes[k] || s.Rank[c] != k+1 {
			t.Errorf("class %d at rank %d: count %d rank %d, want %d, %d", c, k+1, s.Counts[c], s.Rank[c], sizes[k], k+1)
		}
	}
	if s.Train.Len() != Total(p, 10) {
		t.Errorf("train has %d images, want %d", s.Train.Len(), Total(p, 10))
	}
	if !reflect.DeepEqual(s.Test.ClassCounts(), test.ClassCounts()) || s.RawTest != test {
		t.Errorf("test set not kept balanced/raw")
	}
	// Every training image is its base image with the background nuisance applied:
	// the non-zero pixels are untouched.
	for i, j := range s.TrainIndex {
		if s.Train.Labels[i] != train.Labels[j] {
			t.Fatalf("image %d: label %d, base label %d", i, s.Train.Labels[i], train.Labels[j])
		}
		a, b := s.Train.Image(i).Pix, train.Image(j).Pix
		for k := range a {
			if b[k] != 0 && a[k] != b[k] {
				t.Fatalf("image %d pixel %d: %d, base %d", i, k, a[k], b[k])
			}
		}
		if !bytes.Equal(s.RawTrain.Image(i).Pix, b) {
			t.Fatalf("RawTrain image %d differs from base image %d", i, j)
		}
	}
	if !sort.IntsAreSorted(s.TrainIndex) {
		t.Errorf("TrainIndex not sorted")
	}
}

func TestSplitDeterminism(t *testing.T) {
	train, test := mnist(t)
	// A 6,000-image slice keeps the rotation work small; ≈600 images per class.
	train, test = train.Head(6000), test.Head(1000)
	mk := func(seed int64, inst int) *Split {
		s, err := NewSplit(train, test, Exponential(500, 100), Options{Seed: seed, Instance: inst, Transform: nuisance.NewRotation()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := mk(1, 0), mk(1, 0)
	if !bytes.Equal(a.Train.Pix, b.Train.Pix) || !bytes.Equal(a.Test.Pix, b.Test.Pix) ||
		!reflect.DeepEqual(a.TrainIndex, b.TrainIndex) || !reflect.DeepEqual(a.Order, b.Order) {
		t.Fatalf("same seed and instance gave different splits")
	}
	if bytes.Equal(a.Test.Pix, test.Pix) {
		t.Errorf("test set not transformed")
	}
	c, d := mk(2, 0), mk(1, 1)
	if reflect.DeepEqual(a.Order, c.Order) {
		t.Errorf("seeds 1 and 2 gave the same class order %v", a.Order)
	}
	if reflect.DeepEqual(a.Order, d.Order) {
		t.Errorf("instances 0 and 1 gave the same class order %v", a.Order)
	}
	// Different instances should spread the classes over ranks: over 30 instances
	// every class is the head class at least once is not guaranteed, but more than
	// one class must be.
	heads := map[int]bool{}
	for inst := 0; inst < 30; inst++ {
		heads[ClassOrder(10, 1, inst)[0]] = true
	}
	if len(heads) < 5 {
		t.Errorf("30 instances put only %d distinct classes at the head", len(heads))
	}
}

func TestSplitErrors(t *testing.T) {
	train, test := mnist(t)
	if _, err := NewSplit(train, test, Counts(7000), Options{}); err == nil {
		t.Errorf("a class of 7000 from MNIST should fail")
	} else {
		t.Log(err)
	}
	if _, err := NewSplit(train, test, Counts(10), Options{Order: []int{0, 1, 2}}); err == nil {
		t.Errorf("a short Order should fail")
	}
}

func TestSplitRendering(t *testing.T) {
	s, err := MNIST(K49LT(), Options{Seed: 3, Transform: nuisance.NewBackground()})
	if err != nil {
		t.Fatal(err)
	}
	str := s.String()
	if !strings.Contains(str, "Zipf(N1=4800, a=2, floor=5)") || !strings.Contains(str, "7437 training images over 10 classes") || !strings.Contains(str, "Background") {
		t.Errorf("String:\n%s", str)
	}
	h := s.HTML()
	for _, want := range []string{"<td>4800</td>", "<td>48</td>", "data:image/png;base64,", "<th>rank</th>"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, logY := range []bool{false, true} {
		png, err := s.ChartPNG(logY)
		if err != nil || len(png) < 1000 {
			t.Errorf("chart (log %v): %d bytes, %v", logY, len(png), err)
		}
	}
	if g := s.Grid(6); g.Bounds().Dy() < 10*56 {
		t.Errorf("grid %v", g.Bounds())
	}
	// 49 classes (K49-LT sizes) through the chart's many-classes labelling.
	p := SizesPlot("K49-LT", K49LT().Sizes(49), nil, true)
	if _, err := p.WriterTo(400, 300, "png"); err != nil {
		t.Error(err)
	}
	if sm, err := s.Sampler("drs", 3); err != nil || sm == nil {
		t.Errorf("sampler: %v", err)
	}
	if s.Imbalance() != 100 {
		t.Errorf("imbalance %v, want 4800/48 = 100", s.Imbalance())
	}
}

func TestSplitStreamsIndependent(t *testing.T) {
	train, test := mnist(t)
	a, err := NewSplit(train, test, K49LT(), Options{Seed: 5, Instance: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSplit(train, test, K49LT(), Options{Seed: 5, Instance: 2, Transform: nuisance.NewDilateErode()})
	if err != nil {
		t.Fatal(err)
	}
	// The nuisance does not change which images are sampled or the class order, only
	// their pixels.
	if !reflect.DeepEqual(a.TrainIndex, b.TrainIndex) || !reflect.DeepEqual(a.Order, b.Order) {
		t.Errorf("adding a nuisance changed the sampled images")
	}
	if !bytes.Equal(a.Train.Pix, b.RawTrain.Pix) || bytes.Equal(a.Train.Pix, b.Train.Pix) {
		t.Errorf("RawTrain/Train pixels wrong")
	}
	if a.Test != test || b.RawTest != test || b.Test == test {
		t.Errorf("test sets: untransformed split should keep the test set, transformed split should bake a copy")
	}
}

// TestSplitRejectsNonLongTailProfiles: parameters for which the profile formulas give a
// growing (head-last), negative or empty profile are errors naming the parameter, not
// splits whose "rank 1" is the smallest class.
func TestSplitRejectsNonLongTailProfiles(t *testing.T) {
	train, test := mnist(t)
	train = train.Head(3000)
	for _, tc := range []struct {
		p    Profile
		want string
	}{
		{Exponential(100, 0.5), "ρ = n_max/n_min = 0.5"},
		{Exponential(100, 0), "ρ = n_max/n_min = 0"},
		{Exponential(0, 10), "n_max = 0"},
		{Zipf(100, -1, 0), "a = -1"},
		{Zipf(100, 1, -2), "floor = -2"},
		{Step(100, 0.5, 0.5), "ρ = 0.5"},
		{Step(100, 10, 2), "μ = 2"},
		{Counts(), "no training images"},
		{Counts(0, 0), "no training images"},
		{Counts(50, -4), "-4 images to rank 2"},
	} {
		_, err := NewSplit(train, test, tc.p, Options{Seed: 1})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want one containing %q", tc.p, err, tc.want)
		}
	}
	// Valid edge cases still work: a balanced ρ = 1, a = 0, and a class with no images.
	for _, p := range []Profile{Exponential(50, 1), Zipf(50, 0, 0), Counts(40, 20, 0), Step(50, 5, 1)} {
		if _, err := NewSplit(train, test, p, Options{Seed: 1}); err != nil {
			t.Errorf("%v: %v", p, err)
		}
	}
}

func TestSizesPlotEmpty(t *testing.T) {
	if p := SizesPlot("none", nil, nil, true); p == nil {
		t.Fatal("nil plot")
	}
}
