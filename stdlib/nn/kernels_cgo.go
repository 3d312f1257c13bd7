//go:build cgo && !purego

package nn

/*
// Compiled at -O3 whatever CGO_CFLAGS says, so that GCC vectorises the loops, and on
// x86-64 once per vector width (target_clones picks the variant for this CPU when the
// program loads). Other compilers and CPUs get one portable build of the same code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <string.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(GOINV_NO_CLONES)
#define KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KERNEL
#endif
#define LANES 16
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));
typedef int vi __attribute__((vector_size(LANES * sizeof(int))));
// Lane-wise mask ? a : b (C has no vector conditional operator).
#define SELF(mask, a, b) ((vf)(((mask) & (vi)(a)) | (~(mask) & (vi)(b))))
#define SELI(mask, a, b) (((mask) & (a)) | (~(mask) & (b)))
// The even and odd lanes of the 32 values in two vectors.
#if defined(__clang__)
#define EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#else
#define EVEN(a, b) __builtin_shuffle(a, b, (vi){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30})
#define ODD(a, b) __builtin_shuffle(a, b, (vi){1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31})
#endif

// The reductions use GCC's vector extensions: written as lane arrays, GCC vectorises
// them across the wrong loop and runs slower than scalar Go.
KERNEL static void bn_stats(const float *restrict x, long n, long c, long inner, long lo, long hi,
	const float *restrict shift, double *restrict sum, double *restrict sq) {
	for (long ch = lo; ch < hi; ch++) {
		float s0 = shift[ch];
		vf vs = s0 - (vf){0};
		double s = 0, q = 0;
		for (long i = 0; i < n; i++) {
			const float *p = x + (i * c + ch) * inner;
			vf a = {0}, b = {0};
			long j = 0;
			for (; j + LANES <= inner; j += LANES) {
				vf v;
				memcpy(&v, p + j, sizeof v);
				v -= vs;
				a += v;
				b += v * v;
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

KERNEL static void chan_sum(const float *restrict x, long n, long c, long inner, long lo, long hi, float *restrict out) {
	for (long ch = lo; ch < hi; ch++) {
		double s = 0;
		for (long i = 0; i < n; i++) {
			const float *p = x + (i * c + ch) * inner;
			vf a = {0};
			long j = 0;
			for (; j + LANES <= inner; j += LANES) {
				vf v;
				memcpy(&v, p + j, sizeof v);
				a += v;
			}
			float t = 0;
			for (; j < inner; j++) t += p[j];
			for (int l = 0; l < LANES; l++) t += a[l];
			s += t;
		}
		out[ch] = s;
	}
}

// maxpool2 takes the maximum of every 2×2 window of the planes [0, planes) (h×w each,
// output oh×ow), recording the index of the first maximum within its plane.
KERNEL static void maxpool2(const float *restrict x, float *restrict y, int *restrict arg, long planes, long h, long w, long oh, long ow) {
	for (long pl = 0; pl < planes; pl++) {
		const float *xp = x + pl * h * w;
		float *yp = y + pl * oh * ow;
		int *ap = arg + pl * oh * ow;
		for (long oy = 0; oy < oh; oy++) {
			const float *r0 = xp + 2 * oy * w, *r1 = r0 + w;
			float *yr = yp + oy * ow;
			int *ar = ap + oy * ow;
			int base = 2 * oy * w;
			long ox = 0;
			// 16 windows at a time: deinterleave the even and odd columns of both
			// rows, then select maxima and their indices with comparison masks.
			const vi lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
			for (; ox + LANES <= ow && 2 * (ox + LANES) <= w; ox += LANES) {
				vf p0, p1, q0, q1;
				memcpy(&p0, r0 + 2 * ox, sizeof p0);
				memcpy(&p1, r0 + 2 * ox + LANES, sizeof p1);
				memcpy(&q0, r1 + 2 * ox, sizeof q0);
				memcpy(&q1, r1 + 2 * ox + LANES, sizeof q1);
				vf a = EVEN(p0, p1), b = ODD(p0, p1), c = EVEN(q0, q1), d = ODD(q0, q1);
				vf m0 = SELF(a > b, a, b), m1 = SELF(c > d, c, d);
				vf m = SELF(m0 > m1, m0, m1);
				vi i = (vi){0} + (int)w + 1;
				i = SELI(c == m, (vi){0} + (int)w, i);
				i = SELI(b == m, (vi){0} + 1, i);
				i = SELI(a == m, (vi){0}, i);
				i += base + 2 * ((int)ox + lane);
				memcpy(yr + ox, &m, sizeof m);
				memcpy(ar + ox, &i, sizeof i);
			}
			for (; ox < ow; ox++) {
				float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
				float m0 = a > b ? a : b, m1 = c > d ? c : d;
				float m = m0 > m1 ? m0 : m1;
				int i = (int)w + 1;
				i = c == m ? (int)w : i;
				i = b == m ? 1 : i;
				i = a == m ? 0 : i;
				yr[ox] = m;
				ar[ox] = base + i + 2 * (int)ox;
			}
		}
	}
}

// bn_forward: y = x·a + b (+ s when s is not null), then max(y, 0) when relu is set.
KERNEL static void bn_forward(const float *restrict x, const float *restrict s, float *restrict y, long n, long c,
	long inner, long lo, long hi, const float *restrict a, const float *restrict b, int relu) {
	for (long ch = lo; ch < hi; ch++) {
		float av = a[ch], bv = b[ch];
		for (long i = 0; i < n; i++) {
			long o = (i * c + ch) * inner;
			const float *xs = x + o;
			float *ys = y + o;
			if (s) {
				const float *ss = s + o;
				for (long j = 0; j < inner; j++) {
					float v = xs[j] * av + bv + ss[j];
					ys[j] = v > 0 ? v : 0;
				}
			} else if (relu)
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
	const float *restrict ra, const float *restrict rb, float *restrict dout,
	long n, long c, long inner, long lo, long hi, const float *restrict mean, double *restrict sd, double *restrict sdx) {
	for (long ch = lo; ch < hi; ch++) {
		float m = mean[ch];
		vf vm = m - (vf){0};
		float rav = ra ? ra[ch] : 0, rbv = ra ? rb[ch] : 0;
		vf vra = rav - (vf){0}, vrb = rbv - (vf){0};
		double s = 0, sx = 0;
		for (long i = 0; i < n; i++) {
			long o = (i * c + ch) * inner;
			const float *xs = x + o, *dys = dy + o, *ys = y ? y + o : 0;
			vf va = {0}, vb = {0};
			long j = 0;
			for (; j + LANES <= inner; j += LANES) {
				vf d, xv;
				memcpy(&d, dys + j, sizeof d);
				memcpy(&xv, xs + j, sizeof xv);
				if (ys) {
					// The ReLU mask as the bits of the comparison.
					vf yv;
					memcpy(&yv, ys + j, sizeof yv);
					d = (vf)((vi)(yv > 0) & (vi)d);
				} else if (ra) {
					// The ReLU mask recomputed from x exactly as bn_forward computed
					// the output (y > 0 iff x·a + b > 0), without reading y.
					vf v = xv * vra + vrb;
					d = (vf)((vi)(v > 0) & (vi)d);
				}
				if (dout) memcpy(dout + o + j, &d, sizeof d);
				va += d;
				vb += d * (xv - vm);
			}
			float ta = 0, tb = 0;
			for (; j < inner; j++) {
				float d = dys[j];
				if (ys && !(ys[j] > 0)) d = 0;
				if (ra) {
					float v = xs[j] * rav + rbv;
					if (!(v > 0)) d = 0;
				}
				if (dout) dout[o + j] = d;
				ta += d;
				tb += d * (xs[j] - m);
			}
			for (int l = 0; l < LANES; l++) {
				ta += va[l];
				tb += vb[l];
			}
			s += ta;
			sx += tb;
		}
		sd[ch] += s;
		sdx[ch] += sx;
	}
}

KERNEL static void bn_backward_dx(const float *restrict dy, const float *restrict x, const float *restrict y,
	const float *restrict ra, const float *restrict rb,
	float *restrict dx, long n, long c, long inner, long lo, long hi, const float *restrict mean,
	const float *restrict k, const float *restrict md, const float *restrict q) {
	for (long ch = lo; ch < hi; ch++) {
		float m = mean[ch], kv = k[ch], mv = md[ch], qv = q[ch];
		float rav = ra ? ra[ch] : 0, rbv = ra ? rb[ch] : 0;
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
			} else if (ra)
				for (long j = 0; j < inner; j++) {
					float dv = dys[j], v = xs[j] * rav + rbv;
					float d = v > 0 ? dv : 0;
					dxs[j] = kv * (d - mv - (xs[j] - m) * qv);
				}
			else
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

KERNEL static void add2(const float *restrict a, const float *restrict b, float *restrict y, long n) {
	for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
}

KERNEL static void add_to(float *restrict d, const float *restrict s, long n) {
	for (long i = 0; i < n; i++) d[i] += s[i];
}

// im2col_same unfolds one C×H×W image for a stride-1 convolution that keeps the size
// (see convGeom.im2colSame); rows of col are ld apart. The columns a tap puts on the
// padding are zeroed with a bit mask per tap column, so that every row is one
// vectorised pass however narrow the image.
KERNEL static void im2col_same(const float *restrict x, float *restrict col, long c, long h, long w, long kh, long kw,
	long pad, long ld, uint32_t *restrict masks) {
	long hw = h * w;
	// masks[kj*hw + p] is all ones where output column p%w reads inside the image.
	for (long kj = 0; kj < kw; kj++)
		for (long p = 0; p < hw; p++) {
			long ix = p % w + kj - pad;
			masks[kj * hw + p] = (ix >= 0 && ix < w) ? 0xffffffffu : 0;
		}
	float *dst = col;
	for (long ch = 0; ch < c; ch++) {
		const float *xc = x + ch * hw;
		for (long ki = 0; ki < kh; ki++)
			for (long kj = 0; kj < kw; kj++, dst += ld) {
				long off = (ki - pad) * w + (kj - pad);
				long lo = off < 0 ? -off : 0, hi = hw - off < hw ? hw - off : hw;
				if (lo > hi) lo = hi;
				for (long p = 0; p < lo; p++) dst[p] = 0;
				if (kj == pad)
					memcpy(dst + lo, xc + lo + off, (hi - lo) * sizeof(float));
				else {
					const uint32_t *src = (const uint32_t *)(xc + off), *m = masks + kj * hw;
					uint32_t *d = (uint32_t *)dst;
					for (long p = lo; p < hi; p++) d[p] = src[p] & m[p];
				}
				for (long p = hi; p < hw; p++) dst[p] = 0;
			}
	}
}

// valid_range: the output columns [*lo, *hi) whose input column ox*s+off lies in [0, w).
static void valid_range(long ow, long s, long off, long w, long *lo, long *hi) {
	*lo = off < 0 ? (-off + s - 1) / s : 0;
	long m = w - 1 - off;
	*hi = m < 0 ? 0 : (m / s + 1 < ow ? m / s + 1 : ow);
	if (*lo > *hi) *lo = *hi;
}

// im2col_s2 and col2im_s2 are im2col_general and col2im_general for the 3×3, pad 1,
// stride 2 convolutions of even-sized images (ResNet's downsampling), with the three
// columns of a kernel row handled in one loop over output columns that the compiler
// vectorises (the general loops' strided accesses stay scalar). Every element gets the
// same additions in the same order as in the general loops, so the results are
// identical.
KERNEL static void im2col_s2(const float *restrict x, float *restrict col, long ld, long c, long h, long w) {
	long oh = h / 2, ow = w / 2;
	for (long ch = 0; ch < c; ch++) {
		const float *xc = x + ch * h * w;
		for (long ki = 0; ki < 3; ki++) {
			float *c0 = col + (ch * 9 + ki * 3) * ld, *c1 = c0 + ld, *c2 = c1 + ld;
			for (long oy = 0; oy < oh; oy++) {
				long iy = 2 * oy - 1 + ki;
				float *d0 = c0 + oy * ow, *d1 = c1 + oy * ow, *d2 = c2 + oy * ow;
				if (iy < 0) {
					memset(d0, 0, ow * sizeof(float));
					memset(d1, 0, ow * sizeof(float));
					memset(d2, 0, ow * sizeof(float));
					continue;
				}
				const float *src = xc + iy * w;
				d0[0] = 0;
				for (long ox = 1; ox < ow; ox++) d0[ox] = src[2 * ox - 1];
				for (long ox = 0; ox < ow; ox++) {
					d1[ox] = src[2 * ox];
					d2[ox] = src[2 * ox + 1];
				}
			}
		}
	}
}

KERNEL static void col2im_s2(const float *restrict col, float *restrict dx, long ld, long c, long h, long w) {
	long oh = h / 2, ow = w / 2;
	for (long ch = 0; ch < c; ch++) {
		float *xc = dx + ch * h * w;
		for (long ki = 0; ki < 3; ki++) {
			const float *c0 = col + (ch * 9 + ki * 3) * ld, *c1 = c0 + ld, *c2 = c1 + ld;
			for (long oy = 0; oy < oh; oy++) {
				long iy = 2 * oy - 1 + ki;
				if (iy < 0) continue;
				float *d = xc + iy * w;
				const float *s0 = c0 + oy * ow, *s1 = c1 + oy * ow, *s2 = c2 + oy * ow;
				// Input column 2m gets kernel column 1 of output m; column 2m+1 gets
				// kernel column 0 of output m+1, then kernel column 2 of output m.
				for (long m = 0; m < ow - 1; m++) {
					d[2 * m] += s1[m];
					d[2 * m + 1] = (d[2 * m + 1] + s0[m + 1]) + s2[m];
				}
				d[2 * ow - 2] += s1[ow - 1];
				d[2 * ow - 1] += s2[ow - 1];
			}
		}
	}
}

// im2col_general and col2im_general are convGeom.im2colGeneric and col2imGeneric.
static void im2col_general(const float *restrict x, float *restrict col, long ld, long c, long h, long w,
	long kh, long kw, long pad, long s, long oh, long ow) {
	long row = 0;
	for (long ch = 0; ch < c; ch++) {
		const float *xc = x + ch * h * w;
		for (long ki = 0; ki < kh; ki++)
			for (long kj = 0; kj < kw; kj++, row++) {
				float *dst = col + row * ld;
				long lo, hi;
				valid_range(ow, s, kj - pad, w, &lo, &hi);
				for (long oy = 0; oy < oh; oy++) {
					long iy = oy * s - pad + ki;
					float *d = dst + oy * ow;
					if (iy < 0 || iy >= h) {
						memset(d, 0, ow * sizeof(float));
						continue;
					}
					const float *src = xc + iy * w - pad + kj;
					for (long ox = 0; ox < lo; ox++) d[ox] = 0;
					for (long ox = lo; ox < hi; ox++) d[ox] = src[ox * s];
					for (long ox = hi; ox < ow; ox++) d[ox] = 0;
				}
			}
	}
}

static void col2im_general(const float *restrict col, float *restrict dx, long ld, long c, long h, long w,
	long kh, long kw, long pad, long s, long oh, long ow) {
	long row = 0;
	for (long ch = 0; ch < c; ch++) {
		float *xc = dx + ch * h * w;
		for (long ki = 0; ki < kh; ki++)
			for (long kj = 0; kj < kw; kj++, row++) {
				const float *src = col + row * ld;
				long lo, hi;
				valid_range(ow, s, kj - pad, w, &lo, &hi);
				for (long oy = 0; oy < oh; oy++) {
					long iy = oy * s - pad + ki;
					if (iy < 0 || iy >= h) continue;
					float *d = xc + iy * w - pad + kj;
					const float *sr = src + oy * ow;
					for (long ox = lo; ox < hi; ox++) d[ox * s] += sr[ox];
				}
			}
	}
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

var maskPool = sync.Pool{New: func() any { return new([]uint32) }}

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

func bnForward(x, sc, y []float32, n, c, inner, lo, hi int, a, b []float32, relu bool) {
	_, _ = x[n*c*inner-1], y[n*c*inner-1]
	if sc != nil {
		_ = sc[n*c*inner-1]
	}
	r := C.int(0)
	if relu {
		r = 1
	}
	C.bn_forward(fp(x), fp(sc), fp(y), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi), fp(a), fp(b), r)
}

func bnBackwardSums(dy, x, y, ra, rb, dout []float32, n, c, inner, lo, hi int, mean []float32, sd, sdx []float64) {
	_, _ = dy[n*c*inner-1], x[n*c*inner-1]
	if dout != nil {
		_ = dout[n*c*inner-1]
	}
	if y != nil {
		_ = y[n*c*inner-1]
	}
	if ra != nil {
		_, _ = ra[hi-1], rb[hi-1]
	}
	C.bn_backward_sums(fp(dy), fp(x), fp(y), fp(ra), fp(rb), fp(dout), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi), fp(mean), dp(sd), dp(sdx))
}

func bnBackwardDx(dy, x, y, ra, rb, dx []float32, n, c, inner, lo, hi int, mean, k, md, q []float32) {
	_, _, _ = dy[n*c*inner-1], x[n*c*inner-1], dx[n*c*inner-1]
	if y != nil {
		_ = y[n*c*inner-1]
	}
	if ra != nil {
		_, _ = ra[hi-1], rb[hi-1]
	}
	C.bn_backward_dx(fp(dy), fp(x), fp(y), fp(ra), fp(rb), fp(dx), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi),
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
	// Scratch for the column masks, one per concurrent call.
	masks := maskPool.Get().(*[]uint32)
	if need := g.kw * g.h * g.w; len(*masks) < need {
		*masks = make([]uint32, need)
	}
	C.im2col_same(fp(x), fp(col), C.long(g.c), C.long(g.h), C.long(g.w), C.long(g.kh), C.long(g.kw), C.long(g.pad), C.long(ld),
		(*C.uint32_t)(unsafe.Pointer(&(*masks)[0])))
	maskPool.Put(masks)
}

func im2colKernel(g *convGeom, x, col []float32, ld int) {
	_, _ = x[g.inSize()-1], col[(g.ckk-1)*ld+g.p-1]
	if g.stride2() && !noStride2 {
		C.im2col_s2(fp(x), fp(col), C.long(ld), C.long(g.c), C.long(g.h), C.long(g.w))
		return
	}
	C.im2col_general(fp(x), fp(col), C.long(ld), C.long(g.c), C.long(g.h), C.long(g.w), C.long(g.kh), C.long(g.kw),
		C.long(g.pad), C.long(g.stride), C.long(g.oh), C.long(g.ow))
}

func col2imKernel(g *convGeom, col, dx []float32, ld int) {
	_, _ = dx[g.inSize()-1], col[(g.ckk-1)*ld+g.p-1]
	if g.stride2() && !noStride2 {
		C.col2im_s2(fp(col), fp(dx), C.long(ld), C.long(g.c), C.long(g.h), C.long(g.w))
		return
	}
	C.col2im_general(fp(col), fp(dx), C.long(ld), C.long(g.c), C.long(g.h), C.long(g.w), C.long(g.kh), C.long(g.kw),
		C.long(g.pad), C.long(g.stride), C.long(g.oh), C.long(g.ow))
}

func chanSum(x []float32, n, c, inner, lo, hi int, out []float32) {
	_, _ = x[n*c*inner-1], out[c-1]
	C.chan_sum(fp(x), C.long(n), C.long(c), C.long(inner), C.long(lo), C.long(hi), fp(out))
}

func maxPool2(x, y []float32, arg []int32, planes, h, w, oh, ow int) {
	if planes == 0 {
		return
	}
	_, _, _ = x[planes*h*w-1], y[planes*oh*ow-1], arg[planes*oh*ow-1]
	C.maxpool2(fp(x), fp(y), (*C.int)(unsafe.Pointer(&arg[0])), C.long(planes), C.long(h), C.long(w), C.long(oh), C.long(ow))
}

// cKernels reports whether the C kernels are in use (tests compare them with the Go ones).
const cKernels = true
