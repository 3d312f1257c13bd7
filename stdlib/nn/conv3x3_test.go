package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
)

// TestConv3x3Kernels checks the direct 3×3 kernels (the AVX-512 ones when this CPU
// runs them, else the Go references they forward to) against direct summation in
// float64, on plane sizes that fill vectors exactly, leave tails, and span several
// rows per vector, and channel counts that leave remainders of every register block.
func TestConv3x3Kernels(t *testing.T) {
	needConv3x3Kernels(t)
	cases := []struct{ n, cin, cout, h, w int }{
		{2, 3, 16, 32, 32},
		{3, 16, 16, 8, 8},
		{2, 5, 7, 5, 9},
		{1, 1, 1, 1, 1},
		{2, 17, 13, 3, 20},
		{4, 32, 32, 16, 16},
		{3, 6, 11, 7, 7},
		{2, 8, 2, 33, 1},
	}
	for _, c := range cases {
		name := fmt.Sprintf("n%d cin%d cout%d %dx%d", c.n, c.cin, c.cout, c.h, c.w)
		r := rand.New(rand.NewSource(int64(c.h*31 + c.w)))
		fill := func(n int) []float32 { return normals(r, n) }
		g := convGeom{n: c.n, c: c.cin, h: c.h, w: c.w, oc: c.cout, kh: 3, kw: 3, pad: 1, stride: 1, oh: c.h, ow: c.w}
		g.ckk, g.p = c.cin*9, c.h*c.w
		x, w, dy, bias := fill(c.n*c.cin*g.p), fill(c.cout*c.cin*9), fill(c.n*c.cout*g.p), fill(c.cout)
		wantY, wantDx, wantDw := refConv(g, x, w, dy)
		pl := newConv3x3Plan(c.h, c.w)
		wp := make([]float32, len(w))
		packConv3x3Fwd(w, wp, c.cin, c.cout)
		y := fill(len(dy)) // overwritten
		conv3x3Fwd(pl, x, wp, bias, y, c.n, c.cin, c.cout)
		for i := range wantY {
			wantY[i] += float64(bias[i/g.p%c.cout])
		}
		compare(t, name+" y", y, wantY)
		packConv3x3Back(w, wp, c.cin, c.cout)
		dx := fill(len(x))
		conv3x3Fwd(pl, dy, wp, nil, dx, c.n, c.cout, c.cin)
		compare(t, name+" dx", dx, wantDx)
		dw := make([]float32, len(w))
		for i := range dw {
			dw[i] = 1 // the kernel adds
			wantDw[i]++
		}
		conv3x3DW(pl, x, dy, dw, c.n, c.cin, c.cout)
		compare(t, name+" dw", dw, wantDw)
		// The Go references agree too (they are what purego builds run).
		gy := make([]float32, len(y))
		packConv3x3Fwd(w, wp, c.cin, c.cout)
		goConv3x3Fwd(pl, x, wp, bias, gy, c.n, c.cin, c.cout)
		compare(t, name+" go y", gy, wantY)
		gdw := make([]float32, len(w))
		goConv3x3DW(pl, x, dy, gdw, c.n, c.cin, c.cout)
		for i := range wantDw {
			wantDw[i]--
		}
		compare(t, name+" go dw", gdw, wantDw)
	}
}

func compare(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %g, want %g", what, i, got[i], want[i])
			return
		}
	}
}

