package longtail

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/goinv/goinv/stdlib/internal/seed"
)

// A Sampler decides which training images one epoch visits, and in which order.
// Epoch returns the dataset indices of one epoch (its length is the epoch's size;
// indices may repeat for samplers that draw with replacement). All randomness comes
// from rng, so a seeded rng reproduces the order; the toolkit's samplers panic, saying
// so, when rng is nil. Epochs count from 0.
//
// A notebook cell may implement Sampler with an interpreted type.
type Sampler interface {
	Epoch(epoch int, rng *rand.Rand) []int
}

// Uniform visits every image once per epoch in a random order (plain ERM).
type Uniform struct {
	N int // number of images
}

// NewUniform returns the uniform sampler over n images.
func NewUniform(n int) *Uniform { return &Uniform{N: n} }

// Epoch returns a random permutation of 0..N-1.
func (u *Uniform) Epoch(epoch int, rng *rand.Rand) []int {
	seed.MustRand(rng, "longtail: Uniform.Epoch")
	return rng.Perm(u.N)
}

// String describes the sampler.
func (u *Uniform) String() string { return fmt.Sprintf("Uniform(%d images)", u.N) }

// ClassBalanced draws images with replacement with probability proportional to
// 1/n_y (PAPER.md: w_i = 1/n_{y_i}): every class is equally likely, and within a class
// every image is equally likely. An epoch has as many draws as there are images.
type ClassBalanced struct {
	byClass [][]int // indices of each non-empty class
	n       int
}

// NewClassBalanced returns the class-balanced sampler for images with the given labels.
func NewClassBalanced(labels []int) *ClassBalanced {
	m := 0
	for _, y := range labels {
		if y+1 > m {
			m = y + 1
		}
	}
	groups := make([][]int, m)
	for i, y := range labels {
		if y >= 0 {
			groups[y] = append(groups[y], i)
		}
	}
	s := &ClassBalanced{n: len(labels)}
	for _, g := range groups {
		if len(g) > 0 {
			s.byClass = append(s.byClass, g)
		}
	}
	return s
}

// Epoch draws len(labels) indices: a uniform class, then a uniform image of that class.
func (s *ClassBalanced) Epoch(epoch int, rng *rand.Rand) []int {
	seed.MustRand(rng, "longtail: ClassBalanced.Epoch")
	if len(s.byClass) == 0 {
		return nil
	}
	out := make([]int, s.n)
	for k := range out {
		g := s.byClass[rng.Intn(len(s.byClass))]
		out[k] = g[rng.Intn(len(g))]
	}
	return out
}

// String describes the sampler.
func (s *ClassBalanced) String() string {
	return fmt.Sprintf("ClassBalanced(%d images, %d classes)", s.n, len(s.byClass))
}

// Delayed switches from one sampler to another at a given epoch: deferred
// re-sampling (DRS) trains with Before (usually Uniform) and re-samples class-balanced
// (After) from epoch SwitchEpoch on, typically the first learning-rate step.
type Delayed struct {
	Before, After Sampler
	SwitchEpoch   int
}

// NewDelayed returns the DRS sampler: uniform over the images until switchEpoch,
// class-balanced from then on.
func NewDelayed(labels []int, switchEpoch int) *Delayed {
	return &Delayed{Before: NewUniform(len(labels)), After: NewClassBalanced(labels), SwitchEpoch: switchEpoch}
}

// Epoch delegates to Before for epochs before SwitchEpoch and to After from then on.
func (d *Delayed) Epoch(epoch int, rng *rand.Rand) []int {
	seed.MustRand(rng, "longtail: Delayed.Epoch")
	if epoch < d.SwitchEpoch {
		return d.Before.Epoch(epoch, rng)
	}
	return d.After.Epoch(epoch, rng)
}

// String describes the sampler.
func (d *Delayed) String() string {
	return fmt.Sprintf("Delayed(%v until epoch %d, then %v)", d.Before, d.SwitchEpoch, d.After)
}

// Weighted draws len(Weights) indices per epoch with replacement, image i with
// probability proportional to Weights[i].
type Weighted struct {
	cum []float64 // cumulative weights
}

// NewWeighted returns a sampler drawing image i with probability ∝ w[i]. It returns an
// error when a weight is negative or not finite, or when all are zero.
func NewWeighted(w []float64) (*Weighted, error) {
	cum := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("longtail: weight %d is %v, want a finite value ≥ 0", i, x)
		}
		s += x
		cum[i] = s
	}
	if len(w) > 0 && s == 0 {
		return nil, fmt.Errorf("longtail: all %d weights are zero", len(w))
	}
	return &Weighted{cum: cum}, nil
}

// Epoch draws len(w) indices by inverse-CDF sampling.
func (s *Weighted) Epoch(epoch int, rng *rand.Rand) []int {
	seed.MustRand(rng, "longtail: Weighted.Epoch")
	n := len(s.cum)
	if n == 0 {
		return nil
	}
	total := s.cum[n-1]
	out := make([]int, n)
	for k := range out {
		u := rng.Float64() * total
		lo, hi := 0, n-1
		for lo < hi { // first index with cum > u
			mid := (lo + hi) / 2
			if s.cum[mid] > u {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		out[k] = lo
	}
	return out
}

// String describes the sampler.
func (s *Weighted) String() string { return fmt.Sprintf("Weighted(%d images)", len(s.cum)) }

// EffectiveNumberWeights returns the class weights of Cui et al.'s class-balanced loss
// used by the paper's reweighting and DRW baselines: w_c = (1−β)/(1−β^{n_c}), the
// inverse of the effective number of samples, normalized so that the weights of the
// classes sum to the number of classes C. The paper uses β = 0.9999. A class with no
// images gets weight 0 (and does not count in C). β must lie in [0, 1); β = 0 gives
// equal weights.
func EffectiveNumberWeights(counts []int, beta float64) []float64 {
	w := make([]float64, len(counts))
	sum, c := 0.0, 0
	for i, n := range counts {
		if n <= 0 {
			continue
		}
		if beta >= 1 { // the limit β → 1 of (1−β)/(1−β^n) is 1/n
			w[i] = 1 / float64(n)
			sum += w[i]
			c++
			continue
		}
		// 1−β^n computed as −expm1(n·log β) keeps precision for β close to 1.
		eff := -math.Expm1(float64(n) * math.Log(beta))
		if beta == 0 {
			eff = 1
		}
		w[i] = (1 - beta) / eff
		sum += w[i]
		c++
	}
	if sum > 0 {
		for i := range w {
			w[i] *= float64(c) / sum
		}
	}
	return w
}

// InverseFrequencyWeights returns w_c = 1/n_c normalized to sum to the number of
// non-empty classes: the weights that make a reweighted loss class-balanced.
func InverseFrequencyWeights(counts []int) []float64 {
	w := make([]float64, len(counts))
	sum, c := 0.0, 0
	for i, n := range counts {
		if n > 0 {
			w[i] = 1 / float64(n)
			sum += w[i]
			c++
		}
	}
	if sum > 0 {
		for i := range w {
			w[i] *= float64(c) / sum
		}
	}
	return w
}

// ImageWeights spreads class weights over images: it returns w[labels[i]] for each i,
// suitable for NewWeighted or a per-example loss weight.
func ImageWeights(labels []int, classWeights []float64) []float64 {
	out := make([]float64, len(labels))
	for i, y := range labels {
		if y >= 0 && y < len(classWeights) {
			out[i] = classWeights[y]
		}
	}
	return out
}
