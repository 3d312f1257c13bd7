package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refReflectConv computes y (with bias b), and for a given dy the exact dx and dw, of
// a convolution of x upsampled s× by nearest neighbour and reflect-padded by pad, by
// direct summation in float64.
func refReflectConv(n, c, h, w, oc, k, s, pad, stride int, x, wt, b, dy []float32) (y, dx, dw []float64) {
	vh, vw := s*h, s*w
	oh, ow := (vh+2*pad-k)/stride+1, (vw+2*pad-k)/stride+1
	y = make([]float64, n*oc*oh*ow)
	dx = make([]float64, n*c*h*w)
	dw = make([]float64, oc*c*k*k)
	for i := 0; i < n; i++ {
		for o := 0; o < oc; o++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					yi := ((i*oc+o)*oh+oy)*ow + ox
					y[yi] = float64(b[o])
					for ci := 0; ci < c; ci++ {
						for ki := 0; ki < k; ki++ {
							for kj := 0; kj < k; kj++ {
								iy := reflectIndex(oy*stride-pad+ki, vh) / s
								ix := reflectIndex(ox*stride-pad+kj, vw) / s
								xi := ((i*c+ci)*h+iy)*w + ix
								wi := ((o*c+ci)*k+ki)*k + kj
								y[yi] += float64(x[xi]) * float64(wt[wi])
								dx[xi] += float64(dy[yi]) * float64(wt[wi])
								dw[wi] += float64(dy[yi]) * float64(x[xi])
							}
						}
					}
				}
			}
		}
	}
	return y, dx, dw
}

// TestReflectConvExact checks every element of the output and of both gradients of
// Conv2dReflect and UpsampleConv2dReflect against direct summation: the sub-pixel
// form (upsampling convolutions whose combined filters are smaller, including images
// so small that their border classes overlap), the unfolding of the upsampled image
// (useSubpixel off), strides, one and two threads, several images per SGEMM or one,
// one group of images per worker or several.
func TestReflectConvExact(t *testing.T) {
	cases := []struct{ n, c, h, w, oc, k, s, pad, stride int }{
		{3, 4, 7, 7, 5, 5, 2, 2, 1},
		{2, 3, 5, 6, 4, 5, 2, 2, 1},
		{2, 3, 1, 3, 4, 5, 2, 2, 1},
		{2, 2, 2, 2, 3, 5, 2, 2, 1},
		{3, 2, 3, 4, 3, 7, 2, 3, 1},
		{2, 2, 4, 3, 3, 5, 3, 2, 1},
		{2, 3, 4, 4, 4, 3, 2, 1, 1},
		{3, 3, 6, 5, 4, 3, 1, 1, 1},
		{2, 3, 9, 7, 4, 4, 1, 1, 2},
		{5, 6, 14, 14, 5, 5, 2, 2, 1},
	}
	defer func(t, c int) { Threads, colTarget = t, c }(Threads, colTarget)
	for _, c := range cases {
		for _, v := range []struct {
			subpixel        bool
			threads, target int
		}{{true, 1, 1 << 19}, {true, 2, 1 << 19}, {true, 2, 1}, {false, 2, 1 << 19}, {false, 1, 1}} {
			name := fmt.Sprintf("n%d c%d %dx%d oc%d k%d ×%d pad%d stride%d %+v", c.n, c.c, c.h, c.w, c.oc, c.k, c.s, c.pad, c.stride, v)
			useSubpixel, Threads, colTarget = v.subpixel, v.threads, v.target
			r := rand.New(rand.NewSource(int64(c.h*100 + c.k)))
			fill := func(n int) []float32 { return normals(r, n) }
			gr := gorgonia.NewGraph()
			xs, ws := []int{c.n, c.c, c.h, c.w}, []int{c.oc, c.c, c.k, c.k}
			xv, wv, bv := fill(prod(xs)), fill(prod(ws)), fill(c.oc)
			node := func(name string, shape []int, d []float32) *gorgonia.Node {
				return gorgonia.NewTensor(gr, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name),
					gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))))
			}
			x, w, b := node("x", xs, xv), node("w", ws, wv), node("b", []int{c.oc}, bv)
			var y *gorgonia.Node
			var err error
			if c.s > 1 {
				y, err = UpsampleConv2dReflect(notInput(x), w, b, c.s, c.pad)
			} else {
				y, err = Conv2dReflect(notInput(x), w, b, c.pad, c.stride)
			}
			useSubpixel = true
			if err != nil {
				t.Fatal(err)
			}
			op := y.Op().(*rconvOp)
			if want := v.subpixel && c.s > 1 && c.k > 3; (op.g.sp != nil) != want {
				t.Fatalf("%s: sub-pixel form %v, want %v", name, op.g.sp != nil, want)
			}
			dyv := fill(prod(y.Shape()))
			dy := node("dy", y.Shape(), dyv)
			cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, dy))))
			grads, err := gorgonia.Grad(cost, x, w, b)
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewMachine(gr, y, grads[0], grads[1], grads[2])
			if err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 2; run++ { // the second run reuses every buffer
				if err := m.Run(); err != nil {
					t.Fatal(err)
				}
			}
			wantY, wantDx, wantDw := refReflectConv(c.n, c.c, c.h, c.w, c.oc, c.k, c.s, c.pad, c.stride, xv, wv, bv, dyv)
			compare := func(what string, got []float32, want []float64) {
				if len(got) != len(want) {
					t.Fatalf("%s: %s has %d values, want %d", name, what, len(got), len(want))
				}
				for i := range want {
					if math.Abs(float64(got[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
						t.Fatalf("%s: %s[%d] = %g, want %g", name, what, i, got[i], want[i])
					}
				}
			}
			compare("y", m.Float32s(y), wantY)
			compare("dx", m.Float32s(grads[0]), wantDx)
			compare("dw", m.Float32s(grads[1]), wantDw)
		}
	}
}

