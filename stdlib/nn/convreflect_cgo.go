//go:build cgo && !purego

package nn

/*
// The unfolding of reflect-padded (and upsampled) convolutions and its adjoint, in C:
// the Go loops copy 7- and 14-float rows one bounds-checked float at a time. Compiled
// at -O3, on x86-64 once per vector width (see kernels_cgo.go).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-tree-loop-distribute-patterns")
#endif
#include <string.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(GOINV_NO_CLONES)
#define KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KERNEL
#endif

// copy_rows copies rows × cols floats from src (row stride ls) to dst (row stride ld ≥
// cols). Rows are short (7, 14, 28 floats), so all rows but the last are copied in
// whole 8-float blocks that may run up to 7 floats past the row: with cols ≥ 7 the
// overrun lands in the next row, copied later, and with ls ≥ the blocks' length the
// reads stay before the next source row. The last row is copied exactly.
static inline void copy_rows(float *restrict dst, long ld, const float *restrict src, long ls, long rows, long cols) {
	long blocks = (cols + 7) / 8;
	if (ld == cols && cols >= 7 && ls >= 8 * blocks) {
		for (long r = 0; r + 1 < rows; r++) {
			const float *s = src + r * ls;
			float *d = dst + r * ld;
			for (long q = 0; q < blocks; q++) memcpy(d + 8 * q, s + 8 * q, 8 * sizeof(float));
		}
		if (rows > 0) {
			const float *s = src + (rows - 1) * ls;
			float *d = dst + (rows - 1) * ld;
			for (long j = 0; j < cols; j++) d[j] = s[j];
		}
		return;
	}
	for (long r = 0; r < rows; r++)
		for (long j = 0; j < cols; j++) dst[r * ld + j] = src[r * ls + j];
}

// add_rows adds rows × cols floats of src (contiguous rows) into dst (row stride ld).
// As in copy_rows, all rows but the last go in whole 8-float blocks, the lanes past
// the row zeroed in the source so the overrun into dst's next row adds nothing.
typedef float v8f __attribute__((vector_size(8 * sizeof(float))));
typedef int v8i __attribute__((vector_size(8 * sizeof(int))));
static inline void add_rows(float *restrict dst, long ld, const float *restrict src, long rows, long cols) {
	long blocks = (cols + 7) / 8;
	if (cols >= 7 && ld >= 8 * blocks) {
		int rem = (int)(cols - 8 * (blocks - 1));
		const v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
		v8i mask = lane < rem;
		for (long r = 0; r + 1 < rows; r++) {
			const float *s = src + r * cols;
			float *d = dst + r * ld;
			for (long q = 0; q < blocks; q++) {
				v8f a, b;
				memcpy(&a, d + 8 * q, sizeof a);
				memcpy(&b, s + 8 * q, sizeof b);
				if (q == blocks - 1) b = (v8f)((v8i)b & mask);
				a += b;
				memcpy(d + 8 * q, &a, sizeof a);
			}
		}
		if (rows > 0) {
			const float *s = src + (rows - 1) * cols;
			float *d = dst + (rows - 1) * ld;
			for (long j = 0; j < cols; j++) d[j] += s[j];
		}
		return;
	}
	for (long r = 0; r < rows; r++)
		for (long j = 0; j < cols; j++) dst[r * ld + j] += src[r * cols + j];
}

// rconv_unfold: for images [lo, hi) and channels [0, c), gather each h·w plane of x
// into the padded ph×pw plane (pidx[i] is the source pixel of padded pixel i), then
// copy its k×k shifted oh×ow windows into the rows (ci·k² + t) of col (leading
// dimension ld), image b at column (b−lo)·oh·ow. One channel at a time, the padded
// planes of all the images go into pb ((hi−lo)·ph·pw floats) first, so that each row
// of col is then written from start to end: written image by image, the k²·c rows of
// a group of images (megabytes, more than L2) were written a few cache lines at a time
// each.
KERNEL static void rconv_unfold(const float *restrict x, float *restrict col, const int32_t *restrict pidx,
	float *restrict pb, long lo, long hi, long c, long hw, long ph, long pw, long k, long oh, long ow) {
	long p = oh * ow, kk = k * k, ld = (hi - lo) * p, np = ph * pw;
	for (long ci = 0; ci < c; ci++) {
		for (long b = lo; b < hi; b++) {
			const float *plane = x + (b * c + ci) * hw;
			float *pbb = pb + (b - lo) * np;
			for (long i = 0; i < np; i++) pbb[i] = plane[pidx[i]];
		}
		for (long ki = 0; ki < k; ki++) {
			for (long kj = 0; kj < k; kj++) {
				float *row = col + (ci * kk + ki * k + kj) * ld;
				for (long b = lo; b < hi; b++)
					copy_rows(row + (b - lo) * p, ow, pb + (b - lo) * np + ki * pw + kj, pw, oh, ow);
			}
		}
	}
}

// rconv_fold is the adjoint of rconv_unfold: it sets the planes of images [lo, hi) of
// dx to the sums of their columns, reading each row of col from start to end.
KERNEL static void rconv_fold(const float *restrict col, float *restrict dx, const int32_t *restrict pidx,
	float *restrict pb, long lo, long hi, long c, long hw, long ph, long pw, long k, long oh, long ow) {
	long p = oh * ow, kk = k * k, ld = (hi - lo) * p, np = ph * pw;
	for (long ci = 0; ci < c; ci++) {
		memset(pb, 0, (hi - lo) * np * sizeof(float));
		for (long ki = 0; ki < k; ki++) {
			for (long kj = 0; kj < k; kj++) {
				const float *row = col + (ci * kk + ki * k + kj) * ld;
				for (long b = lo; b < hi; b++)
					add_rows(pb + (b - lo) * np + ki * pw + kj, pw, row + (b - lo) * p, oh, ow);
			}
		}
		for (long b = lo; b < hi; b++) {
			float *plane = dx + (b * c + ci) * hw;
			const float *pbb = pb + (b - lo) * np;
			memset(plane, 0, hw * sizeof(float));
			for (long i = 0; i < np; i++) plane[pidx[i]] += pbb[i];
		}
	}
}

// rconv_unfold_zero unfolds the oc planes (oh×ow) of dy for images [a0, a1), each
// zero-padded by k−1, for a k×k correlation whose output is ph×pw: row (o·k² + t) of
// col (leading dimension (a1−a0)·ph·pw). dyp is scratch of (ph+k−1)·(pw+k−1) floats.
KERNEL static void rconv_unfold_zero(const float *restrict dy, float *restrict col, float *restrict dyp,
	long a0, long a1, long oc, long oh, long ow, long k, long ph, long pw) {
	long dpw = pw + k - 1, dph = ph + k - 1, php = ph * pw, kk = k * k, ld = (a1 - a0) * php;
	memset(dyp, 0, dph * dpw * sizeof(float));
	for (long b = a0; b < a1; b++) {
		long off = (b - a0) * php;
		for (long o = 0; o < oc; o++) {
			const float *src = dy + (b * oc + o) * oh * ow;
			for (long oy = 0; oy < oh; oy++) {
				float *d = dyp + (oy + k - 1) * dpw + k - 1;
				for (long j = 0; j < ow; j++) d[j] = src[oy * ow + j];
			}
			for (long a = 0; a < k; a++) {
				for (long bb = 0; bb < k; bb++) {
					float *dst = col + (o * kk + a * k + bb) * ld + off;
					copy_rows(dst, pw, dyp + a * dpw + bb, dpw, ph, pw);
				}
			}
		}
	}
}

// rconv_scatter sets the c planes (hw each) of images [a0, a1) of dx to the sums of
// the padded planes in dxp (row ci, leading dimension ld, image b at (b−a0)·np).
KERNEL static void rconv_scatter(const float *restrict dxp, float *restrict dx, const int32_t *restrict pidx,
	long a0, long a1, long c, long hw, long np, long ld) {
	for (long b = a0; b < a1; b++) {
		for (long ci = 0; ci < c; ci++) {
			float *plane = dx + (b * c + ci) * hw;
			const float *src = dxp + ci * ld + (b - a0) * np;
			memset(plane, 0, hw * sizeof(float));
			for (long i = 0; i < np; i++) plane[pidx[i]] += src[i];
		}
	}
}

// rconv_direct computes, for images [lo, hi), y = bias + w ⋆ pad(x) directly (no
// unfolding), for convolutions with few output channels: each padded plane is built
// in pb once and added into all oc outputs, a row of ow outputs at a time.
KERNEL static void rconv_direct(const float *restrict x, const float *restrict w, const float *restrict bias,
	float *restrict y, const int32_t *restrict pidx, float *restrict pb, long lo, long hi, long c, long hw,
	long ph, long pw, long k, long oh, long ow, long oc) {
	long p = oh * ow, kk = k * k, np = ph * pw;
	for (long b = lo; b < hi; b++) {
		for (long o = 0; o < oc; o++) {
			float bv = bias ? bias[o] : 0;
			float *yo = y + (b * oc + o) * p;
			for (long j = 0; j < p; j++) yo[j] = bv;
		}
		for (long ci = 0; ci < c; ci++) {
			const float *plane = x + (b * c + ci) * hw;
			for (long i = 0; i < np; i++) pb[i] = plane[pidx[i]];
			for (long o = 0; o < oc; o++) {
				float *yo = y + (b * oc + o) * p;
				const float *wo = w + (o * c + ci) * kk;
				for (long oy = 0; oy < oh; oy++) {
					float *yr = yo + oy * ow;
					for (long ki = 0; ki < k; ki++) {
						for (long kj = 0; kj < k; kj++) {
							float wv = wo[ki * k + kj];
							const float *s = pb + (oy + ki) * pw + kj;
							for (long j = 0; j < ow; j++) yr[j] += wv * s[j];
						}
					}
				}
			}
		}
	}
}

// rconv_direct_gradw adds, for images [lo, hi), ∂L/∂w = dy ⋆ pad(x) into dw, directly.
// accv is scratch of ow floats.
KERNEL static void rconv_direct_gradw(const float *restrict x, const float *restrict dy, float *restrict dw,
	const int32_t *restrict pidx, float *restrict pb, float *restrict accv, long lo, long hi, long c, long hw,
	long ph, long pw, long k, long oh, long ow, long oc) {
	long p = oh * ow, kk = k * k, np = ph * pw;
	for (long b = lo; b < hi; b++) {
		for (long ci = 0; ci < c; ci++) {
			const float *plane = x + (b * c + ci) * hw;
			for (long i = 0; i < np; i++) pb[i] = plane[pidx[i]];
			for (long o = 0; o < oc; o++) {
				const float *d = dy + (b * oc + o) * p;
				float *wo = dw + (o * c + ci) * kk;
				for (long ki = 0; ki < k; ki++) {
					for (long kj = 0; kj < k; kj++) {
						// Column sums first: an element-wise loop GCC vectorises,
						// where a running scalar sum would stay sequential.
						for (long j = 0; j < ow; j++) accv[j] = 0;
						for (long oy = 0; oy < oh; oy++) {
							const float *s = pb + (oy + ki) * pw + kj;
							const float *dr = d + oy * ow;
							for (long j = 0; j < ow; j++) accv[j] += dr[j] * s[j];
						}
						float acc = 0;
						for (long j = 0; j < ow; j++) acc += accv[j];
						wo[ki * k + kj] += acc;
					}
				}
			}
		}
	}
}

// rconv_unfold_tap is rconv_unfold for strided convolutions: row (ci·k² + t) of col
// gathers x[b, ci, tap[t·p + j]] for images [lo, hi), each row written from start to
// end.
KERNEL static void rconv_unfold_tap(const float *restrict x, float *restrict col, const int32_t *restrict tap,
	long lo, long hi, long c, long hw, long kk, long p) {
	long ld = (hi - lo) * p;
	for (long ci = 0; ci < c; ci++) {
		for (long t = 0; t < kk; t++) {
			const int32_t *tp = tap + t * p;
			float *row = col + (ci * kk + t) * ld;
			for (long b = lo; b < hi; b++) {
				const float *plane = x + (b * c + ci) * hw;
				float *dst = row + (b - lo) * p;
				for (long j = 0; j < p; j++) dst[j] = plane[tp[j]];
			}
		}
	}
}

// rconv_fold_tap is the adjoint of rconv_unfold_tap: it sets the planes of images
// [lo, hi) of dx to the sums of their columns.
KERNEL static void rconv_fold_tap(const float *restrict col, float *restrict dx, const int32_t *restrict tap,
	long lo, long hi, long c, long hw, long kk, long p) {
	long ld = (hi - lo) * p;
	for (long ci = 0; ci < c; ci++) {
		for (long b = lo; b < hi; b++) memset(dx + (b * c + ci) * hw, 0, hw * sizeof(float));
		for (long t = 0; t < kk; t++) {
			const int32_t *tp = tap + t * p;
			const float *row = col + (ci * kk + t) * ld;
			for (long b = lo; b < hi; b++) {
				float *plane = dx + (b * c + ci) * hw;
				const float *src = row + (b - lo) * p;
				for (long j = 0; j < p; j++) plane[tp[j]] += src[j];
			}
		}
	}
}
*/
import "C"

