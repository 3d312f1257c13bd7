//go:build cgo && !purego

package nn

/*
// Compiled at -O3 whatever CGO_CFLAGS says, so that GCC vectorises the loops, once per
// vector width (target_clones picks the variant for this CPU when the program loads).
#pragma GCC optimize("O3")
#include <string.h>

#define KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define LANES 16
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));
typedef int vi __attribute__((vector_size(LANES * sizeof(int))));

KERNEL static void bn_stats(const float *restrict x, long n, long c, long inner, long lo, long hi,
	const float *restrict shift, double *restrict sum, double *restrict sq) {
	for (long ch = lo; ch < hi; ch++) {
		float s0 = shift[ch];
		double s = 0, q = 0;
		for (long i = 0; i < n; i++) {
			const float *p = x + (i * c + ch) * inner;
			float a[LANES] = {0}, b[LANES] = {0};
			long j = 0;
			for (; j + LANES <= inner; j += LANES)
				for (int l = 0; l < LANES; l++) {
					float v = p[j + l] - s0;
					a[l] += v;
					b[l] += v * v;
				}
			float ta = 0, tb = 0;
			for (; j < inner; j++) {
				float v = p[j] - s0;
				ta += v;
				tb += v * v;
			}
			for (int l = 0; l < LANES; l++) {
				ta += a[l];
				tb += b[l];
			}
			s += ta;
			q += tb;
		}
		sum[ch] += s;
		sq[ch] += q;
	}
}

KERNEL static void bn_forward(const float *restrict x, float *restrict y, long n, long c, long inner,
	long lo, long hi, const float *restrict a, const float *restrict b, int relu) {
	for (long ch = lo; ch < hi; ch++) {
		float av = a[ch], bv = b[ch];
		for (long i = 0; i < n; i++) {
			const float *xs = x + (i * c + ch) * inner;
			float *ys = y + (i * c + ch) * inner;
			if (relu)
				for (long j = 0; j < inner; j++) {
					float v = xs[j] * av + bv;
					ys[j] = v > 0 ? v : 0;
				}
			else
				for (long j = 0; j < inner; j++) ys[j] = xs[j] * av + bv;
		}
	}
}

KERNEL static void bn_backward_sums(const float *restrict dy, const float *restrict x, const float *restrict y,
	long n, long c, long inner, long lo, long hi, const float *restrict mean, double *restrict sd, double *restrict sdx) {
	for (long ch = lo; ch < hi; ch++) {
		float m = mean[ch];
		double s = 0, sx = 0;
		for (long i = 0; i < n; i++) {
			long o = (i * c + ch) * inner;
			const float *xs = x + o, *dys = dy + o, *ys = y ? y + o : 0;
			float a[LANES] = {0}, b[LANES] = {0};
			long j = 0;
			if (ys) {
				// GCC does not if-convert the mask inside this reduction: vector
				// extensions, the mask as the bits of the comparison.
				vf va = {0}, vb = {0}, vm = m - (vf){0};
				for (; j + LANES <= inner; j += LANES) {
					vf dv, yv, xv;
					memcpy(&dv, dys + j, sizeof dv);
					memcpy(&yv, ys + j, sizeof yv);
					memcpy(&xv, xs + j, sizeof xv);
					vf d = (vf)((vi)(yv > 0) & (vi)dv);
					va += d;
					vb += d * (xv - vm);
				}
				for (int l = 0; l < LANES; l++) {
					a[l] = va[l];
					b[l] = vb[l];
				}
			}
			else
				for (; j + LANES <= inner; j += LANES)
					for (int l = 0; l < LANES; l++) {
						float d = dys[j + l];
						a[l] += d;
						b[l] += d * (xs[j + l] - m);
					}
			float ta = 0, tb = 0;
			for (; j < inner; j++) {
				float d = (!ys || ys[j] > 0) ? dys[j] : 0;
				ta += d;
				tb += d * (xs[j] - m);
			}
			for (int l = 0; l < LANES; l++) {
				ta += a[l];
				tb += b[l];
			}
			s += ta;
			sx += tb;
		}
		sd[ch] += s;
		sdx[ch] += sx;
	}
}

KERNEL static void bn_backward_dx(const float *restrict dy, const float *restrict x, const float *restrict y,
	float *restrict dx, long n, long c, long inner, long lo, long hi, const float *restrict mean,
	const float *restrict k, const float *restrict md, const float *restrict q) {
	for (long ch = lo; ch < hi; ch++) {
		float m = mean[ch], kv = k[ch], mv = md[ch], qv = q[ch];
		for (long i = 0; i < n; i++) {
			long o = (i * c + ch) * inner;
			const float *xs = x + o, *dys = dy + o;
			float *dxs = dx + o;
			if (y) {
				const float *ys = y + o;
				for (long j = 0; j < inner; j++) {
					float dv = dys[j], yv = ys[j];
					float d = yv > 0 ? dv : 0;
					dxs[j] = kv * (d - mv - (xs[j] - m) * qv);
				}
			} else
				for (long j = 0; j < inner; j++) dxs[j] = kv * (dys[j] - mv - (xs[j] - m) * qv);
		}
	}
}

KERNEL static void relu_fwd(const float *restrict x, float *restrict y, long n) {
	for (long i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

KERNEL static void relu_grad(const float *restrict y, const float *restrict dy, float *restrict dx, long n) {
	for (long i = 0; i < n; i++) {
		float yv = y[i], dv = dy[i];
		dx[i] = yv > 0 ? dv : 0;
	}
}

KERNEL static void add_relu(const float *restrict a, const float *restrict b, float *restrict y, long n) {
	for (long i = 0; i < n; i++) {
		float v = a[i] + b[i];
		y[i] = v > 0 ? v : 0;
	}
}

KERNEL static void add2(const float *restrict a, const float *restrict b, float *restrict y, long n) {
	for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
}

KERNEL static void add_to(float *restrict d, const float *restrict s, long n) {
	for (long i = 0; i < n; i++) d[i] += s[i];
}

// im2col_same unfolds one C×H×W image for a stride-1 convolution that keeps the size
// (see convGeom.im2colSame); rows of col are ld apart.
static void im2col_same(const float *restrict x, float *restrict col, long c, long h, long w, long kh, long kw, long pad, long ld) {
	long hw = h * w;
	float *dst = col;
	for (long ch = 0; ch < c; ch++) {
		const float *xc = x + ch * hw;
		for (long ki = 0; ki < kh; ki++)
			for (long kj = 0; kj < kw; kj++, dst += ld) {
				long off = (ki - pad) * w + (kj - pad);
				long lo = off < 0 ? -off : 0, hi = hw - off < hw ? hw - off : hw;
				if (lo > hi) lo = hi;
				memset(dst, 0, lo * sizeof(float));
				memcpy(dst + lo, xc + lo + off, (hi - lo) * sizeof(float));
				memset(dst + hi, 0, (hw - hi) * sizeof(float));
				// valid columns: 0 <= ox + kj - pad < w
				long clo = pad - kj > 0 ? pad - kj : 0, chi = w - (kj - pad) < w ? w - (kj - pad) : w;
				if (clo == 0 && chi == w) continue;
				for (long o = 0; o < hw; o += w) {
					for (long j = 0; j < clo; j++) dst[o + j] = 0;
					for (long j = chi; j < w; j++) dst[o + j] = 0;
				}
			}
	}
}
*/
import "C"

