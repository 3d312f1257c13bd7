package nn

import (
	"fmt"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestGroupNormKernelsMatchGo: the C normalisation kernels equal their Go versions bit
// for bit (instance and layer norm, no / per-channel / per-image affine map, planes
// that are not a multiple of the 8 lanes, groups not starting at 0).
func TestGroupNormKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	fill := func(n int, off float64) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(off + rng.NormFloat64())
		}
		return s
	}
	for _, c := range []struct{ n, c, inner, cpg, affine int }{
		{3, 4, 49, 1, 0}, {3, 4, 49, 1, 2}, {2, 5, 16, 1, 1}, {3, 3, 13, 3, 1}, {2, 4, 196, 4, 0}, {2, 2, 5, 1, 2},
	} {
		g := gnGeom{n: c.n, c: c.c, inner: c.inner, cpg: c.cpg, affine: c.affine}
		size, ng := c.n*c.c*c.inner, g.groups()
		x, dy := fill(size, 3), fill(size, 0)
		var gamma, beta []float32
		switch c.affine {
		case 1:
			gamma, beta = fill(c.c, 1), fill(c.c, 0)
		case 2:
			gamma, beta = fill(c.n*c.c, 1), fill(c.n*c.c, 0)
		}
		lo := 1
		ya, yb := fill(size, 0), fill(size, 0)
		copy(yb, ya)
		ma, mb, ia, ib := make([]float32, ng), make([]float32, ng), make([]float32, ng), make([]float32, ng)
		gnForward(g, x, ya, ma, ia, gamma, beta, lo, ng)
		goGNForward(g, x, yb, mb, ib, gamma, beta, lo, ng)
		name := fmt.Sprintf("%+v", c)
		equalFloats(t, name+" y", ya, yb)
		equalFloats(t, name+" mean", ma, mb)
		equalFloats(t, name+" invstd", ia, ib)
		dxa, dxb := fill(size, 0), fill(size, 0)
		copy(dxb, dxa)
		s1a, s2a, s1b, s2b := make([]float64, c.n*c.c), make([]float64, c.n*c.c), make([]float64, c.n*c.c), make([]float64, c.n*c.c)
		gnBackward(g, x, dy, dxa, ma, ia, gamma, s1a, s2a, lo, ng)
		goGNBackward(g, x, dy, dxb, mb, ib, gamma, s1b, s2b, lo, ng)
		equalFloats(t, name+" dx", dxa, dxb)
		for i := range s1a {
			if s1a[i] != s1b[i] || s2a[i] != s2b[i] {
				t.Fatalf("%s: sums %d: C %v %v, Go %v %v", name, i, s1a[i], s2a[i], s1b[i], s2b[i])
			}
		}
	}
}

// TestGroupNormMatchesComposition: InstanceNorm and LayerNorm (one op each) give the
// output and gradients of the composition they replaced — normalize, then
// ScaleShift — to rounding.
func TestGroupNormMatchesComposition(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	fill := func(n int, off float64) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(off + rng.NormFloat64())
		}
		return s
	}
	for _, c := range []struct {
		n, c, h, w int
		layer      bool
		gamma      []int
	}{{3, 4, 7, 7, false, nil}, {3, 4, 7, 7, false, []int{3, 4}}, {2, 5, 4, 4, false, []int{5}}, {3, 3, 6, 5, true, []int{3}}, {2, 2, 3, 3, true, nil}} {
		name := fmt.Sprintf("%+v", c)
		gr := gorgonia.NewGraph()
		node := func(n string, shape []int, d []float32) *gorgonia.Node {
			return gorgonia.NewTensor(gr, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(n),
				gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))))
		}
		xs := []int{c.n, c.c, c.h, c.w}
		x := node("x", xs, fill(prod(xs), 2))
		dy := node("dy", xs, fill(prod(xs), 0))
		var gamma, beta *gorgonia.Node
		wrt := []*gorgonia.Node{x}
		if c.gamma != nil {
			gamma, beta = node("gamma", c.gamma, fill(prod(c.gamma), 1)), node("beta", c.gamma, fill(prod(c.gamma), 0))
			wrt = append(wrt, gamma, beta)
		}
		var fused, ref *gorgonia.Node
		var err error
		mode := perInstance
		if c.layer {
			fused, err = LayerNorm(x, gamma, beta)
			mode = perSample
		} else {
			fused, err = InstanceNorm(x, gamma, beta)
		}
		if err != nil {
			t.Fatal(err)
		}
		ref = gorgonia.Must(normalize(x, mode, nil, true))
		if gamma != nil {
			ref = gorgonia.Must(ScaleShift(ref, gamma, beta))
		}
		var outs []*gorgonia.Node
		var gf, gref gorgonia.Nodes
		for _, y := range []*gorgonia.Node{fused, ref} {
			cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, dy))))
			gs, err := gorgonia.Grad(cost, wrt...)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, y)
			outs = append(outs, gs...)
			if y == fused {
				gf = gs
			} else {
				gref = gs
			}
		}
		m, err := NewMachine(gr, outs...)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		closeFloats(t, name+" y", m.Float32s(fused), m.Float32s(ref))
		for i := range gf {
			closeFloats(t, fmt.Sprintf("%s grad %d", name, i), m.Float32s(gf[i]), m.Float32s(gref[i]))
		}
	}
}
