//go:build !cgo || purego

package nn

func gnForward(g gnGeom, x, y, mean, invstd, gamma, beta []float32, lo, hi int) {
	goGNForward(g, x, y, mean, invstd, gamma, beta, lo, hi)
}

func gnBackward(g gnGeom, x, dy, dx, mean, invstd, gamma []float32, s1, s2 []float64, lo, hi int) {
	goGNBackward(g, x, dy, dx, mean, invstd, gamma, s1, s2, lo, hi)
}
