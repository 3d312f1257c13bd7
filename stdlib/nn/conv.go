package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convGeom is the geometry of one 2-D convolution.
type convGeom struct {
	n, c, h, w     int // input
	oc, kh, kw     int // filters
	pad, stride    int
	oh, ow         int // output
	ckk, p         int // rows and columns of the im2col matrix
	pointwise      bool
	skipInputGrads bool
}

func newConvGeom(xs, ws tensor.Shape, pad, stride int) (convGeom, error) {
	if len(xs) != 4 || len(ws) != 4 {
		return convGeom{}, fmt.Errorf("conv2d: input %v and filters %v must both be 4-D (N×C×H×W, OC×C×KH×KW)", xs, ws)
	}
	if xs[1] != ws[1] {
		return convGeom{}, fmt.Errorf("conv2d: input has %d channels, filters expect %d", xs[1], ws[1])
	}
	if pad < 0 || stride < 1 {
		return convGeom{}, fmt.Errorf("conv2d: pad %d must be ≥ 0 and stride %d ≥ 1", pad, stride)
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], oc: ws[0], kh: ws[2], kw: ws[3], pad: pad, stride: stride}
	g.oh = (g.h+2*pad-g.kh)/stride + 1
	g.ow = (g.w+2*pad-g.kw)/stride + 1
	if g.oh < 1 || g.ow < 1 {
		return convGeom{}, fmt.Errorf("conv2d: %dx%d filters do not fit a %dx%d input with pad %d", g.kh, g.kw, g.h, g.w, pad)
	}
	g.ckk, g.p = g.c*g.kh*g.kw, g.oh*g.ow
	g.pointwise = g.kh == 1 && g.kw == 1 && pad == 0 && stride == 1
	return g, nil
}

func (g *convGeom) inSize() int  { return g.c * g.h * g.w }
func (g *convGeom) outSize() int { return g.oc * g.p }

// same reports whether the convolution keeps the image size with stride 1 (3×3 filters
// with padding 1, 5×5 with 2, …). Then output pixel p reads input pixel p + off for a
// fixed off per filter tap, except in the columns the padding covers, so im2col and
// col2im move whole planes at once instead of one output row at a time.
func (g *convGeom) same() bool {
	return g.stride == 1 && g.oh == g.h && g.ow == g.w
}

// shiftRange returns, for the filter tap (ki, kj) of a same convolution, the offset off
// from output to input pixel and the output pixels [lo, hi) whose input index lies in
// the plane, and the valid output columns [clo, chi).
func (g *convGeom) shiftRange(ki, kj int) (off, lo, hi, clo, chi int) {
	off = (ki-g.pad)*g.w + (kj - g.pad)
	lo, hi = max(0, -off), min(g.p, g.h*g.w-off)
	if lo > hi {
		lo = hi
	}
	clo, chi = validRange(g.ow, 1, kj-g.pad, g.w)
	return
}

// stride2 says whether g is a 3×3, pad 1, stride 2 convolution of an even-sized image,
// which im2col_s2 and col2im_s2 unfold and fold.
func (g *convGeom) stride2() bool {
	return g.kh == 3 && g.kw == 3 && g.pad == 1 && g.stride == 2 && g.h%2 == 0 && g.w%2 == 0 &&
		g.oh == g.h/2 && g.ow == g.w/2 && g.ow > 0 && g.oh > 0
}

// im2col unfolds one C×H×W image into the ckk×p matrix whose column j holds the
// receptive field of output pixel j; rows of col are ld apart (ld ≥ p), so the
// matrices of several images can sit side by side.
func (g *convGeom) im2col(x, col []float32, ld int) {
	if g.same() {
		im2colSameKernel(g, x, col, ld)
		return
	}
	im2colKernel(g, x, col, ld)
}

// im2colGeneric is im2col for any geometry, one output row at a time.
func (g *convGeom) im2colGeneric(x, col []float32, ld int) {
	oh, ow, s, pad := g.oh, g.ow, g.stride, g.pad
	row := 0
	for c := 0; c < g.c; c++ {
		xc := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				dst := col[row*ld : row*ld+g.p]
				row++
				// valid output columns: 0 ≤ ox*s - pad + kj < w
				lo, hi := validRange(ow, s, kj-pad, g.w)
				for oy := 0; oy < oh; oy++ {
					iy := oy*s - pad + ki
					d := dst[oy*ow : (oy+1)*ow]
					if iy < 0 || iy >= g.h {
						clear(d)
						continue
					}
					src := xc[iy*g.w : (iy+1)*g.w]
					clear(d[:lo])
					if s == 1 {
						copy(d[lo:hi], src[lo+kj-pad:hi+kj-pad])
					} else {
						for ox := lo; ox < hi; ox++ {
							d[ox] = src[ox*s-pad+kj]
						}
					}
					clear(d[hi:])
				}
			}
		}
	}
}