// BenchmarkConv3x3 times one image of a ResNet stage's 3×3 convolution: the direct
// forward and weight-gradient kernels, and im2col + SGEMM.
func BenchmarkConv3x3(b *testing.B) {
	for _, s := range []struct{ c, hw, n int }{{16, 32, 128}, {32, 16, 128}, {64, 8, 128}} { // a batch of 128, as in training
		p := s.hw * s.hw
		x, w, y := make([]float32, s.n*s.c*p), make([]float32, s.c*s.c*9), make([]float32, s.n*s.c*p)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		nb := g0(s.c, s.hw).direct3x3Images()
		pl := newConv3x3Plan(s.hw, s.hw)
		flops := float64(2*s.c*s.c*9*p*s.n) / 1e9
		b.Run(fmt.Sprintf("fwd/c%d/%dx%d", s.c, s.hw, s.hw), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				conv3x3Fwd(pl, x, w, nil, y, s.n, s.c, s.c)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
		b.Run(fmt.Sprintf("dw/c%d/%dx%d", s.c, s.hw, s.hw), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for i0 := 0; i0 < s.n; i0 += nb {
					i1 := min(i0+nb, s.n)
					conv3x3DW(pl, x[i0*s.c*p:i1*s.c*p], y[i0*s.c*p:i1*s.c*p], w, i1-i0, s.c, s.c)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
		g := g0(s.c, s.hw)
		g.n = s.n
		col := make([]float32, g.ckk*p*g.batch())
		b.Run(fmt.Sprintf("im2col+sgemm/c%d/%dx%d", s.c, s.hw, s.hw), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				bb := g.batch()
				for i0 := 0; i0 < s.n; i0 += bb {
					i1 := min(i0+bb, s.n)
					for im := i0; im < i1; im++ {
						g.im2col(x[im*s.c*p:], col[(im-i0)*p:], (i1-i0)*p)
					}
					sgemm(false, false, s.c, (i1-i0)*p, g.ckk, 1, w, g.ckk, col, (i1-i0)*p, 0, y[i0*s.c*p:], (i1-i0)*p)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
	}
}

func g0(c, hw int) *convGeom {
	g := &convGeom{n: 1, c: c, h: hw, w: hw, oc: c, kh: 3, kw: 3, pad: 1, stride: 1, oh: hw, ow: hw}
	g.ckk, g.p = c*9, hw*hw
	return g
}

// TestConvThreadIndependent checks that convolutions (a 3×3 same one feeding a
// training batch norm, then a strided one) give bit-identical outputs, gradients and
// running statistics with 1, 2 and 3 threads, on the direct kernels and on im2col +
// SGEMM: their partial sums are per image chunk, not per worker.
func TestConvThreadIndependent(t *testing.T) {
	defer func(n int, on bool) { Threads, useConv3x3 = n, on }(Threads, useConv3x3)
	run := func(threads int) [][]float32 {
		Threads = threads
		gr := gorgonia.NewGraph()
		r := rand.New(rand.NewSource(3))
		fill := func(s ...int) *gorgonia.Node { return valueNode(gr, normals(r, prod(s)), s...) }
		// 6 → 16 channels (weight gradient on conv3x3DW), 16 → 16 (on conv3x3DWT), then
		// a strided convolution (on conv3x3FwdTStride and conv3x3DWTStride).
		x, w, w3, w2 := fill(37, 6, 8, 16), fill(16, 6, 3, 3), fill(16, 16, 3, 3), fill(32, 16, 3, 3)
		gamma, beta := fill(16), fill(16)
		st := NewBatchNormState(16)
		h := gorgonia.Must(Conv2d(notInput(x), w, 1, 1))
		h = gorgonia.Must(BatchNormReLU(h, gamma, beta, st, true))
		h = gorgonia.Must(Conv2d(h, w3, 1, 1))
		y := gorgonia.Must(Conv2d(h, w2, 1, 2))
		dy := fill(y.Shape()...)
		cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, dy))))
		g, err := gorgonia.Grad(cost, x, w, w3, w2)
		if err != nil {
			t.Fatal(err)
		}
		out := copiesOf(runExecutor(t, gr, 2), y, g[0], g[1], g[2], g[3])
		return append(out, append([]float32(nil), st.Mean...), append([]float32(nil), st.Var...))
	}
	for _, direct := range []bool{false, true} {
		if direct && !haveConv3x3 {
			continue
		}
		useConv3x3 = direct
		want := run(1)
		for _, th := range []int{2, 3} {
			got := run(th)
			for k, name := range []string{"y", "dx", "dw", "dw3", "dw2", "running mean", "running var"} {
				for i := range want[k] {
					if got[k][i] != want[k][i] {
						t.Fatalf("direct=%v, %d threads: %s[%d] = %g, with 1 thread %g", direct, th, name, i, got[k][i], want[k][i])
					}
				}
			}
		}
	}
}

// TestConv3x3InnerSameBits checks that the forward kernel's path for inner vectors
// (conv3x3Inner) gives the same bits as its general path, so that turning it on
// changes no model's results.
func TestConv3x3InnerSameBits(t *testing.T) {
	needConv3x3Kernels(t)
	defer func(v bool) { conv3x3Inner = v }(conv3x3Inner)
	for _, c := range []struct{ n, cin, cout, h, w int }{
		{2, 16, 16, 32, 32}, {3, 32, 32, 16, 16}, {2, 64, 64, 8, 8}, {2, 3, 16, 32, 32},
		{2, 5, 7, 5, 16}, {1, 9, 11, 12, 48}, {2, 16, 32, 14, 14}, {2, 1, 16, 28, 28},
	} {
		r := rand.New(rand.NewSource(int64(c.h*7 + c.cout)))
		x, w, bias := normals(r, c.n*c.cin*c.h*c.w), normals(r, c.cout*c.cin*9), normals(r, c.cout)
		pl := newConv3x3Plan(c.h, c.w)
		wp := make([]float32, len(w))
		packConv3x3Fwd(w, wp, c.cin, c.cout)
		var ys [2][]float32
		for k, on := range []bool{false, true} {
			conv3x3Inner = on
			ys[k] = make([]float32, c.n*c.cout*c.h*c.w)
			conv3x3Fwd(pl, x, wp, bias, ys[k], c.n, c.cin, c.cout)
		}
		for i := range ys[0] {
			if math.Float32bits(ys[0][i]) != math.Float32bits(ys[1][i]) {
				t.Fatalf("%+v: y[%d] = %g on the inner path, %g on the general one", c, i, ys[1][i], ys[0][i])
			}
		}
	}
}

// TestConv3x3DWT checks the channels-last weight-gradient kernel (the AVX-512 one
// where this CPU has it, else the Go reference) against direct summation in float64,
// on planes with and without tails and on output-channel counts that leave every
// remainder of its register blocks, calling it twice on one scratch buffer (with
// fewer images the second time) as the layers do: the packed images' zero borders
// must survive from call to call.
func TestConv3x3DWT(t *testing.T) {
	needConv3x3Kernels(t)
	cases := []struct{ n, cin, cout, h, w, stride int }{
		{3, 16, 16, 32, 32, 1}, {4, 32, 32, 16, 16, 1}, {5, 64, 64, 8, 8, 1}, {3, 16, 32, 14, 14, 1},
		{3, 16, 5, 7, 9, 1}, {2, 32, 7, 3, 20, 1}, {3, 16, 1, 33, 1, 1}, {2, 48, 2, 1, 1, 1}, {3, 16, 4, 5, 5, 1},
		{3, 16, 32, 32, 32, 2}, {4, 32, 64, 16, 16, 2}, {3, 16, 5, 7, 9, 2}, {2, 32, 2, 10, 6, 2}, {2, 16, 4, 1, 1, 2},
	}
	for _, c := range cases {
		name := fmt.Sprintf("n%d cin%d cout%d %dx%d stride %d", c.n, c.cin, c.cout, c.h, c.w, c.stride)
		r := rand.New(rand.NewSource(int64(c.h*13 + c.cout)))
		g, err := newConvGeom([]int{c.n, c.cin, c.h, c.w}, []int{c.cout, c.cin, 3, 3}, 1, c.stride)
		if err != nil {
			t.Fatal(err)
		}
		x, w, dy := normals(r, c.n*c.cin*c.h*c.w), normals(r, c.cout*c.cin*9), normals(r, c.n*c.cout*g.p)
		pl := newConv3x3Plan(c.h, c.w)
		raw := make([]float32, pl.dwtScratchLen(c.n, c.cin))
		for _, n := range []int{c.n, c.n - 1} {
			g.n = n
			_, _, want := refConv(g, x[:n*c.cin*c.h*c.w], w, dy[:n*c.cout*g.p])
			dw := make([]float32, len(w))
			for i := range dw {
				dw[i] = 1 // the kernel adds
				want[i]++
			}
			conv3x3DWTStride(pl, c.stride, x, dy, dw, n, c.cin, c.cout, raw)
			compare(t, fmt.Sprintf("%s, %d images: dw", name, n), dw, want)
			// The Go reference agrees too (purego builds run it).
			gdw := make([]float32, len(w))
			goConv3x3DWStride(pl, c.stride, x, dy, gdw, n, c.cin, c.cout)
			for i := range want {
				want[i]--
			}
			compare(t, fmt.Sprintf("%s, %d images: go dw", name, n), gdw, want)
		}
	}
}

// TestConv3x3FwdT checks that the channels-last forward kernel (the AVX-512 one where
// this CPU has it, else its Go reference) gives the same bits as conv3x3Fwd, with and
// without bias, calling it twice on one scratch buffer as the layers do, and that
// its Go reference does too.
func TestConv3x3FwdT(t *testing.T) {
	needConv3x3Kernels(t)
	cases := []struct{ n, cin, cout, h, w int }{
		{3, 16, 32, 16, 16}, {2, 32, 32, 16, 16}, {3, 64, 64, 8, 8}, {2, 32, 64, 8, 8},
		{2, 16, 32, 5, 8}, {2, 48, 96, 3, 16}, {2, 16, 32, 1, 8},
	}
	for _, c := range cases {
		name := fmt.Sprintf("n%d cin%d cout%d %dx%d", c.n, c.cin, c.cout, c.h, c.w)
		if !conv3x3FwdTOK(c.cin, c.cout, c.w) {
			t.Fatalf("%s: conv3x3FwdTOK is false", name)
		}
		r := rand.New(rand.NewSource(int64(c.h*17 + c.cout)))
		pl := newConv3x3Plan(c.h, c.w)
		raw := make([]float32, pl.fwdtScratchLen(c.cin))
		for k, withBias := range []bool{false, true} {
			x, w := normals(r, c.n*c.cin*pl.p), normals(r, c.cout*c.cin*9)
			var bias []float32
			if withBias {
				bias = normals(r, c.cout)
			}
			wp, wq := make([]float32, len(w)), make([]float32, len(w))
			packConv3x3Fwd(w, wp, c.cin, c.cout)
			packConv3x3T(wq, c.cin, c.cout, func(o, i, t int) float32 { return w[(o*c.cin+i)*9+t] })
			n := c.n * c.cout * pl.p
			want, got, gwant, gold := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			conv3x3Fwd(pl, x, wp, bias, want, c.n, c.cin, c.cout)
			conv3x3FwdT(pl, x, wq, bias, got, c.n, c.cin, c.cout, raw)
			// The Go references (which do not fuse multiply and add) agree with each other.
			goConv3x3Fwd(pl, x, wp, bias, gwant, c.n, c.cin, c.cout)
			goConv3x3FwdT(pl, x, wq, bias, gold, c.n, c.cin, c.cout)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(gold[i]) != math.Float32bits(gwant[i]) {
					t.Fatalf("%s, call %d: y[%d] = %g (Go reference %g), conv3x3Fwd gives %g (%g)", name, k, i, got[i], gold[i], want[i], gwant[i])
				}
			}
		}
	}
}

