package nn

import (
	"fmt"
	"sync"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2dReflect is a convolution of x (N×C×H×W) with the filters w (OC×C×K×K) and the
// optional bias b (length OC) whose input is padded by reflection (as
// ReflectPad2d(x, pad) followed by Conv2dBias with no padding, PyTorch's
// padding_mode="reflect"), in one op. The padding is resolved in a gather table built
// once, and images are unfolded and multiplied several at a time, so small feature
// maps (7×7, 14×14) still make large matrix products: one SGEMM covers
// ⌈1024/(OH·OW)⌉ images, the batch split over Threads goroutines. Its gradients are
// again one gather, one SGEMM and one scatter per group of images. When x is a graph
// input the gradient with respect to x is not computed.
func Conv2dReflect(x, w, b *gorgonia.Node, pad, stride int) (*gorgonia.Node, error) {
	return conv2dReflect(x, w, b, 1, pad, stride)
}

// UpsampleConv2dReflect is Conv2dReflect applied to x upsampled scale× by nearest
// neighbour (Upsample2d), in one op that never stores the upsampled image: the
// upsampling is part of the gather table. MUNIT's decoder upsamples this way.
func UpsampleConv2dReflect(x, w, b *gorgonia.Node, scale, pad int) (*gorgonia.Node, error) {
	if scale < 1 {
		return nil, fmt.Errorf("upsampleconv2dreflect: scale %d must be ≥ 1", scale)
	}
	return conv2dReflect(x, w, b, scale, pad, 1)
}

func conv2dReflect(x, w, b *gorgonia.Node, scale, pad, stride int) (*gorgonia.Node, error) {
	if err := checkFloat32("conv2dreflect", x, w); err != nil {
		return nil, err
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[1] != ws[1] || ws[2] != ws[3] {
		return nil, fmt.Errorf("conv2dreflect: input %v and filters %v must be N×C×H×W and OC×C×K×K", xs, ws)
	}
	if pad < 0 || stride < 1 {
		return nil, fmt.Errorf("conv2dreflect: pad %d must be ≥ 0 and stride %d ≥ 1", pad, stride)
	}
	vh, vw := xs[2]*scale, xs[3]*scale // the (upsampled) plane the filters slide over
	if pad > 0 && (vh < 2 || vw < 2) {
		return nil, fmt.Errorf("conv2dreflect: cannot reflect a %d×%d plane", vh, vw)
	}
	g := &rconvGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], oc: ws[0], k: ws[2], pad: pad, stride: stride}
	g.oh = (vh+2*pad-g.k)/stride + 1
	g.ow = (vw+2*pad-g.k)/stride + 1
	if g.oh < 1 || g.ow < 1 {
		return nil, fmt.Errorf("conv2dreflect: %d×%d filters do not fit a %d×%d input with pad %d", g.k, g.k, g.h, g.w, pad)
	}
	g.p, g.kk = g.oh*g.ow, g.k*g.k
	g.ckk = g.c * g.kk
	g.group = max(1, min(g.n, (1024+g.p-1)/g.p, colTarget/(g.ckk*g.p)))
	for ki := 0; ki < g.k && stride > 1; ki++ {
		if g.tap == nil {
			g.tap = make([]int32, g.kk*g.p)
		}
		for kj := 0; kj < g.k; kj++ {
			t := ki*g.k + kj
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					iy := reflectIndex(oy*stride-pad+ki, vh) / scale
					ix := reflectIndex(ox*stride-pad+kj, vw) / scale
					g.tap[t*g.p+oy*g.ow+ox] = int32(iy*g.w + ix)
				}
			}
		}
	}
	if stride == 1 {
		// The padded (and upsampled) plane as a gather from the input plane: unfolding
		// then copies contiguous rows of it.
		g.ph, g.pw = vh+2*pad, vw+2*pad
		g.padIdx = make([]int32, g.ph*g.pw)
		for y := 0; y < g.ph; y++ {
			for xx := 0; xx < g.pw; xx++ {
				g.padIdx[y*g.pw+xx] = int32((reflectIndex(y-pad, vh)/scale)*g.w + reflectIndex(xx-pad, vw)/scale)
			}
		}
	}
	g.skipX = x.Op() == nil
	if scale > 1 && useSubpixel && !g.isDirect() {
		g.sp = newSPGeom(g, scale)
	}
	name := "Conv2dReflect"
	if scale > 1 {
		name = "UpsampleConv2dReflect"
	}
	op := &rconvOp{opBase: newOpBase(name), g: g}
	op.flops = 2 * int64(g.n) * int64(g.oc) * int64(g.ckk) * int64(g.p)
	if b == nil {
		return gorgonia.ApplyOp(op, x, w)
	}
	if b.Dims() != 1 || b.Shape()[0] != g.oc {
		return nil, fmt.Errorf("conv2dreflect: bias %v must have %d entries", b.Shape(), g.oc)
	}
	if err := checkFloat32("conv2dreflect", b); err != nil {
		return nil, err
	}
	op.bias = true
	return gorgonia.ApplyOp(op, x, w, b)
}