import "unsafe"

func fp(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

func dp(s []float64) *C.double { return (*C.double)(unsafe.Pointer(&s[0])) }

func bnStats(x []float32, n, c, inner, lo, hi int, shift []float32, sum, sq []float64) {
	_ = x[n*c*inner-1]
	C.bn_stats(fp(x), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi), fp(shift), dp(sum), dp(sq))
}

func bnForward(x, y []float32, n, c, inner, lo, hi int, a, b []float32, relu bool) {
	_, _ = x[n*c*inner-1], y[n*c*inner-1]
	r := C.int(0)
	if relu {
		r = 1
	}
	C.bn_forward(fp(x), fp(y), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi), fp(a), fp(b), r)
}

func bnBackwardSums(dy, x, y []float32, n, c, inner, lo, hi int, mean []float32, sd, sdx []float64) {
	_, _ = dy[n*c*inner-1], x[n*c*inner-1]
	if y != nil {
		_ = y[n*c*inner-1]
	}
	C.bn_backward_sums(fp(dy), fp(x), fp(y), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi), fp(mean), dp(sd), dp(sdx))
}

func bnBackwardDx(dy, x, y, dx []float32, n, c, inner, lo, hi int, mean, k, md, q []float32) {
	_, _, _ = dy[n*c*inner-1], x[n*c*inner-1], dx[n*c*inner-1]
	if y != nil {
		_ = y[n*c*inner-1]
	}
	C.bn_backward_dx(fp(dy), fp(x), fp(y), fp(dx), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi),
		fp(mean), fp(k), fp(md), fp(q))
}

func reluKernel(x, y []float32) {
	if len(x) == 0 {
		return
	}
	_ = y[len(x)-1]
	C.relu_fwd(fp(x), fp(y), C.long(len(x)))
}

func reluGradKernel(y, dy, dx []float32) {
	if len(y) == 0 {
		return
	}
	_, _ = dy[len(y)-1], dx[len(y)-1]
	C.relu_grad(fp(y), fp(dy), fp(dx), C.long(len(y)))
}

func addReLUKernel(a, b, y []float32) {
	if len(a) == 0 {
		return
	}
	_, _ = b[len(a)-1], y[len(a)-1]
	C.add_relu(fp(a), fp(b), fp(y), C.long(len(a)))
}

func addKernel(a, b, y []float32) {
	if len(a) == 0 {
		return
	}
	_, _ = b[len(a)-1], y[len(a)-1]
	C.add2(fp(a), fp(b), fp(y), C.long(len(a)))
}

func addTo(dst, src []float32) {
	if len(dst) == 0 {
		return
	}
	_ = src[len(dst)-1]
	C.add_to(fp(dst), fp(src), C.long(len(dst)))
}

func im2colSameKernel(g *convGeom, x, col []float32, ld int) {
	_, _ = x[g.inSize()-1], col[(g.ckk-1)*ld+g.p-1]
	C.im2col_same(fp(x), fp(col), C.long(g.c), C.long(g.h), C.long(g.w), C.long(g.kh), C.long(g.kw), C.long(g.pad), C.long(ld))
}

// cKernels reports whether the C kernels are in use (tests compare them with the Go ones).
const cKernels = true
