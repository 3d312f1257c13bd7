//go:build cgo && !purego

package nn

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef void (*goinv_sgemm_fn)(int, int, int, int, int, int, float, const float*, int,
	const float*, int, float, float*, int);
static goinv_sgemm_fn goinv_p_sgemm;
static char goinv_core[64];

// OpenBLAS picks its kernels when the library loads. On CPUs newer than its tables
// (this machine reports "Prescott") it falls back to slow generic code, so name the
// core from the CPU's features before loading it, unless the user already chose.
static int goinv_openblas_load(void) {
	if (!getenv("OPENBLAS_CORETYPE")) {
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
			setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
		else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
			setenv("OPENBLAS_CORETYPE", "Haswell", 0);
	}
	const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", 0};
	void *h = 0;
	for (int i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) return 0;
	goinv_p_sgemm = (goinv_sgemm_fn)dlsym(h, "cblas_sgemm");
	void (*threads)(int) = (void (*)(int))dlsym(h, "openblas_set_num_threads");
	if (threads) threads(1);
	char *(*core)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
	if (core) strncpy(goinv_core, core(), sizeof goinv_core - 1);
	return goinv_p_sgemm != 0;
}

static const char *goinv_corename(void) { return goinv_core; }

static void goinv_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
	const float *b, int ldb, float beta, float *c, int ldc) {
	// 101 = CblasRowMajor, 111 = CblasNoTrans, 112 = CblasTrans
	goinv_p_sgemm(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import "unsafe"

func init() {
	// The layers parallelise over the batch themselves, so OpenBLAS runs one thread
	// per call; its own threads would oversubscribe the cores.
	if C.goinv_openblas_load() == 0 {
		return
	}
	openblasName = "openblas (" + C.GoString(C.goinv_corename()) + ")"
	openblasSgemm = cblasSgemm
	UseGonum(false)
}

func cblasSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.goinv_sgemm(cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