// rconvGeom is the geometry of a reflect-padded convolution and its gather table:
// tap[t·p + j] is the input pixel (within a plane) that filter tap t reads for output
// pixel j.
type rconvGeom struct {
	n, c, h, w, oc, k, pad, stride int
	oh, ow, p, kk, ckk             int
	group                          int // images per SGEMM
	tap                            []int32
	// For stride 1: padIdx[i] is the input pixel at pixel i of the padded (upsampled)
	// ph×pw plane; tap is then not used.
	ph, pw int
	padIdx []int32
	skipX  bool
	// sp, when not nil, computes an upsampling convolution on the low-resolution
	// grid (convsubpixel.go) instead of unfolding the upsampled image.
	sp *spGeom
}

// isDirect says whether the convolution is computed without unfolding (directOC).
func (g *rconvGeom) isDirect() bool { return g.padIdx != nil && g.oc <= directOC }

// padSize is the padded plane of one image (0 with stride > 1); unfold and fold take
// scratch for the planes of all the images of a group.
func (g *rconvGeom) padSize() int { return g.ph * g.pw }

// unfold writes the columns of images [lo, hi) side by side: row (ci, t) of col
// (ckk × (hi−lo)·p) holds, for image b, x[b, ci, tap[t·p + j]] at column (b−lo)·p + j.
// With stride 1 it pads each plane into pb once and copies rows of it (unfoldPad, in C
// unless built with purego).
func (g *rconvGeom) unfold(x, col, pb []float32, lo, hi int) {
	if g.padIdx != nil {
		g.unfoldPad(x, col, pb, lo, hi)
		return
	}
	g.unfoldTap(x, col, lo, hi)
}

