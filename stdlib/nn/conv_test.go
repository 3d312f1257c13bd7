package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refConv computes y, and for a given dy the exact dx and dw, of a convolution by
// direct summation in float64, the reference the fast paths are compared against.
func refConv(g convGeom, x, w, dy []float32) (y, dx, dw []float64) {
	y = make([]float64, g.n*g.oc*g.p)
	dx = make([]float64, g.n*g.c*g.h*g.w)
	dw = make([]float64, g.oc*g.ckk)
	for n := 0; n < g.n; n++ {
		for oc := 0; oc < g.oc; oc++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					o := ((n*g.oc+oc)*g.oh+oy)*g.ow + ox
					for c := 0; c < g.c; c++ {
						for ki := 0; ki < g.kh; ki++ {
							for kj := 0; kj < g.kw; kj++ {
								iy, ix := oy*g.stride-g.pad+ki, ox*g.stride-g.pad+kj
								if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
									continue
								}
								xi := ((n*g.c+c)*g.h+iy)*g.w + ix
								wi := ((oc*g.c+c)*g.kh+ki)*g.kw + kj
								y[o] += float64(x[xi]) * float64(w[wi])
								dx[xi] += float64(dy[o]) * float64(w[wi])
								dw[wi] += float64(dy[o]) * float64(x[xi])
							}
						}
					}
				}
			}
		}
	}
	return y, dx, dw
}

// TestConvExact checks every element of a convolution's output and of both gradients
// against direct summation, for the geometries the layers treat specially (same
// convolutions, strides, 1×1, cached and uncached im2col matrices).
func TestConvExact(t *testing.T) {
	cases := []struct{ n, c, h, w, oc, k, pad, stride int }{
		{3, 4, 8, 8, 5, 3, 1, 1},
		{2, 3, 7, 6, 4, 3, 1, 1},
		{2, 3, 7, 6, 4, 5, 2, 1},
		{2, 3, 9, 7, 4, 3, 1, 2},
		{2, 3, 8, 8, 6, 3, 0, 1},
		{2, 3, 8, 8, 6, 3, 0, 2},
		{3, 5, 6, 5, 4, 1, 0, 1},
		{2, 4, 6, 6, 3, 1, 0, 2},
		{5, 16, 12, 12, 16, 3, 1, 1},
		{7, 3, 16, 16, 4, 3, 1, 1}, // chunks of 4 and 3 images
		{7, 3, 16, 16, 4, 3, 1, 2},
		{3, 7, 5, 11, 9, 3, 1, 1}, // odd sizes: vector tails, channel remainders
		{2, 3, 32, 32, 16, 3, 1, 1},
	}
	defer func(on bool) { useConv3x3 = on }(useConv3x3)
	for _, c := range cases {
		for _, mode := range []int{0, 1, 2} {
			// 0: im2col + SGEMM with im2col matrices cached from the forward pass when
			// they fit, 1: without the cache, 2: the direct 3×3 kernels (where they apply).
			cached, direct := mode == 0, mode == 2
			if direct && !haveConv3x3 {
				continue
			}
			useConv3x3 = direct
			name := fmt.Sprintf("n%d c%d %dx%d oc%d k%d pad%d stride%d cached=%v direct=%v", c.n, c.c, c.h, c.w, c.oc, c.k, c.pad, c.stride, cached, direct)
			r := rand.New(rand.NewSource(int64(c.h*100 + c.k)))
			fill := func(n int) []float32 { return normals(r, n) }
			gr := gorgonia.NewGraph()
			xs, ws := []int{c.n, c.c, c.h, c.w}, []int{c.oc, c.c, c.k, c.k}
			xv, wv := fill(prod(xs)), fill(prod(ws))
			x := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(xs...), gorgonia.WithName("x"),
				gorgonia.WithValue(tensor.New(tensor.WithShape(xs...), tensor.WithBacking(xv))))
			w := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(ws...), gorgonia.WithName("w"),
				gorgonia.WithValue(tensor.New(tensor.WithShape(ws...), tensor.WithBacking(wv))))
			y, err := Conv2d(notInput(x), w, c.pad, c.stride)
			if err != nil {
				t.Fatal(err)
			}
			op := y.Op().(*convOp)
			geom := op.g
			dyv := fill(geom.n * geom.oc * geom.p)
			dy := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(y.Shape()...), gorgonia.WithName("dy"),
				gorgonia.WithValue(tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(dyv))))
			cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, dy))))
			grads, err := gorgonia.Grad(cost, x, w)
			if err != nil {
				t.Fatal(err)
			}
			if cached && op.cols == nil && !geom.pointwise {
				op.cols = make([]float32, geom.n*geom.ckk*geom.p)
			} else if !cached {
				op.cols = nil
			}
			ex := runExecutor(t, gr, 2) // the second run reuses every buffer
			wantY, wantDx, wantDw := refConv(geom, xv, wv, dyv)
			compare := func(what string, got []float32, want []float64) {
				for i := range want {
					if math.Abs(float64(got[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
						t.Errorf("%s: %s[%d] = %g, want %g", name, what, i, got[i], want[i])
						return
					}
				}
			}
			compare("y", ex.value(y).Data().([]float32), wantY)
			compare("dx", ex.value(grads[0]).Data().([]float32), wantDx)
			compare("dw", ex.value(grads[1]).Data().([]float32), wantDw)
		}
	}
}