// TestSubpixelKernelsMatchGo: the sub-pixel form's C kernels equal their Go versions
// bit for bit, for groups of images not starting at image 0.
func TestSubpixelKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	fill := func(n int) []float32 { return normals(rng, n) }
	for _, c := range []struct{ n, c, h, w, oc, k, s, pad int }{{4, 64, 7, 7, 32, 5, 2, 2}, {4, 32, 14, 14, 16, 5, 2, 2}, {4, 3, 7, 7, 5, 5, 2, 2}, {3, 2, 2, 5, 3, 5, 2, 2}, {3, 2, 4, 3, 3, 7, 2, 3}, {3, 3, 3, 4, 4, 5, 3, 2}} {
		gr := gorgonia.NewGraph()
		x := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(c.n, c.c, c.h, c.w), gorgonia.WithName("x"))
		w := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(c.oc, c.c, c.k, c.k), gorgonia.WithName("w"))
		y, err := UpsampleConv2dReflect(x, w, nil, c.s, c.pad)
		if err != nil {
			t.Fatal(err)
		}
		g := y.Op().(*rconvOp).g
		sp := g.sp
		if sp == nil {
			t.Fatalf("%+v: no sub-pixel form", c)
		}
		ws := fill(c.oc * g.ckk)
		ka, kb := fill(sp.kernelSize()), fill(sp.kernelSize())
		sp.kernels(g, ws, fill(len(ws)), ka)
		sp.goKernels(g, ws, fill(len(ws)), kb)
		equalFloats(t, "kernels", ka, kb)
		dwa := fill(len(ws))
		dwb := append([]float32(nil), dwa...)
		sp.reduceW(g, ka, fill(len(ws)), dwa)
		sp.goReduceW(g, ka, fill(len(ws)), dwb)
		equalFloats(t, "reduceW", dwa, dwb)

		lo, hi := 1, c.n
		ld := (hi - lo) * sp.hw
		xs := fill(c.n * c.c * c.h * c.w)
		a, b := fill(sp.ckw*ld), fill(sp.ckw*ld)
		sp.unfold(g, xs, a, fill(sp.padSize()), lo, hi)
		sp.goUnfold(g, xs, b, fill(sp.padSize()), lo, hi)
		equalFloats(t, "unfold", a, b)
		dxa := fill(len(xs))
		dxb := append([]float32(nil), dxa...)
		sp.fold(g, a, dxa, fill(sp.padSize()), lo, hi)
		sp.goFold(g, a, dxb, fill(sp.padSize()), lo, hi)
		equalFloats(t, "fold", dxa, dxb)

		ym, bias := fill(sp.m*ld), fill(c.oc)
		ya := fill(c.n * c.oc * g.p)
		yb := append([]float32(nil), ya...)
		sp.scatter(g, ym, bias, ya, lo, hi)
		sp.goScatter(g, ym, bias, yb, lo, hi)
		equalFloats(t, "scatter", ya, yb)
		sp.scatter(g, ym, nil, ya, lo, hi)
		sp.goScatter(g, ym, nil, yb, lo, hi)
		equalFloats(t, "scatter without bias", ya, yb)
		ma, mb := fill(sp.m*ld), fill(sp.m*ld)
		sp.gather(g, ya, ma, lo, hi)
		sp.goGather(g, ya, mb, lo, hi)
		equalFloats(t, "gather", ma, mb)
	}
}
