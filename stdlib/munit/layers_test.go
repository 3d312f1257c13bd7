package munit

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/goinv/goinv/stdlib/nn"
	"gorgonia.org/gorgonia"
)

// The layers as the generator composes them from package nn's ops (graph.go): values
// against direct definitions and gradients against central finite differences.

// adainNode is the decoder's AdaIN: instance normalisation of x (N×C×H×W) scaled and
// shifted by per-image parameters read from p (N×P): shift at p[n, off+c], scale at
// p[n, off+C+c], MUNIT's order.
func adainNode(b *builder, x, p *gorgonia.Node, off int) *gorgonia.Node {
	c := x.Shape()[1]
	beta := b.must(nn.SliceColumns(p, off, off+c))
	gamma := b.must(nn.SliceColumns(p, off+c, off+2*c))
	return b.must(nn.InstanceNorm(x, gamma, beta))
}

// runOne builds f's graph on inputs of the given shapes and values and returns the
// machine and output node.
func runOne(t *testing.T, shapes [][]int, vals [][]float32, f func(b *builder, in []*gorgonia.Node) *gorgonia.Node) (*nn.Machine, *gorgonia.Node) {
	t.Helper()
	b := newBuilder()
	var in []*gorgonia.Node
	for i, s := range shapes {
		n, d := b.input(fmt.Sprintf("in%d", len(in)), s...)
		copy(d, vals[i])
		in = append(in, n)
	}
	var out *gorgonia.Node
	if err := build(func() { out = f(b, in) }); err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewMachine(b.g, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	return m, out
}

func randVals(rng *rand.Rand, n int, scale, shift float64) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(rng.NormFloat64()*scale + shift)
	}
	return d
}

// planeStats returns the mean and standard deviation of plane (n, c) of y (N×C×HW).
func planeStats(y []float32, n, c, C, hw int) (float64, float64) {
	p := y[(n*C+c)*hw : (n*C+c+1)*hw]
	var m, v float64
	for _, x := range p {
		m += float64(x)
	}
	m /= float64(hw)
	for _, x := range p {
		v += (float64(x) - m) * (float64(x) - m)
	}
	return m, math.Sqrt(v / float64(hw))
}

func TestInstanceNormValues(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	m, y := runOne(t, [][]int{{2, 5, 4, 3}}, [][]float32{randVals(rng, 120, 3, 2)},
		func(b *builder, in []*gorgonia.Node) *gorgonia.Node { return b.in(in[0]) })
	out := m.Float32s(y)
	for n := 0; n < 2; n++ {
		for c := 0; c < 5; c++ {
			mean, sd := planeStats(out, n, c, 5, 12)
			if math.Abs(mean) > 1e-5 || math.Abs(sd*sd-1) > 1e-3 {
				t.Fatalf("instance norm sample %d channel %d: mean %g variance %g, want 0 and 1", n, c, mean, sd*sd)
			}
		}
	}
}

func TestAdaINValues(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	// p holds, per sample, 3 unused values, then the shift (mean) then the scale (std)
	// of each channel.
	p := []float32{9, 9, 9, 1, -2, 0.5, 3, 9, 9, 9, 0, 4, 2, 0.25}
	m, y := runOne(t, [][]int{{2, 2, 3, 3}, {2, 7}}, [][]float32{randVals(rng, 36, 1, 0), p},
		func(b *builder, in []*gorgonia.Node) *gorgonia.Node { return adainNode(b, in[0], in[1], 3) })
	want := [][2][2]float64{{{1, 0.5}, {-2, 3}}, {{0, 2}, {4, 0.25}}} // [n][c]{mean, std}
	out := m.Float32s(y)
	for n := 0; n < 2; n++ {
		for c := 0; c < 2; c++ {
			mean, sd := planeStats(out, n, c, 2, 9)
			if math.Abs(mean-want[n][c][0]) > 1e-4 || math.Abs(sd-want[n][c][1]) > 1e-3 {
				t.Fatalf("AdaIN sample %d channel %d: mean %g std %g, want %v", n, c, mean, sd, want[n][c])
			}
		}
	}
}

// TestConvValues checks a reflect-padded stride-2 convolution layer against a direct sum.
func TestConvValues(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	var ps paramSet
	cv := newConv(&ps, "c", 2, 3, 3, 2, 1, true, rng, 0)
	copy(cv.b.w, []float32{0.1, -0.2, 0.3})
	x := randVals(rng, 2*5*5, 1, 0)
	m, y := runOne(t, [][]int{{1, 2, 5, 5}}, [][]float32{x},
		func(b *builder, in []*gorgonia.Node) *gorgonia.Node { return b.conv(cv, in[0]) })
	out := m.Float32s(y)
	refl := func(i, n int) int {
		if i < 0 {
			return -i
		}
		if i >= n {
			return 2*(n-1) - i
		}
		return i
	}
	for co := 0; co < 3; co++ {
		for oy := 0; oy < 3; oy++ {
			for ox := 0; ox < 3; ox++ {
				s := float64(cv.b.w[co])
				for ci := 0; ci < 2; ci++ {
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							iy, ix := refl(oy*2-1+ky, 5), refl(ox*2-1+kx, 5)
							s += float64(x[(ci*5+iy)*5+ix]) * float64(cv.w.w[((co*2+ci)*3+ky)*3+kx])
						}
					}
				}
				if got := out[(co*3+oy)*3+ox]; math.Abs(float64(got)-s) > 1e-4 {
					t.Fatalf("conv at (%d,%d,%d) = %v, want %v", co, oy, ox, got, s)
				}
			}
		}
	}
}

