// Package seed derives independent random seeds from a run's seed, so that every
// random choice in the toolkit is reproducible from one number.
package seed

import "math/rand"

// Mix derives a seed from seed and a stream identity (a, b) with the SplitMix64
// finalizer, so that nearby inputs (instance 0 and 1, class 3 and 4) give unrelated
// streams. The result is never negative, as math/rand.NewSource expects.
func Mix(seed, a, b int64) int64 {
	z := uint64(seed) ^ uint64(a)*0x9e3779b97f4a7c15 ^ uint64(b)*0xbf58476d1ce4e5b9
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int64(z &^ (1 << 63))
}

// MustRand panics, saying what to pass, when rng is nil: every exported toolkit
// function that draws from a caller's *rand.Rand calls it first, so that a cell that
// passes nil reads which call needs a generator instead of a nil pointer dereference
// deep inside math/rand. There is no default generator: a fresh one per call would
// repeat the same draw in every call of a loop. who names the call, package first
// ("longtail: ClassBalanced.Epoch").
func MustRand(rng *rand.Rand, who string) {
	if rng == nil {
		panic(who + " needs a seeded *rand.Rand, e.g. rand.New(rand.NewSource(1)); got nil")
	}
}
