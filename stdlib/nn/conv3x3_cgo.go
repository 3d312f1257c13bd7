//go:build cgo && !purego

package nn

/*
// Direct 3×3 same convolutions with AVX-512 (see conv3x3.go). The functions carry
// target attributes and run only after __builtin_cpu_supports says the CPU has
// AVX-512F, so the package still builds and runs everywhere; without AVX-512 (or on
// other architectures and compilers) conv3x3_avx512 returns 0 and the layers keep
// their im2col + SGEMM path.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

static int conv3x3_avx512(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
}

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
// MASK loads a lane mask straight into a mask register (one kmovw, where reading it
// as an integer first takes two instructions).
#define MASK(p) _load_mask16((__mmask16 *)(p))

// c3_fwd_block computes MR output channels × NV vectors of 16 output pixels, starting
// at output channel o0 and pixel vector v0, of one image:
// y[o][q] = bias[o] + Σ_i Σ_t w[o][i][t] · x[i][q + off[t]], the loads of x
// masked by mask[v·9+t] (zero where the tap falls on the padding or past the plane).
// Each output element sums its 9·cin products in the same order, input channel by
// input channel, tap by tap, whatever the blocking.
AVX512 INLINE void c3_fwd_block(const int MR, const int NV, const float *x, const float *wp, const float *bias,
	float *y, long cin, long cout, long p, const int32_t *off, const uint16_t *mask, const uint16_t *tail, long o0, long v0) {
	__m512 acc[8][4];
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
		__m512 b = bias ? _mm512_set1_ps(bias[o0 + r]) : _mm512_setzero_ps();
		_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) acc[r][j] = b;
	}
	const uint16_t *mv = mask + v0 * 9;
	for (long i = 0; i < cin; i++) {
		const float *xi = x + i * p + v0 * 16;
		// The filters of the block's channels are packed together (packConv3x3Fwd).
		const float *wi = wp + o0 * cin * 9 + i * 9 * MR;
		_Pragma("GCC unroll 16") for (int t = 0; t < 9; t++) {
			__m512 xv[4];
			_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) xv[j] = _mm512_maskz_loadu_ps(MASK(mv + j * 9 + t), xi + j * 16 + off[t]);
			const float *wt = wi + t * MR;
			_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
				__m512 b = _mm512_set1_ps(wt[r]);
				_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) acc[r][j] = _mm512_fmadd_ps(b, xv[j], acc[r][j]);
			}
		}
	}
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)
		_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) _mm512_mask_storeu_ps(y + (o0 + r) * p + (v0 + j) * 16, tail[v0 + j], acc[r][j]);
}

// c3_fwd_inner is c3_fwd_block for NV vectors that are all inner (conv3x3Plan.inner):
// every tap's row lies in the plane and the vectors are full, so only the left and
// right taps need masks, the same for every input channel (kept in mask registers),
// and the loads are three row pointers per channel with fixed displacements. The
// products are summed in the same order as in c3_fwd_block (a masked-off lane adds
// w·0 in both), so the results are the same to the bit.
AVX512 INLINE void c3_fwd_inner(const int MR, const int NV, const float *x, const float *wp, const float *bias,
	float *y, long cin, long p, long w, const uint16_t *mask, long o0, long v0) {
	__m512 acc[8][4];
	__mmask16 kl[4], kr[4];
	_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) {
		kl[j] = mask[(v0 + j) * 9];
		kr[j] = mask[(v0 + j) * 9 + 2];
	}
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
		__m512 b = bias ? _mm512_set1_ps(bias[o0 + r]) : _mm512_setzero_ps();
		_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) acc[r][j] = b;
	}
	const float *xi = x + v0 * 16;
	const float *wi = wp + o0 * cin * 9;
	for (long i = 0; i < cin; i++, xi += p, wi += 9 * MR) {
		_Pragma("GCC unroll 16") for (int t = 0; t < 9; t++) {
			__m512 xv[4];
			const float *row = xi + (t / 3 - 1) * w + (t % 3 - 1);
			_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) {
				if (t % 3 == 0) xv[j] = _mm512_maskz_loadu_ps(kl[j], row + j * 16);
				else if (t % 3 == 2) xv[j] = _mm512_maskz_loadu_ps(kr[j], row + j * 16);
				else xv[j] = _mm512_loadu_ps(row + j * 16);
			}
			const float *wt = wi + t * MR;
			_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {
				__m512 b = _mm512_set1_ps(wt[r]);
				_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) acc[r][j] = _mm512_fmadd_ps(b, xv[j], acc[r][j]);
			}
		}
	}
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)
		_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) _mm512_storeu_ps(y + (o0 + r) * p + (v0 + j) * 16, acc[r][j]);
}

#define FWD_MR 8
#define FWD_NV 3

// c3_fwd_cols computes all output channels of the NV pixel vectors from v0, on
// c3_fwd_inner when inner (null to turn it off) marks them all inner.
AVX512 INLINE void c3_fwd_cols(const int NV, const float *x, const float *wp, const float *bias, float *y,
	long cin, long cout, long p, const int32_t *off, const uint16_t *mask, const uint16_t *tail, const uint8_t *inner, long v0) {
	long o = 0;
	int in = inner != 0;
	_Pragma("GCC unroll 16") for (int j = 0; j < NV; j++) in = in && inner[v0 + j];
	if (in) {
		const long w = -off[1];
		for (; o + FWD_MR <= cout; o += FWD_MR) c3_fwd_inner(FWD_MR, NV, x, wp, bias, y, cin, p, w, mask, o, v0);
		switch (cout - o) {
		case 7: c3_fwd_inner(7, NV, x, wp, bias, y, cin, p, w, mask, o, v0); break;
		case 6: c3_fwd_inner(6, NV, x, wp, bias, y, cin, p, w, mask, o, v0); break;
		case 5: c3_fwd_inner(5, NV, x, wp, bias, y, cin, p, w, mask, o, v0); break;
		case 4: c3_fwd_inner(4, NV, x, wp, bias, y, cin, p, w, mask, o, v0); break;
		case 3: c3_fwd_inner(3, NV, x, wp, bias, y, cin, p, w, mask, o, v0); break;
		case 2: c3_fwd_inner(2, NV, x, wp, bias, y, cin, p, w, mask, o, v0); break;
		case 1: c3_fwd_inner(1, NV, x, wp, bias, y, cin, p, w, mask, o, v0); break;
		}
		return;
	}
	for (; o + FWD_MR <= cout; o += FWD_MR) c3_fwd_block(FWD_MR, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0);
	switch (cout - o) {
	case 7: c3_fwd_block(7, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0); break;
	case 6: c3_fwd_block(6, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0); break;
	case 5: c3_fwd_block(5, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0); break;
	case 4: c3_fwd_block(4, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0); break;
	case 3: c3_fwd_block(3, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0); break;
	case 2: c3_fwd_block(2, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0); break;
	case 1: c3_fwd_block(1, NV, x, wp, bias, y, cin, cout, p, off, mask, tail, o, v0); break;
	}
}

// c3_fwd convolves nimg images (x: nimg×cin×p, y: nimg×cout×p) with the packed
// filters wp (blocks of FWD_MR output channels, see packConv3x3Fwd). Pixel vectors are
// the outer loop, so that the few rows of x they read stay in L1 while every block of
// output channels reads them; meanwhile the same rows of the next image are prefetched
// (a batch does not fit in L2, and the hardware prefetchers do not follow cin planes
// at once).
AVX512 static void c3_fwd(const float *x, const float *wp, const float *bias, float *y, long nimg, long cin,
	long cout, long p, long nv, const int32_t *off, const uint16_t *mask, const uint16_t *tail, const uint8_t *inner,
	const float *next) {
	for (long n = 0; n < nimg; n++) {
		const float *xn = x + n * cin * p;
		float *yn = y + n * cout * p;
		const float *pf = n + 1 < nimg ? xn + cin * p : next;
		long v = 0;
		for (; v + FWD_NV <= nv; v += FWD_NV) {
			if (pf)
				for (long i = 0; i < cin; i++)
					for (int l = 0; l < FWD_NV; l++) _mm_prefetch((const char *)(pf + i * p + (v + l) * 16), _MM_HINT_T0);
			c3_fwd_cols(FWD_NV, xn, wp, bias, yn, cin, cout, p, off, mask, tail, inner, v);
		}
		switch (nv - v) {
		case 2: c3_fwd_cols(2, xn, wp, bias, yn, cin, cout, p, off, mask, tail, inner, v); break;
		case 1: c3_fwd_cols(1, xn, wp, bias, yn, cin, cout, p, off, mask, tail, inner, v); break;
		}
	}
}

// c3_dw_block adds to dw[o][i][t] (o in [o0, o0+MR), dw is cout×cin×9) the sum over
// nimg images and all pixels q of dy[o][q] · x[i][q + off[t]], 16 pixels per lane
// vector, the lanes summed at the end.
AVX512 INLINE void c3_dw_block(const int MR, const float *x, const float *dy, float *dw, long nimg, long cin,
	long cout, long p, long nv, const int32_t *off, const uint16_t *mask, const uint16_t *tail, const uint8_t *inner,
	long o0, long i) {
	const long w = -off[1];
	__m512 acc[3][9];
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)
		_Pragma("GCC unroll 16") for (int t = 0; t < 9; t++) acc[r][t] = _mm512_setzero_ps();
	for (long n = 0; n < nimg; n++) {
		const float *xi = x + (n * cin + i) * p;
		const float *d = dy + (n * cout + o0) * p;
		for (long v = 0; v < nv; v++) {
			__m512 dv[3];
			const uint16_t *mv = mask + v * 9;
			if (inner[v]) {
				// All taps in the plane's rows and the vector full: only the left
				// and right taps need masks (at the first and last column), and the
				// addresses are three row pointers with fixed displacements.
				const __mmask16 kl = mv[0], kr = mv[2];
				const float *r1 = xi + v * 16, *r0 = r1 - w, *r2 = r1 + w;
				_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) dv[r] = _mm512_loadu_ps(d + r * p + v * 16);
				__m512 xv;
#define TAP(t, e) xv = e; _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) acc[r][t] = _mm512_fmadd_ps(dv[r], xv, acc[r][t]);
				TAP(0, _mm512_maskz_loadu_ps(kl, r0 - 1))
				TAP(1, _mm512_loadu_ps(r0))
				TAP(2, _mm512_maskz_loadu_ps(kr, r0 + 1))
				TAP(3, _mm512_maskz_loadu_ps(kl, r1 - 1))
				TAP(4, _mm512_loadu_ps(r1))
				TAP(5, _mm512_maskz_loadu_ps(kr, r1 + 1))
				TAP(6, _mm512_maskz_loadu_ps(kl, r2 - 1))
				TAP(7, _mm512_loadu_ps(r2))
				TAP(8, _mm512_maskz_loadu_ps(kr, r2 + 1))
#undef TAP
				continue;
			}
			// Elsewhere every tap has its mask (off[t] is (t/3−1)·w + t%3−1: the
			// same row pointers).
			const float *r1 = xi + v * 16, *r0 = r1 - w, *r2 = r1 + w;
			_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) dv[r] = _mm512_maskz_loadu_ps(tail[v], d + r * p + v * 16);
			__m512 xv;
#define TAP(t, row, dc) xv = _mm512_maskz_loadu_ps(MASK(mv + t), row + dc); \
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) acc[r][t] = _mm512_fmadd_ps(dv[r], xv, acc[r][t]);
			TAP(0, r0, -1) TAP(1, r0, 0) TAP(2, r0, 1)
			TAP(3, r1, -1) TAP(4, r1, 0) TAP(5, r1, 1)
			TAP(6, r2, -1) TAP(7, r2, 0) TAP(8, r2, 1)
#undef TAP
		}
	}
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)
		_Pragma("GCC unroll 16") for (int t = 0; t < 9; t++) dw[((o0 + r) * cin + i) * 9 + t] += _mm512_reduce_add_ps(acc[r][t]);
}

AVX512 static void c3_dw(const float *x, const float *dy, float *dw, long nimg, long cin, long cout, long p,
	long nv, const int32_t *off, const uint16_t *mask, const uint16_t *tail, const uint8_t *inner) {
	long o = 0;
	for (; o + 3 <= cout; o += 3)
		for (long i = 0; i < cin; i++) c3_dw_block(3, x, dy, dw, nimg, cin, cout, p, nv, off, mask, tail, inner, o, i);
	for (long i = 0; i < cin; i++) {
		if (cout - o == 2) c3_dw_block(2, x, dy, dw, nimg, cin, cout, p, nv, off, mask, tail, inner, o, i);
		if (cout - o == 1) c3_dw_block(1, x, dy, dw, nimg, cin, cout, p, nv, off, mask, tail, inner, o, i);
	}
}

// tr16 transposes the 16×16 block r (row i = r[i]) in place.
AVX512 INLINE void tr16(__m512 r[16]) {
	__m512 t[16], u[16];
	_Pragma("GCC unroll 16") for (int i = 0; i < 8; i++) {
		t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
	}
	_Pragma("GCC unroll 16") for (int a = 0; a < 4; a++) {
		__m512d t0 = _mm512_castps_pd(t[4 * a]), t1 = _mm512_castps_pd(t[4 * a + 1]), t2 = _mm512_castps_pd(t[4 * a + 2]), t3 = _mm512_castps_pd(t[4 * a + 3]);
		u[4 * a + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
		u[4 * a + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
		u[4 * a + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
		u[4 * a + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
	}
	_Pragma("GCC unroll 16") for (int b = 0; b < 4; b++) {
		__m512 v = _mm512_shuffle_f32x4(u[b], u[4 + b], 0x88), v1 = _mm512_shuffle_f32x4(u[b], u[4 + b], 0xdd);
		__m512 w = _mm512_shuffle_f32x4(u[8 + b], u[12 + b], 0x88), w1 = _mm512_shuffle_f32x4(u[8 + b], u[12 + b], 0xdd);
		r[b] = _mm512_shuffle_f32x4(v, w, 0x88);
		r[8 + b] = _mm512_shuffle_f32x4(v, w, 0xdd);
		r[4 + b] = _mm512_shuffle_f32x4(v1, w1, 0x88);
		r[12 + b] = _mm512_shuffle_f32x4(v1, w1, 0xdd);
	}
}

// pack16 writes the image x (cin×h×w, cin a multiple of 16) into dst with a
// one-pixel border, 16×16 blocks at a time: channel i of pixel (y, x) goes to
// dst[(i/16)·bstride + ((y+1)·(w+2) + x+1)·pstride + i%16]. It never writes the
// border, which the caller keeps zero: it is the convolution's padding.
AVX512 static void pack16(const float *x, float *dst, long cin, long h, long w, long bstride, long pstride) {
	long p = h * w, W = w + 2;
	for (long i0 = 0; i0 < cin; i0 += 16) {
		float *blk = dst + (i0 / 16) * bstride;
		for (long q0 = 0; q0 < p; q0 += 16) {
			__mmask16 k = p - q0 >= 16 ? 0xffff : (__mmask16)((1u << (p - q0)) - 1);
			__m512 r[16];
			_Pragma("GCC unroll 16") for (int j = 0; j < 16; j++) r[j] = _mm512_maskz_loadu_ps(k, x + (i0 + j) * p + q0);
			tr16(r);
			long n = p - q0 < 16 ? p - q0 : 16;
			for (long c = 0; c < n; c++) {
				long q = q0 + c, y = q / w, xx = q % w;
				_mm512_storeu_ps(blk + ((y + 1) * W + xx + 1) * pstride, r[c]);
			}
		}
	}
}

// dwt_pack writes x channels-last into xt: (h+2)×(w+2)×cin, pixel (y, x) at (y+1, x+1).
AVX512 INLINE void dwt_pack(const float *x, float *xt, long cin, long h, long w) {
	pack16(x, xt, cin, h, w, 16, cin);
}

// dwt_block adds to dw[o][i][t], for o in [o0, o0+MR) and i in [i0, i0+16), the sum
// over nimg images and all output pixels q = (y, x) (oh×ow, stride S) of
// dy[o][q]·x[i][S·y+ky−1][S·x+kx−1], t = 3ky+kx: per pixel, MR broadcasts of dy and
// nine loads of 16 input channels of x packed by dwt_pack ((h+2)×(w+2)×cin, images xs
// floats apart) feed 9·MR accumulators, each lane summing its pixels in order, image
// by image.
AVX512 INLINE void dwt_block(const int MR, const int S, const float *xt, const float *dy, float *dw, long nimg,
	long cin, long cout, long w, long oh, long ow, long xs, long o0, long i0) {
	const long op = oh * ow, W = w + 2;
	__m512 acc[3][9];
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)
		_Pragma("GCC unroll 16") for (int t = 0; t < 9; t++) acc[r][t] = _mm512_setzero_ps();
	for (long n = 0; n < nimg; n++) {
		const float *d = dy + (n * cout + o0) * op;
		const float *xb = xt + n * xs + i0;
		for (long y = 0; y < oh; y++) {
			const float *r0 = xb + S * y * W * cin, *r1 = r0 + W * cin, *r2 = r1 + W * cin;
			const float *dr = d + y * ow;
			for (long xx = 0; xx < ow; xx++, r0 += S * cin, r1 += S * cin, r2 += S * cin) {
				__m512 dv[3];
				_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) dv[r] = _mm512_set1_ps(dr[r * op + xx]);
				__m512 xv;
#define TAP(t, row, k) xv = _mm512_loadu_ps(row + k * cin); \
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) acc[r][t] = _mm512_fmadd_ps(dv[r], xv, acc[r][t]);
				TAP(0, r0, 0) TAP(1, r0, 1) TAP(2, r0, 2)
				TAP(3, r1, 0) TAP(4, r1, 1) TAP(5, r1, 2)
				TAP(6, r2, 0) TAP(7, r2, 1) TAP(8, r2, 2)
#undef TAP
			}
		}
	}
	_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)
		_Pragma("GCC unroll 16") for (int t = 0; t < 9; t++) {
			float a[16];
			_mm512_storeu_ps(a, acc[r][t]);
			float *o = dw + ((o0 + r) * cin + i0) * 9 + t;
			for (int l = 0; l < 16; l++) o[l * 9] += a[l];
		}
}

AVX512 INLINE void dwt_blocks(const int S, const float *xt, const float *dy, float *dw, long nimg, long cin, long cout,
	long w, long oh, long ow, long xs) {
	// Blocks of 3 output channels, and when one would be left over, two blocks of 2
	// instead (a block of 1 makes nine loads per nine multiply-adds). Every dw entry
	// is one accumulator's lane whatever the blocking, so the bits do not depend on it.
	long o = 0, o3 = cout % 3 == 1 && cout >= 4 ? cout - 4 : cout;
	for (; o + 3 <= o3; o += 3)
		for (long i0 = 0; i0 < cin; i0 += 16) dwt_block(3, S, xt, dy, dw, nimg, cin, cout, w, oh, ow, xs, o, i0);
	for (; o + 2 <= cout; o += 2)
		for (long i0 = 0; i0 < cin; i0 += 16) dwt_block(2, S, xt, dy, dw, nimg, cin, cout, w, oh, ow, xs, o, i0);
	if (o < cout)
		for (long i0 = 0; i0 < cin; i0 += 16) dwt_block(1, S, xt, dy, dw, nimg, cin, cout, w, oh, ow, xs, o, i0);
}

// c3_dwt adds to dw (cout×cin×9) the weight gradient of a 3×3 convolution with
// padding 1 and stride s (1 or 2) for the nimg images x (cin×h×w each, cin a multiple
// of 16) and output gradients dy (cout×oh×ow each): it packs the images into xt
// (nimg·(h+2)·(w+2)·cin floats, 64-byte aligned, borders zero), then runs dwt_block
// over blocks of output channels and vectors of input channels. Unlike c3_dw, whose
// lanes are pixels and must be summed across at the end, its lanes are input
// channels: every tap is one aligned load, with no masks (the zero border is the
// padding) and no reductions.
AVX512 static void c3_dwt(const float *x, const float *dy, float *dw, float *xt, long nimg, long cin, long cout,
	long h, long w, long s) {
	long p = h * w, xs = (h + 2) * (w + 2) * cin;
	long oh = (h - 1) / s + 1, ow = (w - 1) / s + 1;
	for (long n = 0; n < nimg; n++) dwt_pack(x + n * cin * p, xt + n * xs, cin, h, w);
	if (s == 2) dwt_blocks(2, xt, dy, dw, nimg, cin, cout, w, oh, ow, xs);
	else dwt_blocks(1, xt, dy, dw, nimg, cin, cout, w, oh, ow, xs);
}

// fwdt_pack writes x into xb in blocks of 16 channels, each (h+2)×(w+2) pixels of 16
// channels (bs pixels apart), pixel (y, x) at (y+1, x+1).
AVX512 INLINE void fwdt_pack(const float *x, float *xb, long cin, long h, long w, long bs) {
	pack16(x, xb, cin, h, w, bs * 16, 16);
}

// fwdt_block computes the 8 output pixels of row yy from x0 (oh×ow, stride S) for
// the 32 output channels from o0, with 16 output channels per vector: per input
// channel and tap, two loads of filters (packed by packConv3x3T) and eight broadcasts
// of x packed by fwdt_pack feed 16 accumulators. Each output sums its products in the
// same order as c3_fwd_block, input channel by input channel, tap by tap, with the
// zero border in place of the masked-off lanes, so the two kernels agree to the bit.
AVX512 INLINE void fwdt_block(const int S, const float *xb, const float *wq, const float *bias, float *y, long cin,
	long w, long op, long ow, long bs, long yy, long x0, long o0) {
	const long W = w + 2;
	__m512 acc[8][2];
	_Pragma("GCC unroll 16") for (int ov = 0; ov < 2; ov++) {
		__m512 b = bias ? _mm512_loadu_ps(bias + o0 + ov * 16) : _mm512_setzero_ps();
		_Pragma("GCC unroll 16") for (int j = 0; j < 8; j++) acc[j][ov] = b;
	}
	const float *wp = wq;
	for (long ib = 0; ib < cin / 16; ib++) {
		const float *r0 = xb + (ib * bs + S * yy * W + S * x0) * 16, *r1 = r0 + W * 16, *r2 = r1 + W * 16;
		for (int l = 0; l < 16; l++, r0++, r1++, r2++, wp += 9 * 32) {
			_Pragma("GCC unroll 16") for (int t = 0; t < 9; t++) {
				const float *row = t < 3 ? r0 : t < 6 ? r1 : r2;
				const int kx = t % 3;
				__m512 w0 = _mm512_load_ps(wp + t * 32), w1 = _mm512_load_ps(wp + t * 32 + 16);
				_Pragma("GCC unroll 16") for (int j = 0; j < 8; j++) {
					__m512 xv = _mm512_set1_ps(row[(S * j + kx) * 16]);
					acc[j][0] = _mm512_fmadd_ps(w0, xv, acc[j][0]);
					acc[j][1] = _mm512_fmadd_ps(w1, xv, acc[j][1]);
				}
			}
		}
	}
	// acc[j][ov] holds pixel j's 16 channels: transpose to rows of channels.
	_Pragma("GCC unroll 16") for (int ov = 0; ov < 2; ov++) {
		__m512 r[16];
		_Pragma("GCC unroll 16") for (int j = 0; j < 16; j++) r[j] = j < 8 ? acc[j][ov] : _mm512_setzero_ps();
		tr16(r);
		float *yo = y + (o0 + ov * 16) * op + yy * ow + x0;
		_Pragma("GCC unroll 16") for (int c = 0; c < 16; c++) _mm256_storeu_ps(yo + c * op, _mm512_castps512_ps256(r[c]));
	}
}

AVX512 INLINE void fwdt_image(const int S, const float *xb, const float *wq, const float *bias, float *yn, long cin,
	long cout, long w, long oh, long ow, long bs) {
	for (long yy = 0; yy < oh; yy++)
		for (long x0 = 0; x0 < ow; x0 += 8)
			for (long o = 0; o < cout; o += 32) fwdt_block(S, xb, wq + o * cin * 9, bias, yn, cin, w, oh * ow, ow, bs, yy, x0, o);
}

// c3_fwdt is c3_fwd (stride 1), to the bit, for cin a multiple of 16, cout of 32 and
// an output width of 8 (the later stages of a ResNet, and their input gradients), and
// also runs 3×3 stride-2 convolutions with padding 1 (s = 2): the filters packed by
// packConv3x3T put 16 output channels in the lanes, each h×w image is packed
// channels-last into xb ((cin/16)·bs·16 floats, 64-byte aligned, borders zero; bs =
// (h+2)·(w+2)), and the loads need neither masks nor unaligned addresses.
AVX512 static void c3_fwdt(const float *x, const float *wq, const float *bias, float *y, float *xb, long nimg, long cin,
	long cout, long h, long w, long s) {
	long p = h * w, bs = (h + 2) * (w + 2);
	long oh = (h - 1) / s + 1, ow = (w - 1) / s + 1;
	for (long n = 0; n < nimg; n++) {
		fwdt_pack(x + n * cin * p, xb, cin, h, w, bs);
		float *yn = y + n * cout * oh * ow;
		if (s == 2) fwdt_image(2, xb, wq, bias, yn, cin, cout, w, oh, ow, bs);
		else fwdt_image(1, xb, wq, bias, yn, cin, cout, w, oh, ow, bs);
	}
}

#else
static int conv3x3_avx512(void) { return 0; }
static void c3_fwdt(const float *x, const float *wq, const float *bias, float *y, float *xb, long nimg, long cin,
	long cout, long h, long w, long s) {}
static void c3_dwt(const float *x, const float *dy, float *dw, float *xt, long nimg, long cin, long cout, long h, long w,
	long s) {}
static void c3_fwd(const float *x, const float *wp, const float *bias, float *y, long nimg, long cin,
	long cout, long p, long nv, const int32_t *off, const uint16_t *mask, const uint16_t *tail, const uint8_t *inner,
	const float *next) {}
static void c3_dw(const float *x, const float *dy, float *dw, long nimg, long cin, long cout, long p,
	long nv, const int32_t *off, const uint16_t *mask, const uint16_t *tail, const uint8_t *inner) {}
#endif
*/
import "C"