// im2colSame is im2col for same convolutions: one copy per filter tap and channel,
// then zeros where the tap falls on the padding. A valid column's flat input index
// p+off lies in the plane exactly when its row does, so only the padded columns and
// the ends of the plane need clearing.
func (g *convGeom) im2colSame(x, col []float32, ld int) {
	hw, w := g.h*g.w, g.w
	row := 0
	for c := 0; c < g.c; c++ {
		xc := x[c*hw : (c+1)*hw]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				dst := col[row*ld : row*ld+g.p]
				row++
				off, lo, hi, clo, chi := g.shiftRange(ki, kj)
				clear(dst[:lo])
				copy(dst[lo:hi], xc[lo+off:hi+off])
				clear(dst[hi:])
				clearPadColumns(dst, w, clo, chi)
			}
		}
	}
}

// clearPadColumns zeroes columns [0, clo) and [chi, w) of every row of the plane p (w
// wide). Element stores, not clear: the runs are one or two values long.
func clearPadColumns(p []float32, w, clo, chi int) {
	if clo == 0 && chi == w {
		return
	}
	for o := 0; o+w <= len(p); o += w {
		r := p[o : o+w : o+w]
		for j := 0; j < clo; j++ {
			r[j] = 0
		}
		for j := chi; j < w; j++ {
			r[j] = 0
		}
	}
}

// col2im folds a ckk×p matrix (rows ld apart) back into a C×H×W image, summing
// overlapping entries; dx must be zeroed by the caller. For same convolutions it
// clears the entries of col that fall on the padding (col is scratch).
func (g *convGeom) col2im(col, dx []float32, ld int) {
	if g.same() {
		g.col2imSame(col, dx, ld)
		return
	}
	col2imKernel(g, col, dx, ld)
}

// col2imGeneric is col2im for any geometry, one output row at a time.
func (g *convGeom) col2imGeneric(col, dx []float32, ld int) {
	oh, ow, s, pad := g.oh, g.ow, g.stride, g.pad
	row := 0
	for c := 0; c < g.c; c++ {
		xc := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				src := col[row*ld : row*ld+g.p]
				row++
				lo, hi := validRange(ow, s, kj-pad, g.w)
				for oy := 0; oy < oh; oy++ {
					iy := oy*s - pad + ki
					if iy < 0 || iy >= g.h {
						continue
					}
					d := xc[iy*g.w : (iy+1)*g.w]
					sr := src[oy*ow : (oy+1)*ow]
					if s == 1 {
						off := kj - pad
						dd := d[lo+off : hi+off]
						ss := sr[lo:hi]
						for i := range dd {
							dd[i] += ss[i]
						}
					} else {
						for ox := lo; ox < hi; ox++ {
							d[ox*s-pad+kj] += sr[ox]
						}
					}
				}
			}
		}
	}
}

