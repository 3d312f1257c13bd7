package nn

import "fmt"

// Sub-pixel form of UpsampleConv2dReflect.
//
// Nearest upsampling by s followed by a K×K convolution (stride 1, output as large as
// the upsampled image) computes, for each of the s² output phases (oy mod s, ox mod
// s), a convolution of the low-resolution image with a smaller filter: the K taps of
// a row read only a few distinct low-resolution rows (for s = 2, K = 5: three), so
// the taps that read the same pixel are summed into one. MUNIT's 5×5 filters become
// four 3×3 filters on the low-resolution grid: 4·9 = 36 multiply-adds per
// low-resolution pixel and channel pair instead of 4·25 = 100.
//
// Reflection padding is resolved exactly: the upsampled image's reflection maps each
// padded row to a low-resolution row, and near the border that map differs from the
// interior's (for s = 2, pad 2: the padded row −2 is the upsampled row 2, low-res row
// 1, while row −1 is low-res row 0). Each low-resolution row therefore has a
// pattern — for every phase and tap, the offset of the row it reads — and rows with
// the same pattern share combined filters; the same holds for columns. The positions
// of one (row pattern, column pattern) class form a group with its own filters
// (interior, four edges, four corners for MUNIT's sizes), and each group is one
// SGEMM over the zero-padded low-resolution unfolding (the zero padding is never
// read by a non-zero combined tap: every tap reads a pixel inside the image).
//
// Layouts: the unfolded matrix has rows (d·C + ci), d the combined tap (di·kw + dj),
// and columns group-major: group g's columns for the images [lo, hi) of a GEMM are
// off_g·nimg + (b − lo)·cnt_g + j, j over the group's positions in row-major order.
// The combined filters of a group are an (s²·OC) × (kw²·C) matrix, rows (ph·OC + o).

// useSubpixel selects the sub-pixel form for upsampling convolutions where it saves
// work; tests switch it off to compare with the unfolding of the upsampled image.
var useSubpixel = true

// spGeom is the sub-pixel geometry of an upsampling convolution (see above).
type spGeom struct {
	s, kw    int // scale; side of the combined filters
	lo       int // offset of combined tap 0 from the output's low-res pixel (≤ 0)
	hp, wp   int // the zero-padded low-res plane
	hw       int // low-res pixels per image
	nph, m   int // phases s²; GEMM rows s²·OC
	dkw, ckw int // kw²; kw²·C
	groups   []spGroup
	perm     []int32 // hw: low-res pixel a·w + b at position j of the group-major order
	tap      []int32 // dkw·hw: padded-plane index combined tap d reads at position j
	outIdx   []int32 // nph·hw: output pixel (in its plane) of phase ph at position j
	goff     []int32 // the groups' offsets and sizes, for the C kernels
	gcnt     []int32
	comb     []int32 // ngroups·nph·K²: combined tap that filter tap t adds into
	group    int     // images per GEMM
}

type spGroup struct{ off, cnt int }

