//go:build cgo && !purego

package munit

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
*/
import "C"

import "unsafe"

// BLAS names the matrix-multiply backend of this build: OpenBLAS through cgo, or
// gonum's pure-Go GEMM when built without cgo (or with the purego tag).
const BLAS = "openblas"

func init() {
	// gemm splits large products over goroutines itself; OpenBLAS's own threads would
	// oversubscribe the cores (stdlib/nn makes the same choice).
	C.openblas_set_num_threads(1)
}

// sgemm1 is one single-threaded row-major C = alpha·op(A)·op(B) + beta·C.
func sgemm1(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var ta, tb uint32 = C.CblasNoTrans, C.CblasNoTrans
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}