func (g *convGeom) col2imSame(col, dx []float32, ld int) {
	hw, w := g.h*g.w, g.w
	row := 0
	for c := 0; c < g.c; c++ {
		xc := dx[c*hw : (c+1)*hw]
		for ki := 0; ki < g.kh; ki++ {
			for kj := 0; kj < g.kw; kj++ {
				src := col[row*ld : row*ld+g.p]
				row++
				off, lo, hi, clo, chi := g.shiftRange(ki, kj)
				clearPadColumns(src, w, clo, chi)
				addTo(xc[lo+off:hi+off], src[lo:hi])
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column ox*s+off lies in [0, w).
func validRange(ow, s, off, w int) (lo, hi int) {
	lo = 0
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	hi = ow
	if m := (w - 1 - off); m < 0 {
		hi = 0
	} else if m/s+1 < hi {
		hi = m/s + 1
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// Conv2d convolves x (N×C×H×W) with the filters w (OC×C×KH×KW, PyTorch's layout) using
// zero padding pad and stride stride, giving N×OC×OH×OW. It runs as one custom op
// (im2col + SGEMM per image, parallel over the batch, buffers reused between steps)
// whose gradients are again custom ops. When x is a graph input (a node without an op,
// such as the image batch) the gradient with respect to x is not computed.
func Conv2d(x, w *gorgonia.Node, pad, stride int) (*gorgonia.Node, error) {
	return Conv2dBias(x, w, nil, pad, stride)
}

// Conv2dBias is Conv2d followed by adding the per-channel bias b (length OC), fused
// into one pass over the output; b may be nil.
func Conv2dBias(x, w, b *gorgonia.Node, pad, stride int) (*gorgonia.Node, error) {
	if err := checkFloat32("conv2d", x, w); err != nil {
		return nil, err
	}
	g, err := newConvGeom(x.Shape(), w.Shape(), pad, stride)
	if err != nil {
		return nil, err
	}
	g.skipInputGrads = x.Op() == nil
	op := &convOp{opBase: newOpBase("Conv2d"), g: g}
	op.flops = 2 * int64(g.n) * int64(g.oc) * int64(g.ckk) * int64(g.p)
	if b == nil {
		return gorgonia.ApplyOp(op, x, w)
	}
	if b.Dims() != 1 || b.Shape()[0] != g.oc {
		return nil, fmt.Errorf("conv2d: bias %v must have %d entries", b.Shape(), g.oc)
	}
	if err := checkFloat32("conv2d", b); err != nil {
		return nil, err
	}
	op.bias = true
	return gorgonia.ApplyOp(op, x, w, b)
}

type convOp struct {
	opBase
	g    convGeom
	bias bool
	sc   scratch
	tmp  scratch
	// cols keeps the im2col matrices of the whole batch for the weight gradient when
	// they are small (cacheColBytes); otherwise the gradient unfolds x again.
	cols []float32
	// plan and wp (the packed filters) serve the direct 3×3 kernels, xt (per worker)
	// conv3x3FwdT.
	plan *conv3x3Plan
	wp   scratch
	xt   scratch
	// stats, when a training batch norm reads this op's output, receives the
	// per-channel sums of the output computed while each chunk is still in cache.
	stats *convStats
}

// convStats are the sums batch norm needs, Σ(y−s) and Σ(y−s)² per channel with a
// shift s per channel (the running mean when the op ran), summed per worker (per
// image on the direct 3×3 path).
type convStats struct {
	shiftFrom []float32 // read at each run: the batch norm's running mean
	shift     []float32
	sum, sq   [][]float64
}

// cacheColBytes bounds the cached im2col matrices of one layer. Same convolutions
// never need them (their weight gradient reads x as it is); at batch 128 the
// stride-2 convolutions of a width-16 ResNet take 19 and 9.4 MB.
const cacheColBytes = 20 << 20

func (op *convOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}
func (op *convOp) Type() hm.Type {
	if op.bias {
		return fnType(4, 4, 4, 1)
	}
	return fnType(4, 4, 4)
}
func (op *convOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.n, op.g.oc, op.g.oh, op.g.ow}, nil
}
func (op *convOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, _, err := inputs("conv2d", op.Arity(), vs)
	if err != nil {
		return nil, err
	}
	g := &op.g
	x, w := in[0], in[1]
	var bias []float32
	if op.bias {
		bias = in[2]
	}
	out := op.output(g.n, g.oc, g.oh, g.ow)
	y := out.Data().([]float32)
	b := g.batch()
	direct := (g.direct3x3() || g.fwdtStride2()) && op.cols == nil
	st := op.stats
	if st != nil {
		nw := g.chunks() // one partial per chunk of images
		if direct {
			nw = g.n // one per image: see doDirect
		}
		if len(st.sum) != nw {
			st.sum, st.sq = make([][]float64, nw), make([][]float64, nw)
			for i := range st.sum {
				st.sum[i], st.sq[i] = make([]float64, g.oc), make([]float64, g.oc)
			}
			st.shift = make([]float32, g.oc)
		}
		copy(st.shift, st.shiftFrom)
		for i := range st.sum {
			clear(st.sum[i])
			clear(st.sq[i])
		}
	}
	if direct {
		op.doDirect(x, w, bias, y)
		return out, nil
	}
	// Chunks go to workers as they finish; each chunk's statistics have their own
	// partial sums, so the totals do not depend on the scheduling.
	parallelChunks(g.chunks(), func(wk, lo int) {
		hi := lo + 1
		var col, tmp []float32
		if !g.pointwise && op.cols == nil {
			col = op.sc.get(wk, g.ckk*b*g.p)
		}
		if b > 1 {
			tmp = op.tmp.get(wk, g.oc*b*g.p)
		}
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*b, min((ch+1)*b, g.n)
			ld := (i1 - i0) * g.p
			switch {
			case g.pointwise:
				col = x[i0*g.inSize():]
			case op.cols != nil:
				col = op.cols[i0*g.ckk*g.p : i1*g.ckk*g.p]
			}
			if !g.pointwise {
				for i := i0; i < i1; i++ {
					g.im2col(x[i*g.inSize():(i+1)*g.inSize()], col[(i-i0)*g.p:], ld)
				}
			}
			if b == 1 {
				yi := y[i0*g.outSize() : i1*g.outSize()]
				beta := float32(0)
				if bias != nil {
					for c, bv := range bias {
						row := yi[c*g.p : (c+1)*g.p]
						for j := range row {
							row[j] = bv
						}
					}
					beta = 1
				}
				sgemm(false, false, g.oc, g.p, g.ckk, 1, w, g.ckk, col, ld, beta, yi, g.p)
				if st != nil {
					bnStats(yi, 1, g.oc, g.p, 0, g.oc, st.shift, st.sum[ch], st.sq[ch])
				}
				continue
			}
			// One GEMM for the chunk (OC × images·P), then each image's rows to
			// their place in N×OC×P.
			sgemm(false, false, g.oc, ld, g.ckk, 1, w, g.ckk, col, ld, 0, tmp, ld)
			for i := i0; i < i1; i++ {
				for c := 0; c < g.oc; c++ {
					dst := y[i*g.outSize()+c*g.p : i*g.outSize()+(c+1)*g.p]
					src := tmp[c*ld+(i-i0)*g.p : c*ld+(i-i0+1)*g.p]
					if bias == nil {
						copy(dst, src)
						continue
					}
					bv := bias[c]
					for j, v := range src {
						dst[j] = v + bv
					}
				}
			}
			if st != nil {
				bnStats(y[i0*g.outSize():i1*g.outSize()], i1-i0, g.oc, g.p, 0, g.oc, st.shift, st.sum[ch], st.sq[ch])
			}
		}
	})
	return out, nil
}

// doDirect is Do for 3×3 same convolutions, and the stride-2 ones of fwdtStride2, on
// the direct kernels (conv3x3.go): the workers take images one at a time, convolve
// them straight into y and sum each image's batch-norm statistics (into its own partial sums, so that the totals do not
// depend on which worker ran it) while it is still in cache.
func (op *convOp) doDirect(x, w, bias, y []float32) {
	g := &op.g
	if op.plan == nil {
		op.plan = newConv3x3Plan(g.h, g.w)
	}
	wp := op.wp.get(0, len(w))
	fwdt := g.stride == 2 || conv3x3FwdTOK(g.c, g.oc, g.w)
	if fwdt {
		packConv3x3T(wp, g.c, g.oc, func(o, i, t int) float32 { return w[(o*g.c+i)*9+t] })
	} else {
		packConv3x3Fwd(w, wp, g.c, g.oc)
	}
	st := op.stats
	parallelChunks(g.n, func(wk, i int) {
		yi := y[i*g.outSize() : (i+1)*g.outSize()]
		if fwdt {
			conv3x3FwdTStride(op.plan, g.stride, x[i*g.inSize():(i+1)*g.inSize()], wp, bias, yi, 1, g.c, g.oc, op.xt.get(wk, op.plan.fwdtScratchLen(g.c)))
		} else {
			conv3x3Fwd(op.plan, x[i*g.inSize():], wp, bias, yi, 1, g.c, g.oc) // x[i+1] is prefetched
		}
		if st != nil {
			bnStats(yi, 1, g.oc, g.p, 0, g.oc, st.shift, st.sum[i], st.sq[i])
		}
	})
}

// partialGroups returns into how many groups of consecutive chunks a weight gradient
// splits its batch: each group has its own partial sum, the workers take groups as
// they finish one, and the partials are added in group order, so that dw does not
// depend on the scheduling or the number of threads. A fixed number, not one per
// chunk, bounds the partials' memory for large filters.
func partialGroups(chunks int) int { return min(chunks, maxPartials) }

const maxPartials = 8

// direct3x3Images returns how many images the weight-gradient kernel takes per call:
// enough to amortise summing its lane vectors, few enough that their x and dy stay in
// a core's L2 cache while every block of output channels reads them again.
func (g *convGeom) direct3x3Images() int {
	return max(1, direct3x3Bytes/(4*(g.inSize()+g.outSize())))
}

// noDWTStride2 turns dwtStride2 off (for TestABStride2DWT), and fwdtStride2.
var noDWTStride2 = false

// fwdtStride2 reports whether a 3×3 stride-2 convolution with padding 1 runs forward
// on the channels-last direct kernel (conv3x3FwdTStride) instead of im2col + SGEMM.
func (g *convGeom) fwdtStride2() bool {
	return useConv3x3 && !noDWTStride2 && useFwdT && g.kh == 3 && g.kw == 3 && g.pad == 1 && g.stride == 2 &&
		g.c%16 == 0 && g.oc%32 == 0 && g.ow%8 == 0 && g.ow <= 16
}

// dwtStride2 reports whether the weight gradient of a 3×3 stride-2 convolution with
// padding 1 runs on the channels-last direct kernel (conv3x3DWTStride) instead of
// im2col + SGEMM; then the forward pass need not keep its unfolded input either.
func (g *convGeom) dwtStride2() bool {
	return useConv3x3 && !noDWTStride2 && g.kh == 3 && g.kw == 3 && g.pad == 1 && g.stride == 2 && conv3x3DWTOK(g.c)
}

const direct3x3Bytes = 256 << 10

// batch returns how many images share one GEMM: enough that the GEMM has about
// gemmCols columns (small late-stage images give thin, slow GEMMs otherwise), few
// enough that the chunk's im2col matrix stays in a core's cache. 1×1 convolutions,
// which need no im2col, run one image at a time.
func (g *convGeom) batch() int {
	if g.pointwise {
		return 1
	}
	b := max(1, gemmCols/g.p)
	b = min(b, max(1, colBytes/(4*g.ckk*g.p)))
	// Split the batch evenly over chunks of at most b images (128 images in chunks of
	// 12 would leave a chunk of 8).
	chunks := (g.n + b - 1) / b
	return (g.n + chunks - 1) / chunks
}

// chunks returns the number of chunks of batch() images.
func (g *convGeom) chunks() int {
	b := g.batch()
	return (g.n + b - 1) / b
}

// Measured in ResNet-20 training at batch 128 (one thread, images per CPU-second):
// 512 columns and 400 KB beat 1024 and 640 KB by about 10%; the larger chunks win in
// isolated GEMM benchmarks but lose to their gather/scatter traffic and cache pressure
// in the network.
const (
	gemmCols = 512
	colBytes = 400 << 10
)

// gatherRows copies the OC×P blocks of images [i0, i1) of t (N×OC×P) side by side into
// dst (OC × (i1−i0)·P).
func gatherRows(dst, t []float32, i0, i1, oc, p int) {
	ld := (i1 - i0) * p
	for i := i0; i < i1; i++ {
		for c := 0; c < oc; c++ {
			copy(dst[c*ld+(i-i0)*p:c*ld+(i-i0+1)*p], t[(i*oc+c)*p:(i*oc+c+1)*p])
		}
	}
}

// scatterRows is the inverse of gatherRows.
func scatterRows(t, src []float32, i0, i1, oc, p int) {
	ld := (i1 - i0) * p
	for i := i0; i < i1; i++ {
		for c := 0; c < oc; c++ {
			copy(t[(i*oc+c)*p:(i*oc+c+1)*p], src[c*ld+(i-i0)*p:c*ld+(i-i0+1)*p])
		}
	}
}

func (op *convOp) DiffWRT(n int) []bool { return []bool{!op.g.skipInputGrads, true, true}[:n] }
func (op *convOp) SymDiff(in gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g := op.g
	out := gorgonia.Nodes{nil, nil}
	if op.bias {
		db, err := channelSum(grad, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, db)
	}
	var err error
	if g.same() && !g.pointwise && !g.skipInputGrads {
		// One op computes both gradients from one im2col of dy (see doSame); the
		// weight gradient is read out after it.
		gx := &convGradXOp{opBase: newOpBase("Conv2dGradXW"), g: g, withW: true}
		if out[0], err = gorgonia.ApplyOp(gx, in[1], grad, in[0]); err != nil {
			return nil, err
		}
		out[1], err = apply("Conv2dGradW", in[1].Shape(), nil,
			func(o *fnOp, _ [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
				t, d := o.tensorOut()
				copy(d, gx.dw)
				return t, nil
			}, nil, out[0])
		return out, err
	}
	if !g.pointwise && !g.direct3x3() && !g.dwtStride2() && g.n*g.ckk*g.p*4 <= cacheColBytes {
		op.cols = make([]float32, g.n*g.ckk*g.p)
	}
	if out[1], err = gorgonia.ApplyOp(&convGradWOp{opBase: newOpBase("Conv2dGradW"), g: g, fwd: op}, in[0], grad); err != nil {
		return nil, err
	}
	if g.skipInputGrads {
		return out, nil
	}
	if out[0], err = gorgonia.ApplyOp(&convGradXOp{opBase: newOpBase("Conv2dGradX"), g: g}, in[1], grad); err != nil {
		return nil, err
	}
	return out, nil
}

// convGradXOp computes ∂L/∂x from (w, ∂L/∂y).
// With withW (same convolutions only) it takes x as a third input and also computes
// ∂L/∂w into dw.
type convGradXOp struct {
	opBase
	g     convGeom
	withW bool
	dw    []float32
	sc    scratch
	tmp   scratch
	xg    scratch
	part  scratch
	wt    scratch // the flipped, transposed filters of doSame
	xt    scratch // conv3x3DWT's packed images, per worker
	xf    scratch // conv3x3FwdT's, per worker
	plan  *conv3x3Plan
}

func (op *convGradXOp) Arity() int {
	if op.withW {
		return 3
	}
	return 2
}
func (op *convGradXOp) Type() hm.Type {
	if op.withW {
		return fnType(4, 4, 4, 4)
	}
	return fnType(4, 4, 4)
}
func (op *convGradXOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.n, op.g.c, op.g.h, op.g.w}, nil
}
func (op *convGradXOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, _, err := inputs("conv2d grad x", op.Arity(), vs)
	if err != nil {
		return nil, err
	}
	g := &op.g
	w, dy := in[0], in[1]
	out := op.output(g.n, g.c, g.h, g.w)
	dx := out.Data().([]float32)
	if g.same() && !g.pointwise {
		var x []float32
		if op.withW {
			x = in[2]
		}
		op.doSame(w, dy, x, dx)
		return out, nil
	}
	if g.pointwise {
		parallelChunks(g.n, func(_, i int) {
			sgemm(true, false, g.c, g.p, g.oc, 1, w, g.c, dy[i*g.outSize():], g.p, 0, dx[i*g.inSize():], g.p)
		})
		return out, nil
	}
	// Wᵀ·dy for a chunk of images in one GEMM, then col2im image by image.
	b := g.batch()
	parallelChunks(g.chunks(), func(wk, lo int) {
		hi := lo + 1
		col := op.sc.get(wk, g.ckk*b*g.p)
		var dyb []float32
		if b > 1 {
			dyb = op.tmp.get(wk, g.oc*b*g.p)
		}
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*b, min((ch+1)*b, g.n)
			ld := (i1 - i0) * g.p
			d := dy[i0*g.outSize():]
			if b > 1 {
				gatherRows(dyb, dy, i0, i1, g.oc, g.p)
				d = dyb
			}
			sgemm(true, false, g.ckk, ld, g.oc, 1, w, g.ckk, d, ld, 0, col, ld)
			for i := i0; i < i1; i++ {
				dxi := dx[i*g.inSize() : (i+1)*g.inSize()]
				clear(dxi)
				g.col2im(col[(i-i0)*g.p:], dxi, ld)
			}
		}
	})
	return out, nil
}

// doSame computes dx of a same convolution as the convolution of dy with the filters
// flipped in space and with input and output channels swapped: im2col of dy and one
// GEMM per chunk of images with inner dimension OC·KH·KW, where the direct form (Wᵀ·dy,
// then col2im) has inner dimension OC and sums overlapping patches element by element.
//
// When x is not nil it also computes dw from the same matrix: row (oc, tap) of the
// unfolded dy holds dy shifted by the flipped tap, so
// dw[oc, c, tap] = Σ_p unfolded[(oc, flip(tap)), p]·x[c, p], a GEMM against x as it is,
// and x need not be unfolded at all.
func (op *convGradXOp) doSame(w, dy, x, dx []float32) {
	g := &op.g
	if g.direct3x3() {
		op.doDirect(w, dy, x, dx)
		return
	}
	t := *g
	t.c, t.oc = g.oc, g.c
	t.ckk = t.c * t.kh * t.kw
	kk := g.kh * g.kw
	wt := op.wt.get(0, g.c*t.ckk)
	for oc := 0; oc < g.oc; oc++ {
		for c := 0; c < g.c; c++ {
			src := w[(oc*g.c+c)*kk : (oc*g.c+c+1)*kk]
			dst := wt[c*t.ckk+oc*kk : c*t.ckk+(oc+1)*kk]
			for k, v := range src {
				dst[kk-1-k] = v
			}
		}
	}
	b := t.batch()
	nch := t.chunks()
	groups := partialGroups(nch)
	parallelChunks(groups, func(wk, gi int) {
		lo, hi := gi*nch/groups, (gi+1)*nch/groups
		col := op.sc.get(wk, t.ckk*b*t.p)
		var tmp, xg, acc []float32
		if b > 1 {
			tmp = op.tmp.get(wk, g.c*b*g.p)
		}
		if x != nil {
			acc = op.part.get(gi, t.ckk*g.c)
			clear(acc)
			if b > 1 {
				xg = op.xg.get(wk, g.c*b*g.p)
			}
		}
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*b, min((ch+1)*b, g.n)
			ld := (i1 - i0) * g.p
			for i := i0; i < i1; i++ {
				im2colSameKernel(&t, dy[i*g.outSize():(i+1)*g.outSize()], col[(i-i0)*g.p:], ld)
			}
			if x != nil {
				xc := x[i0*g.inSize():]
				if b > 1 {
					gatherRows(xg, x, i0, i1, g.c, g.p)
					xc = xg
				}
				sgemm(false, true, t.ckk, g.c, ld, 1, col, ld, xc, ld, 1, acc, g.c)
			}
			if b == 1 {
				sgemm(false, false, g.c, g.p, t.ckk, 1, wt, t.ckk, col, ld, 0, dx[i0*g.inSize():], g.p)
				continue
			}
			sgemm(false, false, g.c, ld, t.ckk, 1, wt, t.ckk, col, ld, 0, tmp, ld)
			scatterRows(dx, tmp, i0, i1, g.c, g.p)
		}
	})
	if x == nil {
		return
	}
	// acc is (oc, flipped tap) × c; dw is oc × c × tap.
	acc := op.part.get(0, t.ckk*g.c)
	for gi := 1; gi < groups; gi++ {
		addTo(acc, op.part.get(gi, t.ckk*g.c))
	}
	if len(op.dw) != g.oc*g.ckk {
		op.dw = make([]float32, g.oc*g.ckk)
	}
	for oc := 0; oc < g.oc; oc++ {
		for c := 0; c < g.c; c++ {
			dst := op.dw[(oc*g.c+c)*kk : (oc*g.c+c+1)*kk]
			for k := range dst {
				dst[k] = acc[(oc*kk+kk-1-k)*g.c+c]
			}
		}
	}
}

// doDirect is doSame on the direct 3×3 kernels: dx is the forward kernel run on dy
// with the flipped, transposed filters, and dw (when x is not nil) is summed over
// chunks of images whose x and dy the two kernels share in cache, one partial sum per
// group of chunks (partialGroups), the partials then added in order.
func (op *convGradXOp) doDirect(w, dy, x, dx []float32) {
	g := &op.g
	if op.plan == nil {
		op.plan = newConv3x3Plan(g.h, g.w)
	}
	wp := op.wt.get(0, len(w))
	fwdt := conv3x3FwdTOK(g.oc, g.c, g.w)
	if fwdt {
		packConv3x3T(wp, g.oc, g.c, func(i, o, t int) float32 { return w[(o*g.c+i)*9+8-t] })
	} else {
		packConv3x3Back(w, wp, g.c, g.oc)
	}
	nb := g.direct3x3Images()
	nch := (g.n + nb - 1) / nb
	groups := partialGroups(nch)
	dwt := conv3x3DWTOK(g.c)
	parallelChunks(groups, func(wk, gi int) {
		var acc, raw []float32
		if x != nil {
			acc = op.part.get(gi, len(w))
			clear(acc)
			if dwt {
				raw = op.xt.get(wk, op.plan.dwtScratchLen(nb, g.c))
			}
		}
		for ch := gi * nch / groups; ch < (gi+1)*nch/groups; ch++ {
			i0, i1 := ch*nb, min((ch+1)*nb, g.n)
			d := dy[i0*g.outSize():]
			if fwdt {
				conv3x3FwdT(op.plan, d[:(i1-i0)*g.outSize()], wp, nil, dx[i0*g.inSize():i1*g.inSize()], i1-i0, g.oc, g.c, op.xf.get(wk, op.plan.fwdtScratchLen(g.oc)))
			} else {
				conv3x3Fwd(op.plan, d, wp, nil, dx[i0*g.inSize():i1*g.inSize()], i1-i0, g.oc, g.c)
			}
			switch {
			case x == nil:
			case dwt:
				conv3x3DWT(op.plan, x[i0*g.inSize():i1*g.inSize()], d, acc, i1-i0, g.c, g.oc, raw)
			default:
				conv3x3DW(op.plan, x[i0*g.inSize():i1*g.inSize()], d, acc, i1-i0, g.c, g.oc)
			}
		}
	})
	if x == nil {
		return
	}
	if len(op.dw) != len(w) {
		op.dw = make([]float32, len(w))
	}
	copy(op.dw, op.part.get(0, len(w)))
	for gi := 1; gi < groups; gi++ {
		addTo(op.dw, op.part.get(gi, len(w)))
	}
}

// convGradWOp computes ∂L/∂w from (x, ∂L/∂y): Σ_n dy_n · im2col(x_n)ᵀ.
type convGradWOp struct {
	opBase
	fwd  *convOp // its cols, when cached, hold im2col(x) of this step
	g    convGeom
	sc   scratch
	tmp  scratch
	part scratch
	xt   scratch // conv3x3DWT's packed images, per worker
	plan *conv3x3Plan
}

func (op *convGradWOp) Arity() int    { return 2 }
func (op *convGradWOp) Type() hm.Type { return fnType(4, 4, 4) }
func (op *convGradWOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.oc, op.g.c, op.g.kh, op.g.kw}, nil
}
func (op *convGradWOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, _, err := inputs("conv2d grad w", 2, vs)
	if err != nil {
		return nil, err
	}
	g := &op.g
	x, dy := in[0], in[1]
	out := op.output(g.oc, g.c, g.kh, g.kw)
	dw := out.Data().([]float32)
	if (g.direct3x3() || g.dwtStride2()) && (op.fwd == nil || op.fwd.cols == nil) {
		op.doDirect(x, dy, dw)
		return out, nil
	}
	b := g.batch()
	nch := g.chunks()
	groups := partialGroups(nch)
	parallelChunks(groups, func(wk, gi int) {
		lo, hi := gi*nch/groups, (gi+1)*nch/groups
		acc := dw
		if gi > 0 {
			acc = op.part.get(gi, len(dw))
		}
		clear(acc)
		cached := op.fwd != nil && op.fwd.cols != nil
		var col, dyb []float32
		if !g.pointwise && !cached {
			col = op.sc.get(wk, g.ckk*b*g.p)
		}
		if b > 1 {
			dyb = op.tmp.get(wk, g.oc*b*g.p)
		}
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*b, min((ch+1)*b, g.n)
			ld := (i1 - i0) * g.p
			switch {
			case g.pointwise:
				col = x[i0*g.inSize():]
			case cached:
				col = op.fwd.cols[i0*g.ckk*g.p : i1*g.ckk*g.p]
			default:
				for i := i0; i < i1; i++ {
					g.im2col(x[i*g.inSize():(i+1)*g.inSize()], col[(i-i0)*g.p:], ld)
				}
			}
			d := dy[i0*g.outSize():]
			if b > 1 {
				gatherRows(dyb, dy, i0, i1, g.oc, g.p)
				d = dyb
			}
			sgemm(false, true, g.oc, g.ckk, ld, 1, d, ld, col, ld, 1, acc, g.ckk)
		}
	})
	for gi := 1; gi < groups; gi++ {
		addTo(dw, op.part.get(gi, len(dw)))
	}
	return out, nil
}

