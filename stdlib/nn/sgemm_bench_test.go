package nn

import (
	"fmt"
	"testing"
)

func BenchmarkSgemmShapes(b *testing.B) {
	for _, s := range [][5]int{{16, 784, 9, 0, 0}, {32, 196, 144, 0, 0}, {32, 144, 196, 0, 1}, {144, 196, 32, 1, 0},
		{32, 196 * 64, 144, 0, 0}, {32, 144, 196 * 64, 0, 1}, {144, 196 * 64, 32, 1, 0}, {16, 784 * 64, 9, 0, 0}, {512, 512, 512, 0, 0}} {
		m, n, k := s[0], s[1], s[2]
		ta, tb := s[3] == 1, s[4] == 1
		b.Run(fmt.Sprintf("%dx%dx%d_%v%v", m, n, k, ta, tb), func(b *testing.B) {
			a := make([]float32, m*k)
			bb := make([]float32, k*n)
			c := make([]float32, m*n)
			lda, ldb := k, n
			if ta {
				lda = m
			}
			if tb {
				ldb = k
			}
			for i := 0; i < b.N; i++ {
				sgemm(ta, tb, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
