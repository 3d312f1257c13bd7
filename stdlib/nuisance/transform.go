// Package nuisance implements the class-agnostic nuisance transformations of the paper
// (PAPER.md, "Nuisance transformations"): rotation, background intensity and
// dilation/erosion, their composition, and the two ways the paper applies them.
package nuisance

import (
	"math/rand"

	"github.com/goinv/goinv/stdlib/dataset"
)

// Transform draws one random nuisance and applies it to an image. It must not change
// the image's shape, must not depend on the label, and must not modify src: it returns
// a new image. All randomness comes from rng, so a seeded rng reproduces the draw.
//
// A notebook cell can implement Transform with an interpreted type and pass it to any
// toolkit function that takes one.
type Transform interface {
	Apply(src dataset.Image, rng *rand.Rand) dataset.Image
}
