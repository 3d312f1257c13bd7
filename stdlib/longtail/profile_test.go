package longtail

import (
	"reflect"
	"testing"
)

func TestZipfPaper(t *testing.T) {
	got := K49LT().Sizes(49)
	want := []int{4800, 1200, 533, 300, 192, 133, 97, 75, 59, 48}
	if !reflect.DeepEqual(got[:10], want) {
		t.Errorf("K49-LT first ten sizes = %v, want %v", got[:10], want)
	}
	for k := 28; k < 49; k++ { // ranks 29–49
		if got[k] != 5 {
			t.Errorf("rank %d size %d, want 5", k+1, got[k])
		}
	}
	if got[27] == 5 {
		t.Errorf("rank 28 already at the floor: %d", got[27])
	}
	if n := Total(K49LT(), 49); n != 7822 {
		t.Errorf("K49-LT total %d, want 7822", n)
	}
}

func TestExponentialPaper(t *testing.T) {
	got := CIFARLT(100).Sizes(10)
	want := []int{5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CIFAR-10-LT sizes = %v, want %v", got, want)
	}
	if n := Total(CIFARLT(100), 10); n != 12406 {
		t.Errorf("CIFAR-10-LT total %d, want 12406", n)
	}
	// CIFAR-100-LT, ρ = 100: 500 down to 5, 10,847 images (Cao et al.).
	c100 := Exponential(500, 100).Sizes(100)
	if c100[0] != 500 || c100[99] != 5 {
		t.Errorf("CIFAR-100-LT ends %d, %d, want 500, 5", c100[0], c100[99])
	}
	if n := Total(Exponential(500, 100), 100); n != 10847 {
		t.Errorf("CIFAR-100-LT total %d, want 10847", n)
	}
}

func TestStepAndCounts(t *testing.T) {
	if got, want := Step(5000, 10, 0.5).Sizes(10), []int{5000, 5000, 5000, 5000, 5000, 500, 500, 500, 500, 500}; !reflect.DeepEqual(got, want) {
		t.Errorf("Step sizes %v, want %v", got, want)
	}
	if got, want := Step(100, 4, 0.3).Sizes(10), []int{100, 100, 100, 100, 100, 100, 100, 25, 25, 25}; !reflect.DeepEqual(got, want) {
		t.Errorf("Step μ=0.3 sizes %v, want %v", got, want)
	}
	if got, want := Counts(9, 4, 1).Sizes(5), []int{9, 4, 1, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Counts sizes %v, want %v", got, want)
	}
}

// TestNegativeClassCount: a negative class count gives no sizes (it was a makeslice
// panic from a notebook cell).
func TestNegativeClassCount(t *testing.T) {
	for _, p := range []Profile{Zipf(10, 1, 0), Exponential(10, 2), Step(10, 2, 0.5), Counts(3, 1)} {
		if got := p.Sizes(-1); len(got) != 0 {
			t.Errorf("%v.Sizes(-1) = %v", p, got)
		}
		if got := Total(p, -1); got != 0 {
			t.Errorf("Total(%v, -1) = %d", p, got)
		}
	}
	if got := ClassOrder(-1, 1, 0); len(got) != 0 {
		t.Errorf("ClassOrder(-1) = %v", got)
	}
}
