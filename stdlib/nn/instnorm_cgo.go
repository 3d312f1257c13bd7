//go:build cgo && !purego

package nn

/*
#cgo LDFLAGS: -lm

// Instance and layer normalisation (instnorm.go) in C. The float64 reductions keep 8
// partial sums in a vector, element j of a group in sum j mod 8, added in lane order
// at the end: the order the Go versions use, so both agree bit for bit (GCC does not
// vectorise a plain floating-point reduction, which it may not reorder). Contraction
// to FMA is off for the same reason. Compiled at -O3, on x86-64 once per vector width
// (see kernels_cgo.go).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "fp-contract=off", "no-math-errno")
#endif
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(GOINV_NO_CLONES)
#define KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KERNEL
#endif

typedef float gn_v8f __attribute__((vector_size(8 * sizeof(float))));
typedef double gn_v8d __attribute__((vector_size(8 * sizeof(double))));

// gn_load widens the 8 floats at p to doubles (a macro: GCC warns about passing
// 64-byte vectors to functions compiled without AVX-512).
#define GN_LOAD(dst, p) do { gn_v8f v_; memcpy(&v_, (p), sizeof v_); dst = __builtin_convertvector(v_, gn_v8d); } while (0)

static inline double gn_lanes(const gn_v8d *a) {
	double s = 0;
	for (int l = 0; l < 8; l++) s += (*a)[l];
	return s;
}

// gn_sum returns Σ x[0..n) in lane order.
static inline double gn_sum(const float *x, long n) {
	gn_v8d acc = {0};
	long j = 0;
	for (; j + 8 <= n; j += 8) {
		gn_v8d v;
		GN_LOAD(v, x + j);
		acc += v;
	}
	for (; j < n; j++) acc[j & 7] += (double)x[j];
	return gn_lanes(&acc);
}

// gn_sqdev returns Σ (x − mu)² over x[0..n) in lane order.
static inline double gn_sqdev(const float *x, long n, double mu) {
	gn_v8d acc = {0};
	long j = 0;
	for (; j + 8 <= n; j += 8) {
		gn_v8d d;
		GN_LOAD(d, x + j);
		d -= mu;
		acc += d * d;
	}
	for (; j < n; j++) {
		double d = (double)x[j] - mu;
		acc[j & 7] += d * d;
	}
	return gn_lanes(&acc);
}

// gn_forward normalises groups [lo, hi) of cpg channels × inner pixels each (see
// goGNForward); affine 0: no γ, β; 1: per channel; 2: per image and channel.
KERNEL static void gn_forward(const float *restrict x, float *restrict y, float *restrict mean, float *restrict invstd,
	const float *restrict gamma, const float *restrict beta, long c, long inner, long cpg, long affine, long lo, long hi) {
	long gl = cpg * inner;
	for (long q = lo; q < hi; q++) {
		const float *xs = x + q * gl;
		double mu = gn_sum(xs, gl) / (double)gl;
		double is = 1 / sqrt(gn_sqdev(xs, gl, mu) / (double)gl + 1e-5);
		float m32 = (float)mu, is32 = (float)is;
		mean[q] = m32;
		invstd[q] = is32;
		long i = q * cpg / c, c0 = q * cpg % c;
		for (long k = 0; k < cpg; k++) {
			long o = (q * cpg + k) * inner;
			const float *xk = x + o;
			float *ys = y + o;
			if (affine == 0) {
				for (long j = 0; j < inner; j++) ys[j] = (xk[j] - m32) * is32;
				continue;
			}
			long gi = affine == 2 ? i * c + c0 + k : c0 + k;
			float gv = gamma[gi], bv = beta[gi];
			for (long j = 0; j < inner; j++) ys[j] = (xk[j] - m32) * is32 * gv + bv;
		}
	}
}

// gn_backward computes dx and the per-(image, channel) sums s1 = Σdy, s2 = Σdy·x̂ for
// groups [lo, hi) (see goGNBackward).
KERNEL static void gn_backward(const float *restrict x, const float *restrict dy, float *restrict dx,
	const float *restrict mean, const float *restrict invstd, const float *restrict gamma, double *restrict s1,
	double *restrict s2, long c, long inner, long cpg, long affine, long lo, long hi) {
	long gl = cpg * inner;
	for (long q = lo; q < hi; q++) {
		float m32 = mean[q], is32 = invstd[q];
		long i = q * cpg / c, c0 = q * cpg % c;
		double g1 = 0, g2 = 0;
		for (long k = 0; k < cpg; k++) {
			long o = (q * cpg + k) * inner;
			const float *xk = x + o, *dk = dy + o;
			gn_v8d a1 = {0}, a2 = {0};
			long j = 0;
			for (; j + 8 <= inner; j += 8) {
				gn_v8f xv, dv;
				memcpy(&xv, xk + j, sizeof xv);
				memcpy(&dv, dk + j, sizeof dv);
				gn_v8f xh = (xv - m32) * is32;
				gn_v8d d = __builtin_convertvector(dv, gn_v8d);
				a1 += d;
				a2 += d * __builtin_convertvector(xh, gn_v8d);
			}
			for (; j < inner; j++) {
				float xh = (xk[j] - m32) * is32;
				a1[j & 7] += (double)dk[j];
				a2[j & 7] += (double)dk[j] * (double)xh;
			}
			double t1 = gn_lanes(&a1), t2 = gn_lanes(&a2);
			s1[i * c + c0 + k] = t1;
			s2[i * c + c0 + k] = t2;
			double gv = affine ? (double)gamma[affine == 2 ? i * c + c0 + k : c0 + k] : 1.0;
			g1 += gv * t1;
			g2 += gv * t2;
		}
		float md = (float)(g1 / (double)gl), mdy = (float)(g2 / (double)gl);
		for (long k = 0; k < cpg; k++) {
			long o = (q * cpg + k) * inner;
			const float *xk = x + o, *dk = dy + o;
			float *dxk = dx + o;
			float gv = affine ? gamma[affine == 2 ? i * c + c0 + k : c0 + k] : 1.0f;
			for (long j = 0; j < inner; j++) {
				float xh = (xk[j] - m32) * is32;
				dxk[j] = (dk[j] * gv - md - xh * mdy) * is32;
			}
		}
	}
}
*/
import "C"