// goUnfoldTap is unfold with stride > 1 in Go: a gather through the tap table.
func (g *rconvGeom) goUnfoldTap(x, col []float32, lo, hi int) {
	ld := (hi - lo) * g.p
	hw := g.h * g.w
	for b := lo; b < hi; b++ {
		off := (b - lo) * g.p
		for ci := 0; ci < g.c; ci++ {
			plane := x[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			for t := 0; t < g.kk; t++ {
				dst := col[(ci*g.kk+t)*ld+off : (ci*g.kk+t)*ld+off+g.p]
				for j, s := range g.tap[t*g.p : (t+1)*g.p] {
					dst[j] = plane[s]
				}
			}
		}
	}
}

// goUnfoldPad is unfold with stride 1 in Go: each plane is padded into pb once and
// its rows are copied.
func (g *rconvGeom) goUnfoldPad(x, col, pb []float32, lo, hi int) {
	ld := (hi - lo) * g.p
	hw := g.h * g.w
	for b := lo; b < hi; b++ {
		off := (b - lo) * g.p
		for ci := 0; ci < g.c; ci++ {
			plane := x[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			for i, s := range g.padIdx {
				pb[i] = plane[s]
			}
			for ki := 0; ki < g.k; ki++ {
				for kj := 0; kj < g.k; kj++ {
					t := ki*g.k + kj
					dst := col[(ci*g.kk+t)*ld+off : (ci*g.kk+t)*ld+off+g.p]
					for oy := 0; oy < g.oh; oy++ {
						r := (oy+ki)*g.pw + kj
						d, src := dst[oy*g.ow:(oy+1)*g.ow], pb[r:r+g.ow]
						for j := range d {
							d[j] = src[j]
						}
					}
				}
			}
		}
	}
}

// fold sets the planes of images [lo, hi) of dx to the sums of their columns (the
// transpose of unfold), through the padded plane pb with stride 1 (foldPad).
func (g *rconvGeom) fold(col, dx, pb []float32, lo, hi int) {
	if g.padIdx != nil {
		g.foldPad(col, dx, pb, lo, hi)
		return
	}
	g.foldTap(col, dx, lo, hi)
}

// goFoldTap is fold with stride > 1 in Go.
func (g *rconvGeom) goFoldTap(col, dx []float32, lo, hi int) {
	ld := (hi - lo) * g.p
	hw := g.h * g.w
	for b := lo; b < hi; b++ {
		off := (b - lo) * g.p
		for ci := 0; ci < g.c; ci++ {
			plane := dx[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			clear(plane)
			for t := 0; t < g.kk; t++ {
				src := col[(ci*g.kk+t)*ld+off : (ci*g.kk+t)*ld+off+g.p]
				for j, s := range g.tap[t*g.p : (t+1)*g.p] {
					plane[s] += src[j]
				}
			}
		}
	}
}

// goFoldPad is fold with stride 1 in Go.
func (g *rconvGeom) goFoldPad(col, dx, pb []float32, lo, hi int) {
	ld := (hi - lo) * g.p
	hw := g.h * g.w
	for b := lo; b < hi; b++ {
		off := (b - lo) * g.p
		for ci := 0; ci < g.c; ci++ {
			plane := dx[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			clear(plane)
			clear(pb)
			for ki := 0; ki < g.k; ki++ {
				for kj := 0; kj < g.k; kj++ {
					t := ki*g.k + kj
					src := col[(ci*g.kk+t)*ld+off : (ci*g.kk+t)*ld+off+g.p]
					for oy := 0; oy < g.oh; oy++ {
						r := (oy+ki)*g.pw + kj
						d := pb[r : r+g.ow]
						for j, v := range src[oy*g.ow : (oy+1)*g.ow] {
							d[j] += v
						}
					}
				}
			}
			for i, s := range g.padIdx {
				plane[s] += pb[i]
			}
		}
	}
}

// goUnfoldZero unfolds the OC planes of dy for images [a0, a1), each zero-padded by
// K−1, for a K×K correlation whose output is the ph×pw padded plane: row o·K² + t of
// col (leading dimension (a1−a0)·ph·pw). dyp is scratch of (ph+K−1)·(pw+K−1) floats.
func (g *rconvGeom) goUnfoldZero(dy, col, dyp []float32, a0, a1 int) {
	k, kk, php := g.k, g.kk, g.ph*g.pw
	dpw := g.pw + k - 1
	ld := (a1 - a0) * php
	clear(dyp) // its border stays zero; the interior is overwritten per plane
	for b := a0; b < a1; b++ {
		off := (b - a0) * php
		for o := 0; o < g.oc; o++ {
			src := dy[(b*g.oc+o)*g.p : (b*g.oc+o+1)*g.p]
			for oy := 0; oy < g.oh; oy++ {
				r := (oy+k-1)*dpw + k - 1
				copy(dyp[r:r+g.ow], src[oy*g.ow:(oy+1)*g.ow])
			}
			for a := 0; a < k; a++ {
				for bb := 0; bb < k; bb++ {
					row := o*kk + a*k + bb
					dst := col[row*ld+off : row*ld+off+php]
					for y := 0; y < g.ph; y++ {
						r := (y+a)*dpw + bb
						copy(dst[y*g.pw:(y+1)*g.pw], dyp[r:r+g.pw])
					}
				}
			}
		}
	}
}

// goScatterPad sets the planes of images [a0, a1) of dx to the sums of the padded
// planes in dxp (row ci, leading dimension ld, image b at column (b−a0)·ph·pw).
func (g *rconvGeom) goScatterPad(dxp, dx []float32, a0, a1, ld int) {
	hw, php := g.h*g.w, g.ph*g.pw
	for b := a0; b < a1; b++ {
		for ci := 0; ci < g.c; ci++ {
			plane := dx[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			clear(plane)
			src := dxp[ci*ld+(b-a0)*php : ci*ld+(b-a0+1)*php]
			for i, s := range g.padIdx {
				plane[s] += src[i]
			}
		}
	}
}

// directOC is the most output channels a stride-1 reflect convolution computes
// directly (direct, directGradW) instead of unfolding: with one output channel (the
// decoder's last convolution) the unfolded matrix is K² times the input and its
// products are matrix-vector ones.
const directOC = 2

// goDirect computes y = bias + w ⋆ pad(x) for images [lo, hi) without unfolding.
func (g *rconvGeom) goDirect(x, w, bias, y, pb []float32, lo, hi int) {
	hw := g.h * g.w
	for b := lo; b < hi; b++ {
		for o := 0; o < g.oc; o++ {
			var bv float32
			if bias != nil {
				bv = bias[o]
			}
			yo := y[(b*g.oc+o)*g.p : (b*g.oc+o+1)*g.p]
			for j := range yo {
				yo[j] = bv
			}
		}
		for ci := 0; ci < g.c; ci++ {
			plane := x[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			for i, s := range g.padIdx {
				pb[i] = plane[s]
			}
			for o := 0; o < g.oc; o++ {
				yo := y[(b*g.oc+o)*g.p : (b*g.oc+o+1)*g.p]
				wo := w[(o*g.c+ci)*g.kk : (o*g.c+ci+1)*g.kk]
				for oy := 0; oy < g.oh; oy++ {
					yr := yo[oy*g.ow : (oy+1)*g.ow]
					for ki := 0; ki < g.k; ki++ {
						for kj := 0; kj < g.k; kj++ {
							wv := wo[ki*g.k+kj]
							r := (oy+ki)*g.pw + kj
							for j, v := range pb[r : r+g.ow] {
								yr[j] += wv * v
							}
						}
					}
				}
			}
		}
	}
}

// goDirectGradW adds ∂L/∂w = dy ⋆ pad(x) of images [lo, hi) into dw without unfolding.
func (g *rconvGeom) goDirectGradW(x, dy, dw, pb []float32, lo, hi int) {
	hw := g.h * g.w
	for b := lo; b < hi; b++ {
		for ci := 0; ci < g.c; ci++ {
			plane := x[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			for i, s := range g.padIdx {
				pb[i] = plane[s]
			}
			for o := 0; o < g.oc; o++ {
				d := dy[(b*g.oc+o)*g.p : (b*g.oc+o+1)*g.p]
				wo := dw[(o*g.c+ci)*g.kk : (o*g.c+ci+1)*g.kk]
				for ki := 0; ki < g.k; ki++ {
					for kj := 0; kj < g.k; kj++ {
						var acc float32
						for oy := 0; oy < g.oh; oy++ {
							r := (oy+ki)*g.pw + kj
							for j, v := range pb[r : r+g.ow] {
								acc += d[oy*g.ow+j] * v
							}
						}
						wo[ki*g.k+kj] += acc
					}
				}
			}
		}
	}
}

// gatherDy copies dy of images [lo, hi) into the OC × (hi−lo)·p matrix m.
func (g *rconvGeom) gatherDy(dy, m []float32, lo, hi int) {
	ld := (hi - lo) * g.p
	for b := lo; b < hi; b++ {
		for o := 0; o < g.oc; o++ {
			copy(m[o*ld+(b-lo)*g.p:o*ld+(b-lo+1)*g.p], dy[(b*g.oc+o)*g.p:(b*g.oc+o+1)*g.p])
		}
	}
}

// dyMatrix returns dy of images [lo, hi) as the OC × (hi−lo)·p matrix: dy itself for
// one image, else gathered into m.
func (g *rconvGeom) dyMatrix(dy, m []float32, lo, hi int) []float32 {
	if hi-lo == 1 {
		return dy[lo*g.oc*g.p : hi*g.oc*g.p]
	}
	g.gatherDy(dy, m, lo, hi)
	return m
}

// groups calls f for consecutive groups of at most g.group images of [lo, hi).
func (g *rconvGeom) groups(lo, hi int, f func(lo, hi int)) {
	for a := lo; a < hi; a += g.group {
		f(a, min(a+g.group, hi))
	}
}

type rconvOp struct {
	opBase
	g    *rconvGeom
	bias bool
	// The weight gradient unfolds the input again rather than keeping the forward
	// pass's unfolded batch: written to and read back from memory (megabytes per
	// layer, tens per MUNIT step), that copy cost more than unfolding into a buffer
	// that stays in cache (measured: MUNIT's batch-32 step was faster without it, at 1
	// and 2 threads).
	spKern scratch // the sub-pixel form's combined filters and a transposed copy of w
}

func (op *rconvOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}
func (op *rconvOp) Type() hm.Type {
	if op.bias {
		return fnType(4, 4, 4, 1)
	}
	return fnType(4, 4, 4)
}
func (op *rconvOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.n, op.g.oc, op.g.oh, op.g.ow}, nil
}
func (op *rconvOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, _, err := inputs("conv2dreflect", op.Arity(), vs)
	if err != nil {
		return nil, err
	}
	g := op.g
	x, w := in[0], in[1]
	out := op.output(g.n, g.oc, g.oh, g.ow)
	y := out.Data().([]float32)
	if g.sp != nil {
		var bias []float32
		if op.bias {
			bias = in[2]
		}
		op.spForward(x, w, bias, y)
		return out, nil
	}
	if g.isDirect() {
		var bias []float32
		if op.bias {
			bias = in[2]
		}
		parallelFor(g.n, func(wk, lo, hi int) {
			pb := getBuf(g.padSize())
			defer putBufs(pb)
			g.direct(x, w, bias, y, pb, lo, hi)
		})
		return out, nil
	}
	parallelFor(g.n, func(wk, lo, hi int) {
		col, ym, pb := getBuf(g.ckk*g.group*g.p), getBuf(g.oc*g.group*g.p), getBuf(g.group*g.padSize())
		defer putBufs(col, ym, pb)
		g.groups(lo, hi, func(lo, hi int) {
			ld := (hi - lo) * g.p
			g.unfold(x, col, pb, lo, hi)
			g.gemm(false, false, g.oc, ld, g.ckk, w, g.ckk, col, ld, 0, ym, ld)
			for b := lo; b < hi; b++ {
				for o := 0; o < g.oc; o++ {
					src := ym[o*ld+(b-lo)*g.p : o*ld+(b-lo+1)*g.p]
					dst := y[(b*g.oc+o)*g.p : (b*g.oc+o+1)*g.p]
					if op.bias {
						bv := in[2][o]
						for j, v := range src {
							dst[j] = v + bv
						}
					} else {
						copy(dst, src)
					}
				}
			}
		})
	})
	return out, nil
}
func (op *rconvOp) DiffWRT(n int) []bool { return []bool{!op.g.skipX, true, true}[:n] }
func (op *rconvOp) SymDiff(in gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g := op.g
	dw, err := gorgonia.ApplyOp(&rconvGradWOp{opBase: newOpBase("Conv2dReflectGradW"), g: g}, in[0], grad)
	if err != nil {
		return nil, err
	}
	out := gorgonia.Nodes{nil, dw}
	if op.bias {
		db, err := apply("Conv2dReflectGradB", tensor.Shape{g.oc}, nil,
			func(o *fnOp, vs [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
				t, db := o.tensorOut()
				parallelFor(g.oc, func(_, lo, hi int) { chanSum(vs[0], g.n, g.oc, g.p, lo, hi, db) })
				return t, nil
			}, nil, grad)
		if err != nil {
			return nil, err
		}
		out = append(out, db)
	}
	if g.skipX {
		return out, nil
	}
	if out[0], err = gorgonia.ApplyOp(&rconvGradXOp{opBase: newOpBase("Conv2dReflectGradX"), g: g}, in[1], grad); err != nil {
		return nil, err
	}
	return out, nil
}

// rconvGradWOp computes ∂L/∂w from (x, ∂L/∂y): Σ over groups of dY·colᵀ.
type rconvGradWOp struct {
	opBase
	g    *rconvGeom
	part scratch
	spT  scratch // the sub-pixel form's transposed weight gradient
}

func (op *rconvGradWOp) Arity() int    { return 2 }
func (op *rconvGradWOp) Type() hm.Type { return fnType(4, 4, 4) }
func (op *rconvGradWOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.oc, op.g.c, op.g.k, op.g.k}, nil
}
func (op *rconvGradWOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, _, err := inputs("conv2dreflect grad w", 2, vs)
	if err != nil {
		return nil, err
	}
	g := op.g
	x, dy := in[0], in[1]
	out := op.output(g.oc, g.c, g.k, g.k)
	dw := out.Data().([]float32)
	nw := numWorkers(g.n)
	if g.sp != nil {
		op.spGradW(x, dy, dw)
		return out, nil
	}
	parallelFor(g.n, func(wk, lo, hi int) {
		acc := dw
		if wk > 0 {
			acc = op.part.get(wk, len(dw))
		}
		clear(acc)
		if g.isDirect() {
			pb := getBuf(g.padSize())
			defer putBufs(pb)
			g.directGradW(x, dy, acc, pb, lo, hi)
			return
		}
		col, pb, dym := getBuf(g.ckk*g.group*g.p), getBuf(g.group*g.padSize()), getBuf(g.oc*g.group*g.p)
		defer putBufs(col, pb, dym)
		g.groups(lo, hi, func(lo, hi int) {
			ld := (hi - lo) * g.p
			g.unfold(x, col, pb, lo, hi)
			m := g.dyMatrix(dy, dym, lo, hi)
			g.gemm(false, true, g.oc, g.ckk, ld, m, ld, col, ld, 1, acc, g.ckk)
		})
	})
	for wk := 1; wk < nw; wk++ {
		addTo(dw, op.part.get(wk, len(dw)))
	}
	return out, nil
}

// rconvGradXOp computes ∂L/∂x from (w, ∂L/∂y): fold(Wᵀ·dY) per group of images.
type rconvGradXOp struct {
	opBase
	g  *rconvGeom
	wf scratch
}

func (op *rconvGradXOp) Arity() int    { return 2 }
func (op *rconvGradXOp) Type() hm.Type { return fnType(4, 4, 4) }
func (op *rconvGradXOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.n, op.g.c, op.g.h, op.g.w}, nil
}
func (op *rconvGradXOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, _, err := inputs("conv2dreflect grad x", 2, vs)
	if err != nil {
		return nil, err
	}
	g := op.g
	w, dy := in[0], in[1]
	out := op.output(g.n, g.c, g.h, g.w)
	dx := out.Data().([]float32)
	if g.sp != nil {
		op.spGradX(w, dy, dx)
		return out, nil
	}
	if g.padIdx != nil && g.oc*g.ph*g.pw < g.c*g.p {
		op.doTransposed(w, dy, dx)
		return out, nil
	}
	parallelFor(g.n, func(wk, lo, hi int) {
		col, dym, pb := getBuf(g.ckk*g.group*g.p), getBuf(g.oc*g.group*g.p), getBuf(g.group*g.padSize())
		defer putBufs(col, dym, pb)
		g.groups(lo, hi, func(lo, hi int) {
			ld := (hi - lo) * g.p
			m := g.dyMatrix(dy, dym, lo, hi)
			g.gemm(true, false, g.ckk, ld, g.oc, w, g.ckk, m, ld, 0, col, ld)
			g.fold(col, dx, pb, lo, hi)
		})
	})
	return out, nil
}

// doTransposed computes dx of a stride-1 convolution with fewer output than input
// channels as the correlation of dy, zero-padded by K−1, with the flipped, transposed
// filters, on the padded (upsampled) plane; the padded plane's gradient is then folded
// into dx. Its unfolded matrix has OC·K² rows of (H+2·pad)·(W+2·pad) columns per image
// instead of C·K² rows of OH·OW: a fraction of the memory traffic when OC < C (MUNIT's
// last decoder convolution has OC = 1).
func (op *rconvGradXOp) doTransposed(w, dy, dx []float32) {
	g := op.g
	k, kk := g.k, g.kk
	okk, php := g.oc*kk, g.ph*g.pw
	dph, dpw := g.ph+k-1, g.pw+k-1
	wf := op.wf.get(0, g.c*okk)
	for ci := 0; ci < g.c; ci++ {
		for o := 0; o < g.oc; o++ {
			for a := 0; a < k; a++ {
				for b := 0; b < k; b++ {
					wf[ci*okk+o*kk+a*k+b] = w[((o*g.c+ci)*k+(k-1-a))*k+(k-1-b)]
				}
			}
		}
	}
	grp := max(1, min(g.n, colTarget/(okk*php)))
	parallelFor(g.n, func(wk, lo, hi int) {
		col, dxp, dyp := getBuf(okk*grp*php), getBuf(g.c*grp*php), getBuf(dph*dpw)
		defer putBufs(col, dxp, dyp)
		for a0 := lo; a0 < hi; a0 += grp {
			a1 := min(a0+grp, hi)
			ld := (a1 - a0) * php
			g.unfoldZero(dy, col, dyp, a0, a1)
			g.gemm(false, false, g.c, ld, okk, wf, okk, col, ld, 0, dxp, ld)
			g.scatterPad(dxp, dx, a0, a1, ld)
		}
	})
}

// gemm is C = op(A)·op(B) + beta·C (row-major). A batch too small to give every
// worker an image (one image: live GIT, batch-1 training) splits the columns of C
// over the workers instead, so the threads are used either way.
func (g *rconvGeom) gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	w := numWorkers(1 << 30)
	if g.n >= w || w == 1 || m*n*k < 1<<20 || n < 2*w {
		sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
		return
	}
	parallelFor(n, func(_, lo, hi int) {
		bb := b[lo:] // columns lo… of op(B)
		if transB {
			bb = b[lo*ldb:]
		}
		sgemm(transA, transB, m, hi-lo, k, 1, a, lda, bb, ldb, beta, c[lo:], ldc)
	})
}

// bufPool holds the unfolding buffers of all reflect convolutions: ops run one at a
// time per graph, so sharing them (instead of each op keeping its own, a few MB per
// op and worker) bounds a model's scratch memory by the number of goroutines. It is a
// plain free list rather than a sync.Pool, which drops its buffers at garbage
// collections: MUNIT's batch-32 step then allocated (and page-faulted in) ≈60 MB of
// fresh buffers per iteration.
var bufPool struct {
	sync.Mutex
	free [][]float32
}

// maxFreeBufs bounds the free list; beyond it the smallest buffer is dropped.
const maxFreeBufs = 32

// getBuf returns a buffer of n floats (contents undefined): the smallest free one
// that is large enough, or a new one.
func getBuf(n int) []float32 {
	bufPool.Lock()
	best := -1
	for i, b := range bufPool.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(bufPool.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := bufPool.free[best]
		last := len(bufPool.free) - 1
		bufPool.free[best] = bufPool.free[last]
		bufPool.free[last] = nil
		bufPool.free = bufPool.free[:last]
		bufPool.Unlock()
		return b[:n]
	}
	bufPool.Unlock()
	return make([]float32, n, n+n/4)
}

func putBufs(bs ...[]float32) {
	bufPool.Lock()
	defer bufPool.Unlock()
	for _, b := range bs {
		if cap(b) == 0 {
			continue
		}
		bufPool.free = append(bufPool.free, b)
		if len(bufPool.free) > maxFreeBufs {
			small := 0
			for i, f := range bufPool.free {
				if cap(f) < cap(bufPool.free[small]) {
					small = i
				}
			}
			last := len(bufPool.free) - 1
			bufPool.free[small] = bufPool.free[last]
			bufPool.free[last] = nil
			bufPool.free = bufPool.free[:last]
		}
	}
}

// colTarget bounds the unfolded columns of one SGEMM (floats), so they stay in cache.
var colTarget = 1 << 19
