//go:build !cgo || purego

package nn

func (sp *spGeom) kernels(g *rconvGeom, w, wt, kern []float32) { sp.goKernels(g, w, wt, kern) }
func (sp *spGeom) reduceW(g *rconvGeom, dk, dwt, dw []float32) { sp.goReduceW(g, dk, dwt, dw) }
func (sp *spGeom) unfold(g *rconvGeom, x, col, pb []float32, lo, hi int) {
	sp.goUnfold(g, x, col, pb, lo, hi)
}
func (sp *spGeom) fold(g *rconvGeom, dcol, dx, pb []float32, lo, hi int) {
	sp.goFold(g, dcol, dx, pb, lo, hi)
}
func (sp *spGeom) scatter(g *rconvGeom, ym, bias, y []float32, lo, hi int) {
	sp.goScatter(g, ym, bias, y, lo, hi)
}
func (sp *spGeom) gather(g *rconvGeom, dy, dym []float32, lo, hi int) {
	sp.goGather(g, dy, dym, lo, hi)
}