import "unsafe"

func ip(s []int32) *C.int32_t { return (*C.int32_t)(unsafe.Pointer(&s[0])) }

func (g *rconvGeom) unfoldPad(x, col, pb []float32, lo, hi int) {
	C.rconv_unfold(fp(x), fp(col), ip(g.padIdx), fp(pb), C.long(lo), C.long(hi), C.long(g.c), C.long(g.h*g.w),
		C.long(g.ph), C.long(g.pw), C.long(g.k), C.long(g.oh), C.long(g.ow))
}

func (g *rconvGeom) foldPad(col, dx, pb []float32, lo, hi int) {
	C.rconv_fold(fp(col), fp(dx), ip(g.padIdx), fp(pb), C.long(lo), C.long(hi), C.long(g.c), C.long(g.h*g.w),
		C.long(g.ph), C.long(g.pw), C.long(g.k), C.long(g.oh), C.long(g.ow))
}

func (g *rconvGeom) unfoldZero(dy, col, dyp []float32, a0, a1 int) {
	C.rconv_unfold_zero(fp(dy), fp(col), fp(dyp), C.long(a0), C.long(a1), C.long(g.oc), C.long(g.oh), C.long(g.ow),
		C.long(g.k), C.long(g.ph), C.long(g.pw))
}

func (g *rconvGeom) scatterPad(dxp, dx []float32, a0, a1, ld int) {
	C.rconv_scatter(fp(dxp), fp(dx), ip(g.padIdx), C.long(a0), C.long(a1), C.long(g.c), C.long(g.h*g.w),
		C.long(g.ph*g.pw), C.long(ld))
}