import "unsafe"

var haveConv3x3 = C.conv3x3_avx512() != 0

// conv3x3Fwd convolves the images x (n×cin×p) with the packed filters wp (see
// packConv3x3Fwd) plus bias (nil or cout values) into y (n×cout×p). When x holds a
// further image after the n, the kernel prefetches it.
func conv3x3Fwd(pl *conv3x3Plan, x, wp, bias, y []float32, n, cin, cout int) {
	if n == 0 {
		return
	}
	_, _ = x[n*cin*pl.p-1], y[n*cout*pl.p-1]
	_ = wp[cin*9*cout-1]
	var b *C.float
	if bias != nil {
		_ = bias[cout-1]
		b = fp(bias)
	}
	var nx *C.float
	if len(x) >= (n+1)*cin*pl.p {
		nx = fp(x[n*cin*pl.p:])
	}
	var in *C.uint8_t
	if conv3x3Inner {
		in = (*C.uint8_t)(unsafe.Pointer(&pl.inner[0]))
	}
	C.c3_fwd(fp(x), fp(wp), b, fp(y), C.long(n), C.long(cin), C.long(cout), C.long(pl.p), C.long(pl.nv),
		(*C.int32_t)(unsafe.Pointer(&pl.off[0])), (*C.uint16_t)(unsafe.Pointer(&pl.mask[0])), (*C.uint16_t)(unsafe.Pointer(&pl.tail[0])), in, nx)
}

