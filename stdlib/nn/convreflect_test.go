package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestReflectKernelsMatchGo: the unfolding kernels of the reflect convolutions (C
// unless built with purego) equal their Go versions bit for bit, on odd sizes, with
// and without upsampling, for groups not starting at image 0.
func TestReflectKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	fill := func(n int) []float32 { return normals(rng, n) }
	for _, c := range []struct{ n, c, h, w, k, pad, stride int }{{3, 2, 7, 6, 4, 1, 2}, {2, 3, 9, 9, 3, 1, 3}} {
		gr := gorgonia.NewGraph()
		x := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(c.n, c.c, c.h, c.w), gorgonia.WithName("x"))
		w := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(2, c.c, c.k, c.k), gorgonia.WithName("w"))
		y, err := Conv2dReflect(x, w, nil, c.pad, c.stride)
		if err != nil {
			t.Fatal(err)
		}
		g := y.Op().(*rconvOp).g
		lo, hi := 1, c.n
		ld := (hi - lo) * g.p
		xs := fill(c.n * c.c * c.h * c.w)
		a, b := fill(g.ckk*ld), fill(g.ckk*ld)
		g.unfoldTap(xs, a, lo, hi)
		g.goUnfoldTap(xs, b, lo, hi)
		equalFloats(t, "unfold tap", a, b)
		dxa, dxb := fill(len(xs)), fill(len(xs))
		copy(dxb, dxa)
		g.foldTap(a, dxa, lo, hi)
		g.goFoldTap(a, dxb, lo, hi)
		equalFloats(t, "fold tap", dxa, dxb)
	}
	for _, c := range []struct{ n, c, h, w, oc, k, scale, pad int }{
		{3, 2, 7, 5, 3, 3, 1, 1}, {2, 3, 7, 7, 2, 3, 1, 1}, {2, 2, 14, 14, 3, 5, 2, 2}, {2, 3, 5, 6, 1, 5, 2, 2}, {4, 1, 9, 9, 2, 7, 1, 3}, {3, 2, 4, 4, 5, 4, 2, 1},
	} {
		gr := gorgonia.NewGraph()
		x := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(c.n, c.c, c.h, c.w), gorgonia.WithName("x"))
		w := gorgonia.NewTensor(gr, tensor.Float32, 4, gorgonia.WithShape(c.oc, c.c, c.k, c.k), gorgonia.WithName("w"))
		y, err := UpsampleConv2dReflect(x, w, nil, c.scale, c.pad)
		if err != nil {
			t.Fatal(err)
		}
		g := y.Op().(*rconvOp).g
		lo, hi := 1, c.n
		ld := (hi - lo) * g.p
		xs := fill(c.n * c.c * c.h * c.w)
		pb := make([]float32, (hi-lo)*g.padSize())
		a, b := fill(g.ckk*ld), fill(g.ckk*ld)
		g.unfoldPad(xs, a, pb, lo, hi)
		g.goUnfoldPad(xs, b, pb, lo, hi)
		equalFloats(t, "unfold", a, b)
		col := fill(g.ckk * ld)
		dxa, dxb := fill(len(xs)), fill(len(xs))
		copy(dxb, dxa)
		g.foldPad(col, dxa, pb, lo, hi)
		g.goFoldPad(col, dxb, pb, lo, hi)
		equalFloats(t, "fold", dxa, dxb)

		php := g.ph * g.pw
		ldz := (hi - lo) * php
		dy := fill(c.n * c.oc * g.p)
		dyp := make([]float32, (g.ph+g.k-1)*(g.pw+g.k-1))
		za, zb := fill(c.oc*g.kk*ldz), fill(c.oc*g.kk*ldz)
		g.unfoldZero(dy, za, dyp, lo, hi)
		g.goUnfoldZero(dy, zb, fill(len(dyp)), lo, hi)
		equalFloats(t, "unfoldZero", za, zb)
		dxp := fill(c.c * ldz)
		copy(dxb, dxa)
		g.scatterPad(dxp, dxa, lo, hi, ldz)
		g.goScatterPad(dxp, dxb, lo, hi, ldz)
		equalFloats(t, "scatter", dxa, dxb)

		// The direct convolution and its weight gradient against unfolding + SGEMM.
		ws, bias := fill(c.oc*g.ckk), fill(c.oc)
		ya, yb := fill(c.n*c.oc*g.p), fill(c.n*c.oc*g.p)
		g.direct(xs, ws, bias, ya, pb, lo, hi)
		g.goDirect(xs, ws, bias, yb, pb, lo, hi)
		closeFloats(t, "direct C/Go", ya[lo*c.oc*g.p:], yb[lo*c.oc*g.p:])
		g.goUnfoldPad(xs, a, pb, lo, hi)
		ym := make([]float32, c.oc*ld)
		sgemm(false, false, c.oc, ld, g.ckk, 1, ws, g.ckk, a, ld, 0, ym, ld)
		for b := lo; b < hi; b++ {
			for o := 0; o < c.oc; o++ {
				for j := 0; j < g.p; j++ {
					ym[o*ld+(b-lo)*g.p+j] += bias[o] - yb[(b*c.oc+o)*g.p+j]
				}
			}
		}
		closeFloats(t, "direct vs unfolded", ym, make([]float32, len(ym)))
		dwa, dwb := make([]float32, len(ws)), make([]float32, len(ws))
		g.directGradW(xs, ya, dwa, pb, lo, hi)
		g.goDirectGradW(xs, ya, dwb, pb, lo, hi)
		closeFloats(t, "direct grad w C/Go", dwa, dwb)
		dym := make([]float32, c.oc*ld)
		g.gatherDy(ya, dym, lo, hi)
		dwr := make([]float32, len(ws))
		sgemm(false, true, c.oc, g.ckk, ld, 1, dym, ld, a, ld, 0, dwr, g.ckk)
		closeFloats(t, "direct grad w vs unfolded", dwa, dwr)
	}
}

func equalFloats(t *testing.T, what string, a, b []float32) {
	t.Helper()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: C and Go differ at %d: %v != %v", what, i, a[i], b[i])
		}
	}
}

// closeFloats fails unless a and b agree to 1e-4 relative to b's largest magnitude
// (the orders of their sums differ).
func closeFloats(t *testing.T, what string, a, b []float32) {
	t.Helper()
	var m float64 = 1
	for _, v := range b {
		m = max(m, math.Abs(float64(v)))
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-4*m {
			t.Fatalf("%s: differ at %d: %v != %v", what, i, a[i], b[i])
		}
	}
}