// newSPGeom returns the sub-pixel geometry of g (an upsampling by s, stride 1), or
// nil when the combined filters would not be smaller than the originals or the
// output is not the upsampled size.
func newSPGeom(g *rconvGeom, s int) *spGeom {
	if s < 2 || g.stride != 1 || g.oh != s*g.h || g.ow != s*g.w {
		return nil
	}
	k := g.k
	// offsets[a][r·K + ki]: the low-res row read by tap ki of output row s·a + r,
	// relative to a.
	offsets := func(n int) [][]int {
		out := make([][]int, n)
		for a := range out {
			out[a] = make([]int, s*k)
			for r := 0; r < s; r++ {
				for ki := 0; ki < k; ki++ {
					out[a][r*k+ki] = reflectIndex(s*a+r-g.pad+ki, s*n)/s - a
				}
			}
		}
		return out
	}
	rows, cols := offsets(g.h), offsets(g.w)
	lo, hi := 0, 0
	for _, set := range [][][]int{rows, cols} {
		for _, o := range set {
			for _, d := range o {
				lo, hi = min(lo, d), max(hi, d)
			}
		}
	}
	kw := hi - lo + 1
	if kw >= k {
		return nil
	}
	patterns := func(offs [][]int) (ids []int, pats [][]int) {
		seen := map[string]int{}
		for _, o := range offs {
			key := fmt.Sprint(o)
			id, ok := seen[key]
			if !ok {
				id = len(pats)
				seen[key] = id
				pats = append(pats, o)
			}
			ids = append(ids, id)
		}
		return ids, pats
	}
	rid, rpat := patterns(rows)
	cid, cpat := patterns(cols)
	sp := &spGeom{s: s, kw: kw, lo: lo, hp: g.h + kw - 1, wp: g.w + kw - 1, hw: g.h * g.w, nph: s * s}
	sp.m, sp.dkw = sp.nph*g.oc, kw*kw
	sp.ckw = sp.dkw * g.c
	// Groups in order of first appearance, positions row-major within each.
	gid := map[[2]int]int{}
	var keys [][2]int
	var members [][]int
	for a := 0; a < g.h; a++ {
		for b := 0; b < g.w; b++ {
			key := [2]int{rid[a], cid[b]}
			i, ok := gid[key]
			if !ok {
				i = len(keys)
				gid[key] = i
				keys = append(keys, key)
				members = append(members, nil)
			}
			members[i] = append(members[i], a*g.w+b)
		}
	}
	kk := k * k
	for i, mem := range members {
		gr := spGroup{off: len(sp.perm), cnt: len(mem)}
		sp.groups = append(sp.groups, gr)
		sp.goff, sp.gcnt = append(sp.goff, int32(gr.off)), append(sp.gcnt, int32(gr.cnt))
		for _, p := range mem {
			sp.perm = append(sp.perm, int32(p))
		}
		rp, cp := rpat[keys[i][0]], cpat[keys[i][1]]
		for r := 0; r < s; r++ {
			for sc := 0; sc < s; sc++ {
				for ki := 0; ki < k; ki++ {
					for kj := 0; kj < k; kj++ {
						di, dj := rp[r*k+ki]-lo, cp[sc*k+kj]-lo
						sp.comb = append(sp.comb, int32(di*kw+dj))
					}
				}
			}
		}
		_ = kk
	}
	sp.tap = make([]int32, sp.dkw*sp.hw)
	sp.outIdx = make([]int32, sp.nph*sp.hw)
	for j, p := range sp.perm {
		a, b := int(p)/g.w, int(p)%g.w
		for di := 0; di < kw; di++ {
			for dj := 0; dj < kw; dj++ {
				sp.tap[(di*kw+dj)*sp.hw+j] = int32((a+di)*sp.wp + b + dj)
			}
		}
		for r := 0; r < s; r++ {
			for sc := 0; sc < s; sc++ {
				sp.outIdx[(r*s+sc)*sp.hw+j] = int32((s*a+r)*g.ow + s*b + sc)
			}
		}
	}
	sp.group = max(1, min(g.n, (1024+sp.hw-1)/sp.hw, colTarget/(sp.ckw*sp.hw)))
	return sp
}

// padSize is the scratch the zero-padded low-res plane needs.
func (sp *spGeom) padSize() int { return sp.hp * sp.wp }

// kernelSize is the length of the combined filters of all groups.
func (sp *spGeom) kernelSize() int { return len(sp.groups) * sp.m * sp.ckw }

// goKernels writes the combined filters of every group into kern (kernelSize floats)
// from w (OC×C×K×K); wt is scratch of len(w) (w transposed to K²×OC×C).
func (sp *spGeom) goKernels(g *rconvGeom, w, wt, kern []float32) {
	kk, c, oc := g.kk, g.c, g.oc
	for o := 0; o < oc; o++ {
		for ci := 0; ci < c; ci++ {
			for t := 0; t < kk; t++ {
				wt[(t*oc+o)*c+ci] = w[(o*c+ci)*kk+t]
			}
		}
	}
	clear(kern)
	for gi := range sp.groups {
		for ph := 0; ph < sp.nph; ph++ {
			comb := sp.comb[(gi*sp.nph+ph)*kk : (gi*sp.nph+ph+1)*kk]
			for o := 0; o < oc; o++ {
				row := kern[(gi*sp.m+ph*oc+o)*sp.ckw : (gi*sp.m+ph*oc+o+1)*sp.ckw]
				for t, d := range comb {
					dst := row[int(d)*c : int(d+1)*c]
					for ci, v := range wt[(t*oc+o)*c : (t*oc+o+1)*c] {
						dst[ci] += v
					}
				}
			}
		}
	}
}

// goReduceW adds to dw (OC×C×K×K) the weight gradient whose combined-filter
// gradients are dk (kernelSize floats): each filter tap gets the gradients of the
// combined taps it was summed into. dwt is scratch of len(dw).
func (sp *spGeom) goReduceW(g *rconvGeom, dk, dwt, dw []float32) {
	kk, c, oc := g.kk, g.c, g.oc
	clear(dwt)
	for gi := range sp.groups {
		for ph := 0; ph < sp.nph; ph++ {
			comb := sp.comb[(gi*sp.nph+ph)*kk : (gi*sp.nph+ph+1)*kk]
			for o := 0; o < oc; o++ {
				row := dk[(gi*sp.m+ph*oc+o)*sp.ckw : (gi*sp.m+ph*oc+o+1)*sp.ckw]
				for t, d := range comb {
					dst := dwt[(t*oc+o)*c : (t*oc+o+1)*c]
					for ci, v := range row[int(d)*c : int(d+1)*c] {
						dst[ci] += v
					}
				}
			}
		}
	}
	for o := 0; o < oc; o++ {
		for ci := 0; ci < c; ci++ {
			for t := 0; t < kk; t++ {
				dw[(o*c+ci)*kk+t] += dwt[(t*oc+o)*c+ci]
			}
		}
	}
}