func gnForward(g gnGeom, x, y, mean, invstd, gamma, beta []float32, lo, hi int) {
	if lo >= hi {
		return
	}
	_, _ = x[g.n*g.c*g.inner-1], y[g.n*g.c*g.inner-1]
	_, _ = mean[hi-1], invstd[hi-1]
	var gp, bp *C.float
	if g.affine != 0 {
		_, _ = gamma[len(gamma)-1], beta[len(gamma)-1]
		gp, bp = fp(gamma), fp(beta)
	}
	C.gn_forward(fp(x), fp(y), fp(mean), fp(invstd), gp, bp, C.long(g.c), C.long(g.inner), C.long(g.cpg), C.long(g.affine),
		C.long(lo), C.long(hi))
}

func gnBackward(g gnGeom, x, dy, dx, mean, invstd, gamma []float32, s1, s2 []float64, lo, hi int) {
	if lo >= hi {
		return
	}
	_, _, _ = x[g.n*g.c*g.inner-1], dy[g.n*g.c*g.inner-1], dx[g.n*g.c*g.inner-1]
	_, _ = mean[hi-1], invstd[hi-1]
	_, _ = s1[g.n*g.c-1], s2[g.n*g.c-1]
	var gp *C.float
	if g.affine != 0 {
		gp = fp(gamma)
	}
	C.gn_backward(fp(x), fp(dy), fp(dx), fp(mean), fp(invstd), gp, dp(s1), dp(s2), C.long(g.c), C.long(g.inner),
		C.long(g.cpg), C.long(g.affine), C.long(lo), C.long(hi))
}
