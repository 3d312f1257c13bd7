//go:build !cgo || purego

package nn

func bnStats(x []float32, n, c, inner, lo, hi int, shift []float32, sum, sq []float64) {
	goBNStats(x, n, c, inner, lo, hi, shift, sum, sq)
}

func bnForward(x, sc, y []float32, n, c, inner, lo, hi int, a, b []float32, relu bool) {
	goBNForward(x, sc, y, n, c, inner, lo, hi, a, b, relu)
}

func bnBackwardSums(dy, x, y, ra, rb, dout []float32, n, c, inner, lo, hi int, mean []float32, sd, sdx []float64) {
	goBNBackwardSums(dy, x, y, ra, rb, dout, n, c, inner, lo, hi, mean, sd, sdx)
}

func bnBackwardDx(dy, x, y, ra, rb, dx []float32, n, c, inner, lo, hi int, mean, k, md, q []float32) {
	goBNBackwardDx(dy, x, y, ra, rb, dx, n, c, inner, lo, hi, mean, k, md, q)
}

func reluKernel(x, y []float32)                              { goReLU(x, y) }
func reluGradKernel(y, dy, dx []float32)                     { goReLUGrad(y, dy, dx) }
func addKernel(a, b, y []float32)                            { goAdd(a, b, y) }
func addTo(dst, src []float32)                               { goAddTo(dst, src) }
func im2colSameKernel(g *convGeom, x, col []float32, ld int) { g.im2colSame(x, col, ld) }

func im2colKernel(g *convGeom, x, col []float32, ld int)  { g.im2colGeneric(x, col, ld) }
func col2imKernel(g *convGeom, col, dx []float32, ld int) { g.col2imGeneric(col, dx, ld) }

func chanSum(x []float32, n, c, inner, lo, hi int, out []float32) {
	goChanSum(x, n, c, inner, lo, hi, out)
}
func maxPool2(x, y []float32, arg []int32, planes, h, w, oh, ow int) {
	goMaxPool2(x, y, arg, planes, h, w, oh, ow)
}

const cKernels = false
