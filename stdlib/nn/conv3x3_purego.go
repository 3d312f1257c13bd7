//go:build !cgo || purego

package nn

// Without cgo the direct 3×3 kernels are not used (useConv3x3 is false); these
// forward to the Go references so that the code paths still compile and test.
const haveConv3x3 = false

func conv3x3Fwd(pl *conv3x3Plan, x, wp, bias, y []float32, n, cin, cout int) {
	goConv3x3Fwd(pl, x, wp, bias, y, n, cin, cout)
}

func conv3x3DW(pl *conv3x3Plan, x, dy, dw []float32, n, cin, cout int) {
	goConv3x3DW(pl, x, dy, dw, n, cin, cout)
}

func conv3x3DWT(pl *conv3x3Plan, x, dy, dw []float32, n, cin, cout int, raw []float32) {
	goConv3x3DW(pl, x, dy, dw, n, cin, cout)
}

func conv3x3DWTStride(pl *conv3x3Plan, stride int, x, dy, dw []float32, n, cin, cout int, raw []float32) {
	goConv3x3DWStride(pl, stride, x, dy, dw, n, cin, cout)
}

func conv3x3FwdT(pl *conv3x3Plan, x, wq, bias, y []float32, n, cin, cout int, raw []float32) {
	goConv3x3FwdT(pl, x, wq, bias, y, n, cin, cout)
}

func conv3x3FwdTStride(pl *conv3x3Plan, stride int, x, wq, bias, y []float32, n, cin, cout int, raw []float32) {
	goConv3x3FwdTStride(pl, stride, x, wq, bias, y, n, cin, cout)
}