// doDirect is Do for 3×3 same convolutions, and stride-2 ones with 16k input
// channels, on the direct weight-gradient kernels.
func (op *convGradWOp) doDirect(x, dy, dw []float32) {
	g := &op.g
	if op.plan == nil {
		op.plan = newConv3x3Plan(g.h, g.w)
	}
	nb := g.direct3x3Images()
	nch := (g.n + nb - 1) / nb
	groups := partialGroups(nch)
	dwt := conv3x3DWTOK(g.c)
	parallelChunks(groups, func(wk, gi int) {
		acc := op.part.get(gi, len(dw))
		clear(acc)
		var raw []float32
		if dwt {
			raw = op.xt.get(wk, op.plan.dwtScratchLen(nb, g.c))
		}
		for ch := gi * nch / groups; ch < (gi+1)*nch/groups; ch++ {
			i0, i1 := ch*nb, min((ch+1)*nb, g.n)
			xs, ds := x[i0*g.inSize():i1*g.inSize()], dy[i0*g.outSize():i1*g.outSize()]
			if dwt {
				conv3x3DWTStride(op.plan, g.stride, xs, ds, acc, i1-i0, g.c, g.oc, raw)
			} else {
				conv3x3DW(op.plan, xs, ds, acc, i1-i0, g.c, g.oc)
			}
		}
	})
	copy(dw, op.part.get(0, len(dw)))
	for gi := 1; gi < groups; gi++ {
		addTo(dw, op.part.get(gi, len(dw)))
	}
}