// TestConvBatchNormStats checks that a training batch norm reading a convolution's
// output (whose statistics the convolution sums while writing it) gives the same
// output, gradients and running statistics as one reading a copy of that output.
func TestConvBatchNormStats(t *testing.T) {
	for _, sh := range [][4]int{{4, 3, 8, 8}, {9, 4, 4, 4}} { // chunks of one image; several
		type result struct{ y, dx, dgamma, mean, vr []float32 }
		run := func(fused bool) result {
			gr := gorgonia.NewGraph()
			r := rand.New(rand.NewSource(5))
			fill := func(s ...int) *gorgonia.Node {
				d := make([]float32, prod(s))
				for i := range d {
					d[i] = float32(r.NormFloat64()) + 2
				}
				return gorgonia.NewTensor(gr, tensor.Float32, len(s), gorgonia.WithShape(s...),
					gorgonia.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(d))))
			}
			x, w := fill(sh[:]...), fill(5, sh[1], 3, 3)
			gamma, beta := fill(5), fill(5)
			st := NewBatchNormState(5)
			h := gorgonia.Must(Conv2d(notInput(x), w, 1, 1))
			if !fused {
				h = notInput(h)
			}
			y := gorgonia.Must(BatchNormReLU(h, gamma, beta, st, true))
			if op, ok := h.Op().(*convOp); fused && (!ok || op.stats == nil) {
				t.Fatal("the convolution does not sum the batch norm's statistics")
			}
			dy := fill(y.Shape()...)
			cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, dy))))
			g, err := gorgonia.Grad(cost, x, gamma)
			if err != nil {
				t.Fatal(err)
			}
			ex := runExecutor(t, gr, 3) // the running mean moves: a different shift each run
			return result{ex.value(y).Data().([]float32), ex.value(g[0]).Data().([]float32),
				ex.value(g[1]).Data().([]float32), st.Mean, st.Var}
		}
		a, b := run(true), run(false)
		near := func(what string, a, b []float32) {
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-4*(1+math.Abs(float64(b[i]))) {
					t.Fatalf("%v %s[%d]: %g (fused statistics) vs %g", sh, what, i, a[i], b[i])
				}
			}
		}
		near("y", a.y, b.y)
		near("dx", a.dx, b.dx)
		near("dgamma", a.dgamma, b.dgamma)
		near("running mean", a.mean, b.mean)
		near("running var", a.vr, b.vr)
	}
}
