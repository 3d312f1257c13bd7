package munit

import (
	"runtime"
	"sync"

	"github.com/goinv/goinv/stdlib/nn"
)

// BLAS names the matrix-multiply backend: package nn's, which loads OpenBLAS for this
// CPU's core type (or falls back to gonum). One binding serves both packages: a second
// one linked against libopenblas at start-up would load the library before nn could
// pick its core type, and slow every product in the binary.
func BLAS() string { return nn.BLAS() }

// sgemm1 is one single-threaded row-major C = alpha·op(A)·op(B) + beta·C.
func sgemm1(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nn.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Threads is the number of goroutines a large matrix product is split over; 0 means
// runtime.GOMAXPROCS(0). The split is by output rows (or columns), so results do not
// depend on it.
var Threads = 0

// gemm computes row-major C (m×n) = alpha·op(A)·op(B) + beta·C, splitting the rows
// of C over goroutines when the product is large enough to pay for them (or the
// columns when there are few rows).
func gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	w := Threads
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if w == 1 || m*n*k < 1<<18 {
		sgemm1(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	if m >= n {
		for i := 0; i < w; i++ {
			lo, hi := i*m/w, (i+1)*m/w
			if lo == hi {
				continue
			}
			var aa []float32
			if transA {
				aa = a[lo:] // rows of op(A) = columns of A
			} else {
				aa = a[lo*lda:]
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sgemm1(transA, transB, hi-lo, n, k, alpha, aa, lda, b, ldb, beta, c[lo*ldc:], ldc)
			}()
		}
	} else {
		for i := 0; i < w; i++ {
			lo, hi := i*n/w, (i+1)*n/w
			if lo == hi {
				continue
			}
			var bb []float32
			if transB {
				bb = b[lo*ldb:] // columns of op(B) = rows of B
			} else {
				bb = b[lo:]
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sgemm1(transA, transB, m, hi-lo, k, alpha, a, lda, bb, ldb, beta, c[lo:], ldc)
			}()
		}
	}
	wg.Wait()
}
