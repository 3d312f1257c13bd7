//go:build cgo && !purego

package nn

/*
// The sub-pixel form's gathers, scatters and filter combinations (convsubpixel.go), in
// C: the Go versions are table-driven loops with a bounds check per element, several
// times the cost of the SGEMMs they feed. Compiled at -O3, on x86-64 once per vector
// width (see kernels_cgo.go).
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

// sp_kernels: wt = w (oc×c×kk) transposed to kk×oc×c, then for every group g, phase ph,
// output channel o and filter tap t, row (g·m + ph·oc + o) of kern gets wt[t][o][·]
// added at combined tap comb[(g·nph + ph)·kk + t] (columns d·c + ci).
KERNEL static void sp_kernels(const float *restrict w, float *restrict wt, float *restrict kern,
	const int32_t *restrict comb, long ng, long nph, long oc, long c, long kk, long ckw) {
	for (long o = 0; o < oc; o++)
		for (long ci = 0; ci < c; ci++)
			for (long t = 0; t < kk; t++) wt[(t * oc + o) * c + ci] = w[(o * c + ci) * kk + t];
	long m = nph * oc;
	memset(kern, 0, ng * m * ckw * sizeof(float));
	for (long g = 0; g < ng; g++)
		for (long ph = 0; ph < nph; ph++) {
			const int32_t *cb = comb + (g * nph + ph) * kk;
			for (long o = 0; o < oc; o++) {
				float *row = kern + (g * m + ph * oc + o) * ckw;
				for (long t = 0; t < kk; t++) {
					float *dst = row + (long)cb[t] * c;
					const float *src = wt + (t * oc + o) * c;
					for (long ci = 0; ci < c; ci++) dst[ci] += src[ci];
				}
			}
		}
}

// sp_reduce_w is the adjoint of sp_kernels: it adds to dw (oc×c×kk) the gradient whose
// combined-filter gradients are dk; dwt is scratch of oc·c·kk floats.
KERNEL static void sp_reduce_w(const float *restrict dk, float *restrict dwt, float *restrict dw,
	const int32_t *restrict comb, long ng, long nph, long oc, long c, long kk, long ckw) {
	long m = nph * oc;
	memset(dwt, 0, oc * c * kk * sizeof(float));
	for (long g = 0; g < ng; g++)
		for (long ph = 0; ph < nph; ph++) {
			const int32_t *cb = comb + (g * nph + ph) * kk;
			for (long o = 0; o < oc; o++) {
				const float *row = dk + (g * m + ph * oc + o) * ckw;
				for (long t = 0; t < kk; t++) {
					const float *src = row + (long)cb[t] * c;
					float *dst = dwt + (t * oc + o) * c;
					for (long ci = 0; ci < c; ci++) dst[ci] += src[ci];
				}
			}
		}
	for (long o = 0; o < oc; o++)
		for (long ci = 0; ci < c; ci++)
			for (long t = 0; t < kk; t++) dw[(o * c + ci) * kk + t] += dwt[(t * oc + o) * c + ci];
}

// sp_unfold: for images [lo, hi), each h×w plane of x is copied into the zero-padded
// plane pb (row stride wp, offset plo), and combined tap d of group g's positions
// gathered through tap into row (d·c + ci) of col (leading dimension (hi−lo)·hw),
// at columns goff[g]·nimg + (b − lo)·gcnt[g] + j.
KERNEL static void sp_unfold(const float *restrict x, float *restrict col, float *restrict pb,
	const int32_t *restrict tap, const int32_t *restrict goff, const int32_t *restrict gcnt, long ng,
	long lo, long hi, long c, long h, long w, long wp, long hp, long plo, long dkw) {
	long nimg = hi - lo, hw = h * w, ld = nimg * hw;
	memset(pb, 0, hp * wp * sizeof(float));
	for (long b = lo; b < hi; b++) {
		for (long ci = 0; ci < c; ci++) {
			const float *plane = x + (b * c + ci) * hw;
			for (long a = 0; a < h; a++) memcpy(pb + (a + plo) * wp + plo, plane + a * w, w * sizeof(float));
			for (long d = 0; d < dkw; d++) {
				float *row = col + (d * c + ci) * ld;
				const int32_t *tp = tap + d * hw;
				for (long g = 0; g < ng; g++) {
					long off = goff[g], cnt = gcnt[g];
					float *dst = row + off * nimg + (b - lo) * cnt;
					const int32_t *t = tp + off;
					for (long j = 0; j < cnt; j++) dst[j] = pb[t[j]];
				}
			}
		}
	}
}

// sp_fold is the adjoint of sp_unfold: it sets the planes of images [lo, hi) of dx to
// the sums of their columns in dcol.
KERNEL static void sp_fold(const float *restrict dcol, float *restrict dx, float *restrict pb,
	const int32_t *restrict tap, const int32_t *restrict goff, const int32_t *restrict gcnt, long ng,
	long lo, long hi, long c, long h, long w, long wp, long hp, long plo, long dkw) {
	long nimg = hi - lo, hw = h * w, ld = nimg * hw;
	for (long b = lo; b < hi; b++) {
		for (long ci = 0; ci < c; ci++) {
			memset(pb, 0, hp * wp * sizeof(float));
			for (long d = 0; d < dkw; d++) {
				const float *row = dcol + (d * c + ci) * ld;
				const int32_t *tp = tap + d * hw;
				for (long g = 0; g < ng; g++) {
					long off = goff[g], cnt = gcnt[g];
					const float *src = row + off * nimg + (b - lo) * cnt;
					const int32_t *t = tp + off;
					for (long j = 0; j < cnt; j++) pb[t[j]] += src[j];
				}
			}
			float *plane = dx + (b * c + ci) * hw;
			for (long a = 0; a < h; a++) memcpy(plane + a * w, pb + (a + plo) * wp + plo, w * sizeof(float));
		}
	}
}

// sp_scatter writes the GEMM result ym (nph·oc rows, group-major columns) of images
// [lo, hi) into y (n×oc×p), adding bias (NULL for none); sp_gather is its transpose,
// without bias.
KERNEL static void sp_scatter(const float *restrict ym, const float *restrict bias, float *restrict y,
	const int32_t *restrict oidx, const int32_t *restrict goff, const int32_t *restrict gcnt, long ng,
	long lo, long hi, long oc, long p, long nph, long hw) {
	long nimg = hi - lo, ld = nimg * hw;
	for (long ph = 0; ph < nph; ph++) {
		const int32_t *oi = oidx + ph * hw;
		for (long o = 0; o < oc; o++) {
			float bv = bias ? bias[o] : 0;
			const float *row = ym + (ph * oc + o) * ld;
			for (long b = lo; b < hi; b++) {
				float *plane = y + (b * oc + o) * p;
				for (long g = 0; g < ng; g++) {
					long off = goff[g], cnt = gcnt[g];
					const float *src = row + off * nimg + (b - lo) * cnt;
					const int32_t *t = oi + off;
					for (long j = 0; j < cnt; j++) plane[t[j]] = src[j] + bv;
				}
			}
		}
	}
}

KERNEL static void sp_gather(const float *restrict dy, float *restrict dym,
	const int32_t *restrict oidx, const int32_t *restrict goff, const int32_t *restrict gcnt, long ng,
	long lo, long hi, long oc, long p, long nph, long hw) {
	long nimg = hi - lo, ld = nimg * hw;
	for (long ph = 0; ph < nph; ph++) {
		const int32_t *oi = oidx + ph * hw;
		for (long o = 0; o < oc; o++) {
			float *row = dym + (ph * oc + o) * ld;
			for (long b = lo; b < hi; b++) {
				const float *plane = dy + (b * oc + o) * p;
				for (long g = 0; g < ng; g++) {
					long off = goff[g], cnt = gcnt[g];
					float *dst = row + off * nimg + (b - lo) * cnt;
					const int32_t *t = oi + off;
					for (long j = 0; j < cnt; j++) dst[j] = plane[t[j]];
				}
			}
		}
	}
}
*/
import "C"

