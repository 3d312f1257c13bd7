package nn

import (
	"math"
	"math/rand"
	"testing"
)

// TestKernels compares the kernels in use (C with cgo) with the Go reference versions,
// on sizes that exercise the vector loops and their tails.
func TestKernels(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	fill := func(n int, off float32) []float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(r.NormFloat64()) + off
		}
		return d
	}
	close32 := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
			}
		}
	}
	close64 := func(what string, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-4*(1+math.Abs(want[i])) {
				t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
			}
		}
	}
	for _, sh := range [][3]int{{3, 5, 37}, {2, 4, 64}, {1, 3, 1}, {4, 2, 16}, {2, 3, 1024}} {
		n, c, inner := sh[0], sh[1], sh[2]
		size := n * c * inner
		x, y, dy := fill(size, 3), fill(size, 0), fill(size, 0)
		goReLU(y, y) // a ReLU output: the mask
		pc := func(off float32) []float32 { return fill(c, off) }
		shift, a, b := pc(3), pc(1), pc(0)
		for _, lohi := range [][2]int{{0, c}, {1, c}} {
			lo, hi := lohi[0], lohi[1]
			s1, q1, s2, q2 := make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
			bnStats(x, n, c, inner, lo, hi, shift, s1, q1)
			goBNStats(x, n, c, inner, lo, hi, shift, s2, q2)
			close64("bnStats sum", s1, s2)
			close64("bnStats sq", q1, q2)
			for _, relu := range []bool{false, true} {
				y1, y2 := make([]float32, size), make([]float32, size)
				bnForward(x, nil, y1, n, c, inner, lo, hi, a, b, relu)
				goBNForward(x, nil, y2, n, c, inner, lo, hi, a, b, relu)
				close32("bnForward", y1, y2)
				bnForward(x, dy, y1, n, c, inner, lo, hi, a, b, relu)
				goBNForward(x, dy, y2, n, c, inner, lo, hi, a, b, relu)
				close32("bnForward+shortcut", y1, y2)
				mask := y
				if !relu {
					mask = nil
				}
				s1, q1, s2, q2 := make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
				bnBackwardSums(dy, x, mask, nil, nil, nil, n, c, inner, lo, hi, shift, s1, q1)
				goBNBackwardSums(dy, x, mask, nil, nil, nil, n, c, inner, lo, hi, shift, s2, q2)
				close64("bnBackwardSums sd", s1, s2)
				close64("bnBackwardSums sdx", q1, q2)
				if relu {
					// Storing the masked gradient: the ReLU gradient's bits, and the
					// same sums.
					d1, d2, want := make([]float32, size), make([]float32, size), make([]float32, size)
					reluGradKernel(mask, dy, want)
					for k, sums := range []func(dy, x, y, ra, rb, dout []float32, n, c, inner, lo, hi int, mean []float32, sd, sdx []float64){bnBackwardSums, goBNBackwardSums} {
						d, s3, q3 := [][]float32{d1, d2}[k], make([]float64, c), make([]float64, c)
						sums(dy, x, mask, nil, nil, d, n, c, inner, lo, hi, shift, s3, q3)
						for ch := lo; ch < hi; ch++ {
							if s3[ch] != [][]float64{s1, s2}[k][ch] || q3[ch] != [][]float64{q1, q2}[k][ch] {
								t.Fatalf("bnBackwardSums (%d) with dout: channel %d sums differ", k, ch)
							}
						}
						for i := lo * inner; i < n*c*inner; i++ {
							if ch := i / inner % c; ch >= lo && math.Float32bits(d[i]) != math.Float32bits(want[i]) {
								t.Fatalf("bnBackwardSums (%d) dout[%d] = %g, want %g", k, i, d[i], want[i])
							}
						}
					}
				}
				k, md, q := pc(0), pc(0), pc(0)
				bnBackwardDx(dy, x, mask, nil, nil, y1, n, c, inner, lo, hi, shift, k, md, q)
				goBNBackwardDx(dy, x, mask, nil, nil, y2, n, c, inner, lo, hi, shift, k, md, q)
				close32("bnBackwardDx", y1, y2)
				if !relu {
					continue
				}
				// The ReLU mask recomputed from x (ra, rb: the forward's a, b) must be
				// the forward output's y > 0 exactly, in C and in Go.
				// Also where x·a + b is the rounding error of x·a (zero or not, depending on
				// whether the multiply-add is fused): a third of each channel's values
				// equal the first, and b cancels its product.
				xa, b2 := append([]float32(nil), x...), make([]float32, c)
				for ch := 0; ch < c; ch++ {
					x0 := x[ch*inner]
					for i := 0; i < n; i++ {
						for j := 0; j < inner; j += 3 {
							xa[(i*c+ch)*inner+j] = x0
						}
					}
					p := x0 * a[ch]
					b2[ch] = -p
				}
				fwd := make([]float32, size)
				for _, tc := range []struct {
					cgo  bool
					x, b []float32
				}{{true, x, b}, {false, x, b}, {true, xa, b2}, {false, xa, b2}} {
					cgo, x, b := tc.cgo, tc.x, tc.b
					sums, dxk, fw := bnBackwardSums, bnBackwardDx, bnForward
					if !cgo {
						sums, dxk, fw = goBNBackwardSums, goBNBackwardDx, goBNForward
					}
					fw(x, nil, fwd, n, c, inner, 0, c, a, b, true)
					s1, q1, s2, q2 := make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
					sums(dy, x, fwd, nil, nil, nil, n, c, inner, lo, hi, shift, s1, q1)
					sums(dy, x, nil, a, b, nil, n, c, inner, lo, hi, shift, s2, q2)
					dxk(dy, x, fwd, nil, nil, y1, n, c, inner, lo, hi, shift, k, md, q)
					dxk(dy, x, nil, a, b, y2, n, c, inner, lo, hi, shift, k, md, q)
					for ch := range s1 {
						if s1[ch] != s2[ch] || q1[ch] != q2[ch] {
							t.Fatalf("cgo %v: sums with the mask from x: channel %d: %g, %g, want %g, %g", cgo, ch, s2[ch], q2[ch], s1[ch], q1[ch])
						}
					}
					for i := range y1 {
						if math.Float32bits(y1[i]) != math.Float32bits(y2[i]) {
							t.Fatalf("cgo %v: dx with the mask from x: [%d] = %g, want %g", cgo, i, y2[i], y1[i])
						}
					}
				}
			}
		}
		y1, y2 := make([]float32, size), make([]float32, size)
		reluKernel(dy, y1)
		goReLU(dy, y2)
		close32("relu", y1, y2)
		reluGradKernel(y, dy, y1)
		goReLUGrad(y, dy, y2)
		close32("reluGrad", y1, y2)
		addKernel(x, dy, y1)
		goAdd(x, dy, y2)
		close32("add", y1, y2)
		s1, s2 := make([]float32, c), make([]float32, c)
		chanSum(dy, n, c, inner, 0, c, s1)
		goChanSum(dy, n, c, inner, 0, c, s2)
		close32("chanSum", s1, s2)
		copy(y1, x)
		copy(y2, x)
		addTo(y1, dy)
		goAddTo(y2, dy)
		close32("addTo", y1, y2)
	}
	for _, hw := range [][2]int{{6, 8}, {7, 7}, {28, 28}, {3, 2}, {5, 40}, {4, 65}} {
		h, w := hw[0], hw[1]
		oh, ow := (h-2)/2+1, (w-2)/2+1
		x := fill(5*h*w, 0)
		for i := range x { // few distinct values: ties, where the first maximum must win
			x[i] = float32(int(x[i] * 2))
		}
		y1, y2 := make([]float32, 5*oh*ow), make([]float32, 5*oh*ow)
		a1, a2 := make([]int32, 5*oh*ow), make([]int32, 5*oh*ow)
		maxPool2(x, y1, a1, 5, h, w, oh, ow)
		goMaxPool2(x, y2, a2, 5, h, w, oh, ow)
		close32("maxPool2", y1, y2)
		for i := range a1 {
			if a1[i] != a2[i] {
				t.Fatalf("maxPool2 argmax[%d] = %d, want %d", i, a1[i], a2[i])
			}
		}
	}
	// im2col and col2im of general geometries against the Go versions.
	// The 3×3, pad 1, stride 2 shapes of even-sized images take their own loops, which
	// must give the general loops' bits.
	for _, gs := range [][6]int{{3, 9, 7, 3, 1, 2}, {2, 8, 8, 3, 0, 2}, {2, 7, 6, 5, 2, 2}, {2, 6, 6, 3, 0, 1}, {3, 8, 8, 1, 0, 2},
		{3, 8, 8, 3, 1, 2}, {2, 6, 10, 3, 1, 2}, {2, 2, 2, 3, 1, 2}, {2, 32, 32, 3, 1, 2}, {3, 16, 16, 3, 1, 2}} {
		g, err := newConvGeom([]int{1, gs[0], gs[1], gs[2]}, []int{2, gs[0], gs[3], gs[3]}, gs[4], gs[5])
		if err != nil {
			t.Fatal(err)
		}
		x := fill(g.inSize(), 0)
		ld := g.p + 3
		c1, c2 := fill(g.ckk*ld, 0), make([]float32, g.ckk*ld)
		copy(c2, c1)
		im2colKernel(&g, x, c1, ld)
		g.im2colGeneric(x, c2, ld)
		close32("im2col", c1, c2)
		col := fill(g.ckk*ld, 0)
		d1, d2 := fill(g.inSize(), 0), make([]float32, g.inSize())
		copy(d2, d1)
		col2imKernel(&g, col, d1, ld)
		g.col2imGeneric(col, d2, ld)
		close32("col2im", d1, d2)
		if g.stride2() {
			for i := range c1[:g.ckk*ld] {
				if r, c := i/ld, i%ld; c < g.p && math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
					t.Fatalf("im2col %v: col[%d][%d] = %g, want %g bit for bit", gs, r, c, c1[i], c2[i])
				}
			}
			for i := range d1 {
				if math.Float32bits(d1[i]) != math.Float32bits(d2[i]) {
					t.Fatalf("col2im %v: dx[%d] = %g, want %g bit for bit", gs, i, d1[i], d2[i])
				}
			}
		}
	}
	// im2col of same convolutions against the row-by-row unfolding.
	for _, gs := range [][4]int{{3, 8, 8, 3}, {2, 7, 5, 3}, {2, 9, 6, 5}, {1, 4, 4, 1}} {
		g := convGeom{n: 1, c: gs[0], h: gs[1], w: gs[2], oc: 1, kh: gs[3], kw: gs[3], pad: gs[3] / 2, stride: 1}
		g.oh, g.ow = g.h, g.w
		g.ckk, g.p = g.c*g.kh*g.kw, g.oh*g.ow
		x := fill(g.inSize(), 0)
		c1, c2 := fill(g.ckk*g.p, 0), fill(g.ckk*g.p, 0)
		im2colSameKernel(&g, x, c1, g.p)
		g.pad++ // not same any more: im2col takes the general path
		g.oh, g.ow = g.h+2, g.w+2
		g.p = g.oh * g.ow
		wide := make([]float32, g.ckk*g.p)
		g.im2col(x, wide, g.p)
		g.pad--
		g.oh, g.ow = g.h, g.w
		g.p = g.oh * g.ow
		// The general unfolding with one more pixel of padding holds the same-size
		// one, shifted by one row and column.
		for row := 0; row < g.ckk; row++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					c2[row*g.p+oy*g.ow+ox] = wide[row*(g.h+2)*(g.w+2)+(oy+1)*(g.w+2)+ox+1]
				}
			}
		}
		close32("im2colSame", c1, c2)
	}
}
