package nn

import (
	"math"
	"os"
)

// noStride2 (GOINV_NN_STRIDE2=0) sends 3×3 stride-2 convolutions through the general
// unfolding loops instead of their own (same results; to compare speeds).
var noStride2 = os.Getenv("GOINV_NN_STRIDE2") == "0"

// The elementwise kernels below sit on the hot path of every training step (batch norm,
// ReLU, the unfolding of same convolutions). With cgo they run as C compiled for the
// CPU's vector units (kernels_cgo.go); these Go versions are the fallback for pure-Go
// builds and the reference the tests compare the C versions with.

// goBNStats adds Σx and Σ(x−shift)² over every plane of channel ch ∈ [lo, hi) of x
// (N×C×inner) to sum[ch] and sq[ch]. The shift (an estimate of the mean, such as the
// first value of the channel) keeps the squares from cancelling.
func goBNStats(x []float32, n, c, inner, lo, hi int, shift []float32, sum, sq []float64) {
	for ch := lo; ch < hi; ch++ {
		s0 := shift[ch]
		var s, q float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * inner
			var a0, a1, q0, q1 float32
			p := x[o : o+inner]
			j := 0
			for ; j+2 <= len(p); j += 2 {
				v0, v1 := p[j]-s0, p[j+1]-s0
				a0 += v0
				a1 += v1
				q0 += v0 * v0
				q1 += v1 * v1
			}
			for ; j < len(p); j++ {
				v := p[j] - s0
				a0 += v
				q0 += v * v
			}
			s += float64(a0) + float64(a1)
			q += float64(q0) + float64(q1)
		}
		sum[ch] += s
		sq[ch] += q
	}
}

// goBNForward writes y = x·a + b per channel (a = γσ⁻¹, b = β − μγσ⁻¹), then max(y, 0)
// when relu is set, for channels [lo, hi). With sc (a residual shortcut) it writes
// max(x·a + b + sc, 0) whatever relu says.
func goBNForward(x, sc, y []float32, n, c, inner, lo, hi int, a, b []float32, relu bool) {
	for ch := lo; ch < hi; ch++ {
		av, bv := a[ch], b[ch]
		for i := 0; i < n; i++ {
			o := (i*c + ch) * inner
			xs, ys := x[o:o+inner], y[o:o+inner]
			if sc != nil {
				ss := sc[o : o+inner]
				for j, v := range xs {
					ys[j] = max(v*av+bv+ss[j], 0)
				}
				continue
			}
			for j, v := range xs {
				out := v*av + bv
				if relu {
					out = max(out, 0)
				}
				ys[j] = out
			}
		}
	}
}

// goBNBackwardSums adds Σd and Σd·(x−μ) over channels [lo, hi) to sd and sdx, where d is
// dy masked by the fused ReLU: by y > 0 when y is not nil, by x·ra + rb > 0 (the
// forward's output, recomputed as goBNForward computed it) when ra is not nil. When
// dout is not nil it also stores d there (the masked gradient, which a residual
// block's shortcut needs too).
func goBNBackwardSums(dy, x, y, ra, rb, dout []float32, n, c, inner, lo, hi int, mean []float32, sd, sdx []float64) {
	for ch := lo; ch < hi; ch++ {
		m := mean[ch]
		var av, bv float32
		if ra != nil {
			av, bv = ra[ch], rb[ch]
		}
		var s, sx float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * inner
			var a0, b0 float32
			xs, dys := x[o:o+inner], dy[o:o+inner]
			for j, d := range dys {
				if y != nil && !(y[o+j] > 0) || ra != nil && !(xs[j]*av+bv > 0) {
					if dout != nil {
						dout[o+j] = 0
					}
					continue
				}
				if dout != nil {
					dout[o+j] = d
				}
				a0 += d
				b0 += d * (xs[j] - m)
			}
			s += float64(a0)
			sx += float64(b0)
		}
		sd[ch] += s
		sdx[ch] += sx
	}
}

