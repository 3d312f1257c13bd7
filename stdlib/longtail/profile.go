// Package longtail builds the long-tailed (LT) training sets of the paper (PAPER.md,
// "Long-tailed splits") from balanced datasets, and the samplers and class weights the
// paper's training methods use on them.
//
// A Profile gives the number of training images of the class at each rank:
//
//	Zipf:        n_k = max(⌊N1 / k^a⌋, floor)              (K49-LT: N1 = 4800, a = 2, floor 5)
//	Exponential: n_c = ⌊n_max · (1/ρ)^(c/(C−1))⌋           (CIFAR-LT: n_max = 5000, ρ = 100)
//	Step:        n_max for the first ⌈(1−μ)C⌉ ranks, ⌊n_max/ρ⌋ after
//	Counts:      explicit sizes by rank
//
// NewSplit draws a seeded class-to-rank order for each instance (the paper averages
// over 30 instances so that class identity is not confused with class size), samples
// each class's images from the balanced training set, keeps the balanced test set, and
// bakes one fixed random nuisance transform into every stored image.
package longtail

import (
	"fmt"
	"math"
	"strings"
)

// A Profile gives the per-rank class sizes of a long-tailed split. Sizes returns the
// number of images of the classes at ranks 1..classes (index 0 is rank 1, the largest).
type Profile interface {
	Sizes(classes int) []int
	String() string
}

// ZipfProfile is n_k = max(⌊N1 / k^A⌋, Floor) for rank k = 1, 2, ….
type ZipfProfile struct {
	N1    int
	A     float64
	Floor int
}

// Zipf returns the Zipf profile n_k = max(⌊n1 / k^a⌋, floor). The paper's K49-LT is
// Zipf(4800, 2, 5): 4800, 1200, 533, 300, 192, 133, 97, 75, 59, 48, … (7,822 images
// over 49 classes).
func Zipf(n1 int, a float64, floor int) ZipfProfile { return ZipfProfile{N1: n1, A: a, Floor: floor} }

// K49LT is the paper's Kuzushiji-49 long-tailed profile, Zipf(4800, 2, 5).
func K49LT() ZipfProfile { return Zipf(4800, 2, 5) }

// Sizes returns the Zipf sizes of ranks 1..classes.
func (p ZipfProfile) Sizes(classes int) []int {
	out := make([]int, max(classes, 0)) // no classes, not a makeslice panic
	for k := range out {
		// The small epsilon keeps exact quotients (4800/4² = 300) from rounding down
		// through floating point.
		n := int(math.Floor(float64(p.N1)/math.Pow(float64(k+1), p.A) + 1e-9))
		if n < p.Floor {
			n = p.Floor
		}
		out[k] = n
	}
	return out
}

// String describes the profile.
func (p ZipfProfile) String() string {
	return fmt.Sprintf("Zipf(N1=%d, a=%g, floor=%d)", p.N1, p.A, p.Floor)
}

// ExponentialProfile is n_c = ⌊NMax · (1/Rho)^(c/(C−1))⌋ for c = 0..C−1, the
// CIFAR-LT profile of Cao et al. used by the paper.
type ExponentialProfile struct {
	NMax int
	Rho  float64 // imbalance ratio n_max/n_min
}

// Exponential returns the exponential profile with largest class nMax and imbalance
// ratio rho. CIFAR-10-LT with ρ = 100 is Exponential(5000, 100): 5000, 2997, 1796,
// 1077, 645, 387, 232, 139, 83, 50 (12,406 images).
func Exponential(nMax int, rho float64) ExponentialProfile {
	return ExponentialProfile{NMax: nMax, Rho: rho}
}

// CIFARLT is the CIFAR-10/100-LT profile with imbalance ratio rho, Exponential(5000, rho)
// (use Exponential(500, rho) for CIFAR-100's 500 images per class).
func CIFARLT(rho float64) ExponentialProfile { return Exponential(5000, rho) }

// Sizes returns the exponential sizes of ranks 1..classes.
func (p ExponentialProfile) Sizes(classes int) []int {
	out := make([]int, max(classes, 0)) // no classes, not a makeslice panic
	rho := p.Rho
	if rho <= 0 {
		rho = 1
	}
	for c := range out {
		e := 0.0
		if classes > 1 {
			e = float64(c) / float64(classes-1)
		}
		out[c] = int(math.Floor(float64(p.NMax)*math.Pow(1/rho, e) + 1e-9))
	}
	return out
}

// String describes the profile.
func (p ExponentialProfile) String() string {
	return fmt.Sprintf("Exponential(n_max=%d, ρ=%g)", p.NMax, p.Rho)
}

// StepProfile gives NMax images to the first ⌈(1−Mu)·C⌉ ranks and ⌊NMax/Rho⌋ to the rest.
type StepProfile struct {
	NMax int
	Rho  float64 // imbalance ratio
	Mu   float64 // fraction of minority classes; 0 means 0.5
}

