package longtail

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestUniform(t *testing.T) {
	u := NewUniform(100)
	e := u.Epoch(0, rand.New(rand.NewSource(1)))
	s := append([]int(nil), e...)
	sort.Ints(s)
	for i, v := range s {
		if v != i {
			t.Fatalf("uniform epoch is not a permutation")
		}
	}
	if reflect.DeepEqual(e, s) {
		t.Errorf("uniform epoch not shuffled")
	}
	if !reflect.DeepEqual(e, u.Epoch(0, rand.New(rand.NewSource(1)))) {
		t.Errorf("same rng seed gave another order")
	}
}

func TestClassBalanced(t *testing.T) {
	// 1000 images of class 0, 10 of class 1, 1 of class 3 (class 2 empty).
	var labels []int
	for i := 0; i < 1000; i++ {
		labels = append(labels, 0)
	}
	for i := 0; i < 10; i++ {
		labels = append(labels, 1)
	}
	labels = append(labels, 3)
	s := NewClassBalanced(labels)
	rng := rand.New(rand.NewSource(2))
	hits := make([]int, 4)
	per := map[int]int{}
	const epochs = 30
	for e := 0; e < epochs; e++ {
		ep := s.Epoch(e, rng)
		if len(ep) != len(labels) {
			t.Fatalf("epoch of %d, want %d", len(ep), len(labels))
		}
		for _, i := range ep {
			hits[labels[i]]++
			if labels[i] == 1 {
				per[i]++
			}
		}
	}
	total := float64(epochs * len(labels))
	for _, c := range []int{0, 1, 3} {
		if f := float64(hits[c]) / total; math.Abs(f-1.0/3) > 0.02 {
			t.Errorf("class %d drawn with frequency %.3f, want 1/3", c, f)
		}
	}
	if hits[2] != 0 {
		t.Errorf("empty class drawn")
	}
	for i, n := range per { // within class 1, each image ≈ 1/10 of the class's draws
		if f := float64(n) / float64(hits[1]); math.Abs(f-0.1) > 0.03 {
			t.Errorf("image %d: %.3f of its class's draws, want 0.1", i, f)
		}
	}
}

func TestDelayed(t *testing.T) {
	labels := make([]int, 200)
	labels[0] = 1
	d := NewDelayed(labels, 3)
	rng := rand.New(rand.NewSource(3))
	for e := 0; e < 6; e++ {
		ep := d.Epoch(e, rng)
		ones := 0
		for _, i := range ep {
			if i == 0 {
				ones++
			}
		}
		if e < 3 && ones != 1 {
			t.Errorf("epoch %d (uniform): the minority image drawn %d times, want 1", e, ones)
		}
		if e >= 3 && ones < 60 {
			t.Errorf("epoch %d (balanced): the minority image drawn %d times, want ≈100", e, ones)
		}
	}
}

func TestEffectiveNumberWeights(t *testing.T) {
	counts := []int{5000, 500, 50, 5}
	w := EffectiveNumberWeights(counts, 0.9999)
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	if math.Abs(sum-4) > 1e-9 {
		t.Errorf("weights sum to %v, want 4", sum)
	}
	// Against the formula directly.
	raw := make([]float64, 4)
	rs := 0.0
	for i, n := range counts {
		raw[i] = (1 - 0.9999) / (1 - math.Pow(0.9999, float64(n)))
		rs += raw[i]
	}
	for i := range w {
		if want := raw[i] * 4 / rs; math.Abs(w[i]-want) > 1e-9*want {
			t.Errorf("w[%d] = %v, want %v", i, w[i], want)
		}
	}
	for i := 1; i < 4; i++ {
		if w[i] <= w[i-1] {
			t.Errorf("weights not decreasing in class size: %v", w)
		}
	}
	if eq := EffectiveNumberWeights(counts, 0); math.Abs(eq[0]-1) > 1e-12 || math.Abs(eq[3]-1) > 1e-12 {
		t.Errorf("β = 0 should give equal weights: %v", eq)
	}
	inv := EffectiveNumberWeights(counts, 1)
	inv2 := InverseFrequencyWeights(counts)
	for i := range inv {
		if math.Abs(inv[i]-inv2[i]) > 1e-12 {
			t.Errorf("β = 1 should be inverse frequency: %v vs %v", inv, inv2)
		}
	}
	if z := EffectiveNumberWeights([]int{10, 0}, 0.99); z[1] != 0 || math.Abs(z[0]-1) > 1e-12 {
		t.Errorf("empty class weights %v", z)
	}
}

func TestWeighted(t *testing.T) {
	s, err := NewWeighted([]float64{1, 0, 3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(4))
	hits := make([]int, 3)
	for e := 0; e < 4000; e++ {
		for _, i := range s.Epoch(e, rng) {
			hits[i]++
		}
	}
	if hits[1] != 0 || math.Abs(float64(hits[2])/float64(hits[0])-3) > 0.2 {
		t.Errorf("weighted hits %v", hits)
	}
	if _, err := NewWeighted([]float64{1, -1}); err == nil {
		t.Errorf("negative weight accepted")
	}
	if _, err := NewWeighted([]float64{0, 0}); err == nil {
		t.Errorf("all-zero weights accepted")
	}
	iw := ImageWeights([]int{0, 1, 1}, []float64{2, 0.5})
	if !reflect.DeepEqual(iw, []float64{2, 0.5, 0.5}) {
		t.Errorf("image weights %v", iw)
	}
}

// TestSamplersNilRand checks that every sampler given a nil generator panics saying
// which call needs one and what to pass, also where the epoch would draw nothing (an
// empty sampler, so the mistake shows on the first try).
func TestSamplersNilRand(t *testing.T) {
	weighted, _ := NewWeighted([]float64{1, 2})
	emptyWeighted, _ := NewWeighted(nil)
	for name, s := range map[string]Sampler{
		"Uniform": NewUniform(3), "ClassBalanced": NewClassBalanced([]int{0, 1, 1}),
		"empty ClassBalanced": NewClassBalanced(nil), "Delayed": NewDelayed([]int{0, 1}, 1),
		"Weighted": weighted, "empty Weighted": emptyWeighted,
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			s.Epoch(0, nil)
			return "no panic"
		}()
		if !strings.Contains(msg, "longtail: ") || !strings.Contains(msg, ".Epoch needs a seeded *rand.Rand") {
			t.Errorf("%s.Epoch(0, nil): %s; want a panic naming the call and what to pass", name, msg)
		}
	}
}