// goBNBackwardDx writes dx = k·(d − md − (x−μ)·q) for channels [lo, hi), with d as in
// goBNBackwardSums and per-channel k, md, q.
func goBNBackwardDx(dy, x, y, ra, rb, dx []float32, n, c, inner, lo, hi int, mean, k, md, q []float32) {
	for ch := lo; ch < hi; ch++ {
		m, kv, mv, qv := mean[ch], k[ch], md[ch], q[ch]
		var av, bv float32
		if ra != nil {
			av, bv = ra[ch], rb[ch]
		}
		for i := 0; i < n; i++ {
			o := (i*c + ch) * inner
			xs, dys, dxs := x[o:o+inner], dy[o:o+inner], dx[o:o+inner]
			for j, d := range dys {
				if y != nil && !(y[o+j] > 0) || ra != nil && !(xs[j]*av+bv > 0) {
					d = 0
				}
				dxs[j] = kv * (d - mv - (xs[j]-m)*qv)
			}
		}
	}
}

// goReLU writes max(x, 0) to y.
func goReLU(x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		// Branch-free: random signs would defeat the branch predictor.
		b := math.Float32bits(v)
		y[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// goReLUGrad writes dy where y > 0 and 0 elsewhere to dx (y ≥ 0, the output of a ReLU).
func goReLUGrad(y, dy, dx []float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	for i, v := range y {
		b := int32(math.Float32bits(v))
		mask := uint32((b | -b) >> 31)
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & mask)
	}
}

// goAdd writes a + b to y.
func goAdd(a, b, y []float32) {
	b, y = b[:len(a)], y[:len(a)]
	for i, v := range a {
		y[i] = v + b[i]
	}
}

// goAddTo adds src to dst elementwise.
func goAddTo(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		d, s := dst[i:i+4:i+4], src[i:i+4:i+4]
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
	}
	for ; i < len(dst); i++ {
		dst[i] += src[i]
	}
}

// goChanSum writes Σ over images and positions of channel ch of x (N×C×inner) to
// out[ch] for ch ∈ [lo, hi).
func goChanSum(x []float32, n, c, inner, lo, hi int, out []float32) {
	for ch := lo; ch < hi; ch++ {
		var sum float64
		for i := 0; i < n; i++ {
			var s float32
			for _, v := range x[(i*c+ch)*inner : (i*c+ch+1)*inner] {
				s += v
			}
			sum += float64(s)
		}
		out[ch] = float32(sum)
	}
}

// goMaxPool2 takes the maximum of every 2×2 window (stride 2) of each h×w plane of x,
// writing the oh×ow maxima to y and the index of the first maximum of each window
// within its plane to arg.
func goMaxPool2(x, y []float32, arg []int32, planes, h, w, oh, ow int) {
	for pl := 0; pl < planes; pl++ {
		xp := x[pl*h*w : (pl+1)*h*w]
		yp := y[pl*oh*ow : (pl+1)*oh*ow]
		ap := arg[pl*oh*ow : (pl+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			r0, r1 := xp[2*oy*w:2*oy*w+w], xp[(2*oy+1)*w:(2*oy+1)*w+w]
			yr := yp[oy*ow : (oy+1)*ow]
			ar := ap[oy*ow : (oy+1)*ow]
			base := int32(2 * oy * w)
			for ox := range yr {
				// Branch-free (max and integer conditional moves): the comparisons
				// are unpredictable. Ties go to the first.
				a, b, c, d := r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1]
				m0 := max(max(a, b), max(c, d))
				i0 := int32(w + 1)
				if c == m0 {
					i0 = int32(w)
				}
				if b == m0 {
					i0 = 1
				}
				if a == m0 {
					i0 = 0
				}
				yr[ox] = m0
				ar[ox] = base + i0 + int32(2*ox)
			}
		}
	}
}
