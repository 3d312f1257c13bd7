//go:build !cgo || purego

package nn

func (g *rconvGeom) unfoldPad(x, col, pb []float32, lo, hi int) { g.goUnfoldPad(x, col, pb, lo, hi) }
func (g *rconvGeom) foldPad(col, dx, pb []float32, lo, hi int)  { g.goFoldPad(col, dx, pb, lo, hi) }
func (g *rconvGeom) unfoldZero(dy, col, dyp []float32, a0, a1 int) {
	g.goUnfoldZero(dy, col, dyp, a0, a1)
}
func (g *rconvGeom) scatterPad(dxp, dx []float32, a0, a1, ld int) {
	g.goScatterPad(dxp, dx, a0, a1, ld)
}
func (g *rconvGeom) direct(x, w, bias, y, pb []float32, lo, hi int) {
	g.goDirect(x, w, bias, y, pb, lo, hi)
}
func (g *rconvGeom) directGradW(x, dy, dw, pb []float32, lo, hi int) {
	g.goDirectGradW(x, dy, dw, pb, lo, hi)
}
func (g *rconvGeom) unfoldTap(x, col []float32, lo, hi int) { g.goUnfoldTap(x, col, lo, hi) }
func (g *rconvGeom) foldTap(col, dx []float32, lo, hi int)  { g.goFoldTap(col, dx, lo, hi) }
