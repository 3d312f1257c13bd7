package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS returns the matrix-multiply backend in use: "openblas (CORE)" when the cgo build
// found libopenblas at start-up, otherwise "gonum" (pure Go).
func BLAS() string { return blasName }

// UseGonum switches the layers to gonum's pure-Go SGEMM (or back to OpenBLAS, if it
// was loaded); benchmarks use it to compare the two.
func UseGonum(on bool) {
	if on || openblasSgemm == nil {
		sgemmImpl, blasName = gonumSgemm, "gonum"
		return
	}
	sgemmImpl, blasName = openblasSgemm, openblasName
}

var (
	blasName      = "gonum"
	sgemmImpl     = gonumSgemm
	openblasSgemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	openblasName  string
)

// sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where op(A) is
// m×k and op(B) is k×n.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	sgemmImpl(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

var gonumImpl gonum.Implementation

func gonumSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonumImpl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32 matrices with the
// backend the layers use (op(A) is m×k, op(B) is k×n, lda/ldb/ldc are row strides). It
// is exported for benchmarks and for notebook code that wants a fast matrix multiply.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