// goUnfold writes the unfolded low-res planes of images [lo, hi) into col (ckw rows,
// leading dimension (hi−lo)·hw, group-major columns). pb is scratch of padSize floats.
func (sp *spGeom) goUnfold(g *rconvGeom, x, col, pb []float32, lo, hi int) {
	nimg := hi - lo
	ld := nimg * sp.hw
	hw := g.h * g.w
	off := sp.lo
	clear(pb)
	for b := lo; b < hi; b++ {
		for ci := 0; ci < g.c; ci++ {
			plane := x[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			for a := 0; a < g.h; a++ {
				copy(pb[(a-off)*sp.wp-off:(a-off)*sp.wp-off+g.w], plane[a*g.w:(a+1)*g.w])
			}
			for d := 0; d < sp.dkw; d++ {
				row := col[(d*g.c+ci)*ld:]
				tap := sp.tap[d*sp.hw : (d+1)*sp.hw]
				for _, gr := range sp.groups {
					dst := row[gr.off*nimg+(b-lo)*gr.cnt : gr.off*nimg+(b-lo+1)*gr.cnt]
					for j, s := range tap[gr.off : gr.off+gr.cnt] {
						dst[j] = pb[s]
					}
				}
			}
		}
	}
}

// goFold sets the planes of images [lo, hi) of dx to the sums of their unfolded
// columns dcol (the adjoint of goUnfold).
func (sp *spGeom) goFold(g *rconvGeom, dcol, dx, pb []float32, lo, hi int) {
	nimg := hi - lo
	ld := nimg * sp.hw
	hw := g.h * g.w
	off := sp.lo
	for b := lo; b < hi; b++ {
		for ci := 0; ci < g.c; ci++ {
			clear(pb)
			for d := 0; d < sp.dkw; d++ {
				row := dcol[(d*g.c+ci)*ld:]
				tap := sp.tap[d*sp.hw : (d+1)*sp.hw]
				for _, gr := range sp.groups {
					src := row[gr.off*nimg+(b-lo)*gr.cnt : gr.off*nimg+(b-lo+1)*gr.cnt]
					for j, s := range tap[gr.off : gr.off+gr.cnt] {
						pb[s] += src[j]
					}
				}
			}
			plane := dx[(b*g.c+ci)*hw : (b*g.c+ci+1)*hw]
			for a := 0; a < g.h; a++ {
				copy(plane[a*g.w:(a+1)*g.w], pb[(a-off)*sp.wp-off:(a-off)*sp.wp-off+g.w])
			}
		}
	}
}

// goScatter writes the GEMM result ym (m rows, group-major columns) of images
// [lo, hi) into y (N×OC×OH×OW), adding the bias (nil for none).
func (sp *spGeom) goScatter(g *rconvGeom, ym, bias, y []float32, lo, hi int) {
	nimg := hi - lo
	ld := nimg * sp.hw
	for ph := 0; ph < sp.nph; ph++ {
		oi := sp.outIdx[ph*sp.hw : (ph+1)*sp.hw]
		for o := 0; o < g.oc; o++ {
			var bv float32
			if bias != nil {
				bv = bias[o]
			}
			row := ym[(ph*g.oc+o)*ld:]
			for b := lo; b < hi; b++ {
				plane := y[(b*g.oc+o)*g.p : (b*g.oc+o+1)*g.p]
				for _, gr := range sp.groups {
					src := row[gr.off*nimg+(b-lo)*gr.cnt : gr.off*nimg+(b-lo+1)*gr.cnt]
					for j, t := range oi[gr.off : gr.off+gr.cnt] {
						plane[t] = src[j] + bv
					}
				}
			}
		}
	}
}

// goGather is the transpose of goScatter without bias: it reads dy (N×OC×OH×OW) of
// images [lo, hi) into dym (m rows, group-major columns).
func (sp *spGeom) goGather(g *rconvGeom, dy, dym []float32, lo, hi int) {
	nimg := hi - lo
	ld := nimg * sp.hw
	for ph := 0; ph < sp.nph; ph++ {
		oi := sp.outIdx[ph*sp.hw : (ph+1)*sp.hw]
		for o := 0; o < g.oc; o++ {
			row := dym[(ph*g.oc+o)*ld:]
			for b := lo; b < hi; b++ {
				plane := dy[(b*g.oc+o)*g.p : (b*g.oc+o+1)*g.p]
				for _, gr := range sp.groups {
					dst := row[gr.off*nimg+(b-lo)*gr.cnt : gr.off*nimg+(b-lo+1)*gr.cnt]
					for j, t := range oi[gr.off : gr.off+gr.cnt] {
						dst[j] = plane[t]
					}
				}
			}
		}
	}
}

// groupsOf calls f for consecutive groups of at most sp.group images of [lo, hi).
func (sp *spGeom) groupsOf(lo, hi int, f func(lo, hi int)) {
	for a := lo; a < hi; a += sp.group {
		f(a, min(a+sp.group, hi))
	}
}

// spForward computes y = bias + conv(upsample(x)) in the sub-pixel form.
func (op *rconvOp) spForward(x, w, bias, y []float32) {
	g, sp := op.g, op.g.sp
	kern := op.spKern.get(0, sp.kernelSize())
	sp.kernels(g, w, op.spKern.get(1, len(w)), kern)
	parallelFor(g.n, func(wk, lo, hi int) {
		col, ym, pb := getBuf(sp.ckw*sp.group*sp.hw), getBuf(sp.m*sp.group*sp.hw), getBuf(sp.padSize())
		defer putBufs(col, ym, pb)
		sp.groupsOf(lo, hi, func(lo, hi int) {
			nimg := hi - lo
			ld := nimg * sp.hw
			sp.unfold(g, x, col, pb, lo, hi)
			for gi, gr := range sp.groups {
				c0 := gr.off * nimg
				g.gemm(false, false, sp.m, gr.cnt*nimg, sp.ckw, kern[gi*sp.m*sp.ckw:], sp.ckw, col[c0:], ld, 0, ym[c0:], ld)
			}
			sp.scatter(g, ym, bias, y, lo, hi)
		})
	})
}

// spGradW sets dw to ∂L/∂w from x and dy in the sub-pixel form.
func (op *rconvGradWOp) spGradW(x, dy, dw []float32) {
	g, sp := op.g, op.g.sp
	ks := sp.kernelSize()
	nw := numWorkers(g.n)
	parallelFor(g.n, func(wk, lo, hi int) {
		acc := op.part.get(wk, ks)
		clear(acc)
		col, pb, dym := getBuf(sp.ckw*sp.group*sp.hw), getBuf(sp.padSize()), getBuf(sp.m*sp.group*sp.hw)
		defer putBufs(col, pb, dym)
		sp.groupsOf(lo, hi, func(lo, hi int) {
			nimg := hi - lo
			ld := nimg * sp.hw
			sp.unfold(g, x, col, pb, lo, hi)
			sp.gather(g, dy, dym, lo, hi)
			for gi, gr := range sp.groups {
				c0 := gr.off * nimg
				g.gemm(false, true, sp.m, sp.ckw, gr.cnt*nimg, dym[c0:], ld, col[c0:], ld, 1, acc[gi*sp.m*sp.ckw:], sp.ckw)
			}
		})
	})
	dk := op.part.get(0, ks)
	for wk := 1; wk < nw; wk++ {
		addTo(dk, op.part.get(wk, ks))
	}
	clear(dw)
	sp.reduceW(g, dk, op.spT.get(0, len(dw)), dw)
}

// spGradX sets dx to ∂L/∂x from w and dy in the sub-pixel form.
func (op *rconvGradXOp) spGradX(w, dy, dx []float32) {
	g, sp := op.g, op.g.sp
	kern := op.wf.get(0, sp.kernelSize())
	sp.kernels(g, w, op.wf.get(1, len(w)), kern)
	parallelFor(g.n, func(wk, lo, hi int) {
		dcol, dym, pb := getBuf(sp.ckw*sp.group*sp.hw), getBuf(sp.m*sp.group*sp.hw), getBuf(sp.padSize())
		defer putBufs(dcol, dym, pb)
		sp.groupsOf(lo, hi, func(lo, hi int) {
			nimg := hi - lo
			ld := nimg * sp.hw
			sp.gather(g, dy, dym, lo, hi)
			for gi, gr := range sp.groups {
				c0 := gr.off * nimg
				g.gemm(true, false, sp.ckw, gr.cnt*nimg, sp.m, kern[gi*sp.m*sp.ckw:], sp.ckw, dym[c0:], ld, 0, dcol[c0:], ld)
			}
			sp.fold(g, dcol, dx, pb, lo, hi)
		})
	})
}