func (sp *spGeom) kernels(g *rconvGeom, w, wt, kern []float32) {
	_, _ = w[g.oc*g.ckk-1], wt[g.oc*g.ckk-1]
	_ = kern[sp.kernelSize()-1]
	C.sp_kernels(fp(w), fp(wt), fp(kern), ip(sp.comb), C.long(len(sp.groups)), C.long(sp.nph), C.long(g.oc), C.long(g.c),
		C.long(g.kk), C.long(sp.ckw))
}

func (sp *spGeom) reduceW(g *rconvGeom, dk, dwt, dw []float32) {
	_, _ = dw[g.oc*g.ckk-1], dwt[g.oc*g.ckk-1]
	_ = dk[sp.kernelSize()-1]
	C.sp_reduce_w(fp(dk), fp(dwt), fp(dw), ip(sp.comb), C.long(len(sp.groups)), C.long(sp.nph), C.long(g.oc), C.long(g.c),
		C.long(g.kk), C.long(sp.ckw))
}

func (sp *spGeom) unfold(g *rconvGeom, x, col, pb []float32, lo, hi int) {
	_, _ = x[hi*g.c*sp.hw-1], col[sp.ckw*(hi-lo)*sp.hw-1]
	_ = pb[sp.padSize()-1]
	C.sp_unfold(fp(x), fp(col), fp(pb), ip(sp.tap), ip(sp.goff), ip(sp.gcnt), C.long(len(sp.groups)), C.long(lo), C.long(hi),
		C.long(g.c), C.long(g.h), C.long(g.w), C.long(sp.wp), C.long(sp.hp), C.long(-sp.lo), C.long(sp.dkw))
}