// checkGrad compares gorgonia's gradients of L = Σ r⊙f(inputs) with central finite
// differences on every input element (float64 accumulation of float32 values).
func checkGrad(t *testing.T, name string, shapes [][]int, f func(b *builder, in []*gorgonia.Node) *gorgonia.Node) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	b := newBuilder()
	var in, raw []*gorgonia.Node
	var vals [][]float32
	for _, s := range shapes {
		n, d := b.input(fmt.Sprintf("in%d", len(in)), s...)
		copy(d, randVals(rng, len(d), 1, 0))
		// Route the input through an op so that every layer computes its gradient.
		in = append(in, b.must(nn.Scale(n, 1)))
		raw = append(raw, n)
		vals = append(vals, d)
	}
	var out, cost *gorgonia.Node
	var r []float32
	if err := build(func() {
		out = f(b, in)
		var rn *gorgonia.Node
		rn, r = b.input("r", out.Shape()...)
		copy(r, randVals(rng, len(r), 1, 0))
		cost = b.must(gorgonia.Sum(b.must(gorgonia.HadamardProd(out, rn))))
	}); err != nil {
		t.Fatal(err)
	}
	grads, err := gorgonia.Grad(cost, raw...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewMachine(b.g, append(gorgonia.Nodes{out}, grads...)...)
	if err != nil {
		t.Fatal(err)
	}
	loss := func() float64 {
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range m.Float32s(out) {
			s += float64(v) * float64(r[i])
		}
		return s
	}
	loss()
	var analytic [][]float32
	for _, g := range grads {
		analytic = append(analytic, append([]float32(nil), m.Float32s(g)...))
	}
	for k, d := range vals {
		for i := range d {
			old := d[i]
			const eps = 1e-2
			d[i] = old + eps
			lp := loss()
			d[i] = old - eps
			lm := loss()
			d[i] = old
			num := (lp - lm) / (2 * eps)
			if got := float64(analytic[k][i]); math.Abs(num-got) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Fatalf("%s: input %d element %d: gradient %.5f, finite difference %.5f", name, k, i, got, num)
			}
		}
	}
}

func TestNormGradients(t *testing.T) {
	checkGrad(t, "instance norm", [][]int{{2, 3, 3, 4}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
		return b.in(in[0])
	})
	checkGrad(t, "AdaIN", [][]int{{2, 3, 3, 4}, {2, 8}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
		return adainNode(b, in[0], in[1], 2)
	})
	checkGrad(t, "two AdaIN layers from one parameter matrix", [][]int{{2, 2, 3, 3}, {2, 8}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
		return adainNode(b, adainNode(b, in[0], in[1], 0), in[1], 4)
	})
	checkGrad(t, "layer norm", [][]int{{2, 3, 3, 4}, {3}, {3}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
		return b.must(nn.LayerNorm(in[0], in[1], in[2]))
	})
}

func TestLayerGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var ps paramSet
	for _, c := range []struct {
		name              string
		h, k, stride, pad int
		cin               int
	}{
		{"3×3 reflect", 5, 3, 1, 1, 3},
		{"4×4 stride 2 reflect", 6, 4, 2, 1, 3},
		{"4×4 stride 2 on 3×3", 3, 4, 2, 1, 3},
		{"7×7 reflect one channel", 6, 7, 1, 3, 1},
	} {
		cv := newConv(&ps, c.name, c.cin, 4, c.k, c.stride, c.pad, true, rng, 0)
		checkGrad(t, c.name, [][]int{{2, c.cin, c.h, c.h}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
			return b.conv(cv, in[0])
		})
	}
	up := newConv(&ps, "up", 3, 2, 5, 1, 2, true, rng, 0)
	checkGrad(t, "upsample ×2 + 5×5 reflect conv", [][]int{{2, 3, 3, 3}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
		return b.convUp(up, in[0])
	})
	checkGrad(t, "tanh", [][]int{{2, 3, 2, 2}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
		return b.must(gorgonia.Tanh(in[0]))
	})
	checkGrad(t, "residual chain", [][]int{{2, 3, 2, 2}}, func(b *builder, in []*gorgonia.Node) *gorgonia.Node {
		return b.must(nn.Add(b.must(gorgonia.Tanh(in[0])), b.must(nn.LeakyReLU(in[0], 0.1))))
	})
}
