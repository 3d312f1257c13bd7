package nn

import (
	"context"

	"github.com/goinv/goinv/stdlib/dataset"
)

// Classifier is what evaluation and the invariance measurement need of a model.
// Trained models from this package implement it; so can a type defined in a cell.
type Classifier interface {
	// Logits returns the class scores of every image in b as an N×K row-major matrix.
	Logits(ctx context.Context, b dataset.Batch) ([]float32, error)
	// NumClasses returns K.
	NumClasses() int
}