func (sp *spGeom) fold(g *rconvGeom, dcol, dx, pb []float32, lo, hi int) {
	_, _ = dx[hi*g.c*sp.hw-1], dcol[sp.ckw*(hi-lo)*sp.hw-1]
	_ = pb[sp.padSize()-1]
	C.sp_fold(fp(dcol), fp(dx), fp(pb), ip(sp.tap), ip(sp.goff), ip(sp.gcnt), C.long(len(sp.groups)), C.long(lo), C.long(hi),
		C.long(g.c), C.long(g.h), C.long(g.w), C.long(sp.wp), C.long(sp.hp), C.long(-sp.lo), C.long(sp.dkw))
}

func (sp *spGeom) scatter(g *rconvGeom, ym, bias, y []float32, lo, hi int) {
	_, _ = y[hi*g.oc*g.p-1], ym[sp.m*(hi-lo)*sp.hw-1]
	var bp *C.float
	if bias != nil {
		_ = bias[g.oc-1]
		bp = fp(bias)
	}
	C.sp_scatter(fp(ym), bp, fp(y), ip(sp.outIdx), ip(sp.goff), ip(sp.gcnt), C.long(len(sp.groups)), C.long(lo), C.long(hi),
		C.long(g.oc), C.long(g.p), C.long(sp.nph), C.long(sp.hw))
}

func (sp *spGeom) gather(g *rconvGeom, dy, dym []float32, lo, hi int) {
	_, _ = dy[hi*g.oc*g.p-1], dym[sp.m*(hi-lo)*sp.hw-1]
	C.sp_gather(fp(dy), fp(dym), ip(sp.outIdx), ip(sp.goff), ip(sp.gcnt), C.long(len(sp.groups)), C.long(lo), C.long(hi),
		C.long(g.oc), C.long(g.p), C.long(sp.nph), C.long(sp.hw))
}
