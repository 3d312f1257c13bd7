package nn

import (
	"math/rand"

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
