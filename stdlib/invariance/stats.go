package invariance

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Ranks returns the ranks of x (1 for the smallest), giving tied values the mean of
// the ranks they span ("fractional ranking"), as Spearman's ρ with ties requires.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		// Positions i..j-1 hold equal values: ranks i+1..j, mean (i+1+j)/2.
		mean := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			r[idx[k]] = mean
		}
		i = j
	}
	return r
}

// Spearman returns Spearman's rank correlation coefficient ρ of x and y: the Pearson
// correlation (gonum's stat.Correlation) of their fractional ranks, which is the
// definition that stays correct with ties. It returns NaN for fewer than two pairs or
// when either variable is constant, and panics if the lengths differ.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("invariance: Spearman of %d and %d values", len(x), len(y)))
	}
	if len(x) < 2 {
		return math.NaN()
	}
	rx, ry := Ranks(x), Ranks(y)
	if constant(rx) || constant(ry) {
		return math.NaN()
	}
	return stat.Correlation(rx, ry, nil)
}

func constant(v []float64) bool {
	for _, a := range v[1:] {
		if a != v[0] {
			return false
		}
	}
	return true
}

// TailHeadRatio returns mean(eKLD of the k smallest classes) / mean(eKLD of the k
// largest), with classes ordered by size (ties keep their order). It is the paper's
// "small classes are less invariant" effect as one number: above 1 when the tail is
// less invariant. NaN when there are fewer than 2k classes.
func TailHeadRatio(sizes, ekld []float64, k int) float64 {
	if len(sizes) != len(ekld) {
		panic(fmt.Sprintf("invariance: TailHeadRatio of %d sizes and %d values", len(sizes), len(ekld)))
	}
	if k <= 0 || len(sizes) < 2*k {
		return math.NaN()
	}
	idx := make([]int, len(sizes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return sizes[idx[a]] < sizes[idx[b]] })
	var tail, head float64
	for i := 0; i < k; i++ {
		tail += ekld[idx[i]]
		head += ekld[idx[len(idx)-1-i]]
	}
	return tail / head
}
