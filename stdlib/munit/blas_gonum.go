//go:build !cgo || purego

package munit

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS names the matrix-multiply backend of this build: OpenBLAS through cgo, or
// gonum's pure-Go GEMM when built without cgo (or with the purego tag).
const BLAS = "gonum"

var gonumImpl gonum.Implementation

// sgemm1 is one row-major C = alpha·op(A)·op(B) + beta·C.
func sgemm1(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonumImpl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