// Step returns the step profile: a fraction mu of the classes (the minority) has
// ⌊nMax/rho⌋ images, the others nMax.
func Step(nMax int, rho, mu float64) StepProfile { return StepProfile{NMax: nMax, Rho: rho, Mu: mu} }

// Sizes returns the step sizes of ranks 1..classes.
func (p StepProfile) Sizes(classes int) []int {
	mu := p.Mu
	if mu == 0 {
		mu = 0.5
	}
	rho := p.Rho
	if rho <= 0 {
		rho = 1
	}
	major := int(math.Ceil((1-mu)*float64(classes) - 1e-9))
	out := make([]int, max(classes, 0)) // no classes, not a makeslice panic
	for c := range out {
		if c < major {
			out[c] = p.NMax
		} else {
			out[c] = int(math.Floor(float64(p.NMax)/rho + 1e-9))
		}
	}
	return out
}

// String describes the profile.
func (p StepProfile) String() string {
	mu := p.Mu
	if mu == 0 {
		mu = 0.5
	}
	return fmt.Sprintf("Step(n_max=%d, ρ=%g, μ=%g)", p.NMax, p.Rho, mu)
}

// CountsProfile holds explicit sizes by rank; ranks beyond the list get the last size.
type CountsProfile []int

// Counts returns the profile with explicit sizes by rank (largest first, though any
// order is accepted: rank k gets sizes[k-1]).
func Counts(sizes ...int) CountsProfile { return CountsProfile(append([]int(nil), sizes...)) }

// Sizes returns the explicit sizes, repeating the last one if classes exceeds the list.
func (p CountsProfile) Sizes(classes int) []int {
	out := make([]int, max(classes, 0)) // no classes, not a makeslice panic
	for c := range out {
		switch {
		case c < len(p):
			out[c] = p[c]
		case len(p) > 0:
			out[c] = p[len(p)-1]
		}
	}
	return out
}

// String describes the profile.
func (p CountsProfile) String() string {
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = fmt.Sprint(n)
	}
	return "Counts(" + strings.Join(s, ", ") + ")"
}

// check reports parameters for which the built-in profiles would not describe a long
// tail: the formulas above silently give a growing (head-last) or empty profile for
// them, which NewSplit would then sample.
func (p ZipfProfile) check() error {
	switch {
	case p.N1 < 1:
		return fmt.Errorf("longtail: %v: N1 = %d, want the largest class to have at least 1 image", p, p.N1)
	case !(p.A >= 0) || math.IsInf(p.A, 1):
		return fmt.Errorf("longtail: %v: exponent a = %g, want a finite a ≥ 0 (a = 0 is balanced; a < 0 would grow with rank)", p, p.A)
	case p.Floor < 0:
		return fmt.Errorf("longtail: %v: floor = %d, want ≥ 0", p, p.Floor)
	}
	return nil
}

func (p ExponentialProfile) check() error {
	switch {
	case p.NMax < 1:
		return fmt.Errorf("longtail: %v: n_max = %d, want the largest class to have at least 1 image", p, p.NMax)
	case !(p.Rho >= 1) || math.IsInf(p.Rho, 1):
		return fmt.Errorf("longtail: %v: imbalance ratio ρ = n_max/n_min = %g, want a finite ρ ≥ 1 (ρ = 1 is balanced; ρ < 1 would make rank 1 the smallest class)", p, p.Rho)
	}
	return nil
}

func (p StepProfile) check() error {
	switch {
	case p.NMax < 1:
		return fmt.Errorf("longtail: %v: n_max = %d, want the largest class to have at least 1 image", p, p.NMax)
	case !(p.Rho >= 1) || math.IsInf(p.Rho, 1):
		return fmt.Errorf("longtail: %v: imbalance ratio ρ = %g, want a finite ρ ≥ 1 (ρ < 1 would make the minority larger)", p, p.Rho)
	case !(p.Mu >= 0 && p.Mu <= 1):
		return fmt.Errorf("longtail: %v: minority fraction μ = %g, want 0 < μ ≤ 1 (0 means 0.5)", p, p.Mu)
	}
	return nil
}

// checkSizes validates the sizes any profile (including one implemented in a notebook
// cell) gives to ranks 1..len(sizes).
func checkSizes(p Profile, sizes []int, classes int) error {
	if len(sizes) != classes {
		return fmt.Errorf("longtail: profile %v gives %d sizes for %d classes", p, len(sizes), classes)
	}
	total := 0
	for k, n := range sizes {
		if n < 0 {
			return fmt.Errorf("longtail: profile %v gives %d images to rank %d", p, n, k+1)
		}
		total += n
	}
	if total == 0 {
		return fmt.Errorf("longtail: profile %v gives no training images to any of the %d classes", p, classes)
	}
	return nil
}

// Total returns the number of images a profile gives over the given number of classes.
func Total(p Profile, classes int) int {
	t := 0
	for _, n := range p.Sizes(classes) {
		t += n
	}
	return t
}