// TestConv3x3FwdTStride2 checks conv3x3FwdTStride with stride 2 (the AVX-512 kernel
// where this CPU has it, else the Go reference) against direct summation in float64,
// calling it twice on one scratch buffer.
func TestConv3x3FwdTStride2(t *testing.T) {
	needConv3x3Kernels(t)
	cases := []struct{ n, cin, cout, h, w int }{
		{3, 16, 32, 32, 32}, {2, 32, 64, 16, 16}, {2, 16, 32, 5, 16}, {2, 48, 64, 4, 15},
	}
	for _, c := range cases {
		name := fmt.Sprintf("n%d cin%d cout%d %dx%d", c.n, c.cin, c.cout, c.h, c.w)
		g, err := newConvGeom([]int{c.n, c.cin, c.h, c.w}, []int{c.cout, c.cin, 3, 3}, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewSource(int64(c.h*19 + c.cout)))
		pl := newConv3x3Plan(c.h, c.w)
		raw := make([]float32, pl.fwdtScratchLen(c.cin))
		for k := 0; k < 2; k++ {
			x, w, bias := normals(r, c.n*c.cin*c.h*c.w), normals(r, c.cout*c.cin*9), normals(r, c.cout)
			wq := make([]float32, len(w))
			packConv3x3T(wq, c.cin, c.cout, func(o, i, t int) float32 { return w[(o*c.cin+i)*9+t] })
			want, _, _ := refConv(g, x, w, make([]float32, c.n*c.cout*g.p))
			for i := range want {
				want[i] += float64(bias[i/g.p%c.cout])
			}
			y := make([]float32, len(want))
			conv3x3FwdTStride(pl, 2, x, wq, bias, y, c.n, c.cin, c.cout, raw)
			compare(t, fmt.Sprintf("%s, call %d: y", name, k), y, want)
			gy := make([]float32, len(want))
			goConv3x3FwdTStride(pl, 2, x, wq, bias, gy, c.n, c.cin, c.cout)
			compare(t, fmt.Sprintf("%s, call %d: go y", name, k), gy, want)
		}
	}
}

// needConv3x3Kernels skips a test that calls the AVX-512 kernels directly on a CPU
// without AVX-512 (they die there with SIGILL, taking the package's other tests with
// them); the layers then use the portable convolution, which the other tests cover.
func needConv3x3Kernels(t *testing.T) {
	t.Helper()
	if !haveConv3x3 {
		t.Skip("no AVX-512 here: the direct 3×3 kernels are not used")
	}
}