func (g *rconvGeom) direct(x, w, bias, y, pb []float32, lo, hi int) {
	var bp *C.float
	if bias != nil {
		bp = fp(bias)
	}
	C.rconv_direct(fp(x), fp(w), bp, fp(y), ip(g.padIdx), fp(pb), C.long(lo), C.long(hi), C.long(g.c), C.long(g.h*g.w),
		C.long(g.ph), C.long(g.pw), C.long(g.k), C.long(g.oh), C.long(g.ow), C.long(g.oc))
}

func (g *rconvGeom) directGradW(x, dy, dw, pb []float32, lo, hi int) {
	accv := make([]float32, g.ow)
	C.rconv_direct_gradw(fp(x), fp(dy), fp(dw), ip(g.padIdx), fp(pb), fp(accv), C.long(lo), C.long(hi), C.long(g.c), C.long(g.h*g.w),
		C.long(g.ph), C.long(g.pw), C.long(g.k), C.long(g.oh), C.long(g.ow), C.long(g.oc))
}

func (g *rconvGeom) unfoldTap(x, col []float32, lo, hi int) {
	C.rconv_unfold_tap(fp(x), fp(col), ip(g.tap), C.long(lo), C.long(hi), C.long(g.c), C.long(g.h*g.w), C.long(g.kk), C.long(g.p))
}

func (g *rconvGeom) foldTap(col, dx []float32, lo, hi int) {
	C.rconv_fold_tap(fp(col), fp(dx), ip(g.tap), C.long(lo), C.long(hi), C.long(g.c), C.long(g.h*g.w), C.long(g.kk), C.long(g.p))
}