// conv3x3DW adds to dw (cout×cin×3×3) the weight gradient of the images x (n×cin×p)
// and output gradients dy (n×cout×p).
func conv3x3DW(pl *conv3x3Plan, x, dy, dw []float32, n, cin, cout int) {
	if n == 0 {
		return
	}
	_, _, _ = x[n*cin*pl.p-1], dy[n*cout*pl.p-1], dw[cout*cin*9-1]
	C.c3_dw(fp(x), fp(dy), fp(dw), C.long(n), C.long(cin), C.long(cout), C.long(pl.p), C.long(pl.nv),
		(*C.int32_t)(unsafe.Pointer(&pl.off[0])), (*C.uint16_t)(unsafe.Pointer(&pl.mask[0])), (*C.uint16_t)(unsafe.Pointer(&pl.tail[0])),
		(*C.uint8_t)(unsafe.Pointer(&pl.inner[0])))
}

// conv3x3DWT is conv3x3DW for cin a multiple of 16 (conv3x3DWTOK) on the
// channels-last kernel; raw is its scratch, pl.dwtScratchLen(n, cin) floats dedicated
// to this convolution (see dwtScratch).
func conv3x3DWT(pl *conv3x3Plan, x, dy, dw []float32, n, cin, cout int, raw []float32) {
	conv3x3DWTStride(pl, 1, x, dy, dw, n, cin, cout, raw)
}

