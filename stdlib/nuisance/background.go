package nuisance

import (
	"fmt"
	"math/rand"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/internal/seed"
)

// Background sets the background intensity: every pixel equal to 0 becomes t, with t
// drawn uniformly from the integers {0, …, Max}. The zero value is the paper's
// background nuisance, t ~ U{0..99}. On a multi-channel image each channel is treated
// on its own, with the same t: a channel value of 0 becomes t.
type Background struct {
	Max int // largest background value, at most 255; 0 means 99
}

// NewBackground returns the paper's background nuisance, t ~ U{0..99}.
func NewBackground() *Background { return &Background{Max: 99} }

func (b Background) max() int {
	switch {
	case b.Max <= 0:
		return 99
	case b.Max > 255:
		return 255
	}
	return b.Max
}

// Apply draws t and sets the zero pixels of a copy of src to t.
func (b Background) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	seed.MustRand(rng, "nuisance: Background.Apply")
	return SetBackground(src, uint8(rng.Intn(b.max()+1)))
}

// String describes the transform.
func (b Background) String() string { return fmt.Sprintf("Background(t ~ U{0..%d})", b.max()) }

// SetBackground returns a copy of src in which every pixel equal to 0 is t.
func SetBackground(src dataset.Image, t uint8) dataset.Image {
	out := src.Clone()
	if t == 0 {
		return out
	}
	for i, p := range out.Pix {
		if p == 0 {
			out.Pix[i] = t
		}
	}
	return out
}
