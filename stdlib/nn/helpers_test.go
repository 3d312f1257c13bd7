package nn

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normals returns n standard normal draws from r, as float32.
func normals(r *rand.Rand, n int) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return d
}

// valueNode returns a float32 tensor node of graph gr with the given shape and values.
func valueNode(gr *gorgonia.ExprGraph, d []float32, shape ...int) *gorgonia.Node {
	return gorgonia.NewTensor(gr, tensor.Float32, len(shape), gorgonia.WithShape(shape...),
		gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))))
}

// runExecutor runs graph gr n times on this package's executor (every run after the
// first reuses the buffers of the one before) and returns the executor, whose values
// are those of the last run.
func runExecutor(t *testing.T, gr *gorgonia.ExprGraph, n int) *executor {
	t.Helper()
	ex, err := newExecutor(gr)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := ex.run(); err != nil {
			t.Fatal(err)
		}
	}
	return ex
}

// copiesOf returns copies of the float32 values of nodes in ex.
func copiesOf(ex *executor, nodes ...*gorgonia.Node) [][]float32 {
	out := make([][]float32, len(nodes))
	for i, n := range nodes {
		out[i] = append([]float32(nil), ex.value(n).Data().([]float32)...)
	}
	return out
}