// conv3x3DWTStride is conv3x3DWT for stride 1 or 2: the images x are pl.h×pl.w, the
// output gradients dy (pl.h−1)/stride+1 × (pl.w−1)/stride+1.
func conv3x3DWTStride(pl *conv3x3Plan, stride int, x, dy, dw []float32, n, cin, cout int, raw []float32) {
	if n == 0 {
		return
	}
	op := ((pl.h-1)/stride + 1) * ((pl.w-1)/stride + 1)
	_, _, _ = x[n*cin*pl.p-1], dy[n*cout*op-1], dw[cout*cin*9-1]
	xt := dwtScratch(raw, n*(pl.h+2)*(pl.w+2)*cin)
	C.c3_dwt(fp(x), fp(dy), fp(dw), fp(xt), C.long(n), C.long(cin), C.long(cout), C.long(pl.h), C.long(pl.w), C.long(stride))
}

// conv3x3FwdT is conv3x3Fwd for the geometries of conv3x3FwdTOK, with the filters
// packed by packConv3x3T; raw is its scratch, pl.fwdtScratchLen(cin) floats dedicated
// to this convolution (see dwtScratch).
func conv3x3FwdT(pl *conv3x3Plan, x, wq, bias, y []float32, n, cin, cout int, raw []float32) {
	conv3x3FwdTStride(pl, 1, x, wq, bias, y, n, cin, cout, raw)
}

// conv3x3FwdTStride is conv3x3FwdT for stride 1 or 2 (padding 1): the images x are
// pl.h×pl.w, the outputs y (pl.h−1)/stride+1 × (pl.w−1)/stride+1.
func conv3x3FwdTStride(pl *conv3x3Plan, stride int, x, wq, bias, y []float32, n, cin, cout int, raw []float32) {
	if n == 0 {
		return
	}
	op := ((pl.h-1)/stride + 1) * ((pl.w-1)/stride + 1)
	_, _ = x[n*cin*pl.p-1], y[n*cout*op-1]
	_ = wq[cin*9*cout-1]
	var b *C.float
	if bias != nil {
		_ = bias[cout-1]
		b = fp(bias)
	}
	xb := dwtScratch(raw, pl.fwdtScratchLen(cin)-16)
	C.c3_fwdt(fp(x), fp(wq), b, fp(y), fp(xb), C.long(n), C.long(cin), C.long(cout), C.long(pl.h), C.long(pl.w), C.long(stride))
}
