package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// InstanceNorm normalises every (image, channel) plane of x (N×C×H×W) over its pixels,
// then applies gamma and beta if gamma is not nil: vectors of length C (a learned
// affine map) or N×C matrices (AdaIN, with statistics produced by another network).
// It is one op (statistics, normalisation and the affine map in one pass forward,
// the gradients of x, gamma and beta from two passes backward), in C unless built with
// purego.
func InstanceNorm(x, gamma, beta *gorgonia.Node) (*gorgonia.Node, error) {
	return groupNorm("InstanceNorm", x, gamma, beta, true)
}

// LayerNorm normalises every image of x (N×C×H×W) over all its C×H×W values, then
// applies the per-channel gamma and beta (length C) if gamma is not nil, as MUNIT's
// decoder does. Like InstanceNorm it is one fused op.
func LayerNorm(x, gamma, beta *gorgonia.Node) (*gorgonia.Node, error) {
	return groupNorm("LayerNorm", x, gamma, beta, false)
}

// gnGeom describes a normalisation over groups of channels of each image: statistics
// over cpg consecutive channels × inner pixels (cpg = 1: instance norm; cpg = C: layer
// norm), then y = x̂·γ + β with γ, β per channel (affine 1), per image and channel
// (affine 2) or absent (affine 0).
type gnGeom struct {
	n, c, inner, cpg int
	affine           int
}

// groups returns the number of normalisation groups.
func (g gnGeom) groups() int { return g.n * g.c / g.cpg }

// gi returns the index of (image i, channel ch) in γ and β.
func (g gnGeom) gi(i, ch int) int {
	if g.affine == 2 {
		return i*g.c + ch
	}
	return ch
}

func groupNorm(name string, x, gamma, beta *gorgonia.Node, perPlane bool) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) < 2 {
		return nil, fmt.Errorf("%s: input %v must be at least N×C", name, s)
	}
	g := gnGeom{n: s[0], c: s[1], inner: prod(s[2:]), cpg: s[1]}
	if perPlane {
		g.cpg = 1
	}
	args, wrt := []*gorgonia.Node{x}, []bool{true}
	var gs tensor.Shape
	if gamma != nil {
		gs = gamma.Shape()
		switch {
		case len(gs) == 1 && gs[0] == g.c:
			g.affine = 1
		case perPlane && len(gs) == 2 && gs[0] == g.n && gs[1] == g.c:
			g.affine = 2
		default:
			if perPlane {
				return nil, fmt.Errorf("%s: gamma %v must be [%d] or [%d %d]", name, gs, g.c, g.n, g.c)
			}
			return nil, fmt.Errorf("%s: gamma %v must be [%d]", name, gs, g.c)
		}
		if beta == nil || !beta.Shape().Eq(gs) {
			return nil, fmt.Errorf("%s: beta must have gamma's shape %v", name, gs)
		}
		args, wrt = append(args, gamma, beta), append(wrt, true, true)
	}
	ng := g.groups()
	// Per-group statistics from the forward pass, read by the backward one (which
	// recomputes x̂ from x rather than keeping an activation-sized copy); per-(image,
	// channel) sums Σdy and Σdy·x̂ from the backward pass, which are the gradients of
	// beta and gamma.
	mean := make([]float32, ng)
	invstd := make([]float32, ng)
	s1 := make([]float64, g.n*g.c)
	s2 := make([]float64, g.n*g.c)
	return apply(name, s, wrt,
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			var gm, bt []float32
			if g.affine != 0 {
				gm, bt = in[1], in[2]
			}
			parallelFor(ng, func(_, lo, hi int) { gnForward(g, in[0], y, mean, invstd, gm, bt, lo, hi) })
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			// out is an argument only to order this op after the forward pass.
			a := []*gorgonia.Node{in[0], out, grad}
			if g.affine != 0 {
				a = append(a, in[1])
			}
			dx, err := apply(name+"Grad", s, nil,
				func(op *fnOp, vs [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					var gm []float32
					if g.affine != 0 {
						gm = vs[3]
					}
					parallelFor(ng, func(_, lo, hi int) { gnBackward(g, vs[0], vs[2], dx, mean, invstd, gm, s1, s2, lo, hi) })
					return t, nil
				}, nil, a...)
			if err != nil || g.affine == 0 {
				return gorgonia.Nodes{dx}, err
			}
			// The parameter gradients were summed by the dx op; these ops read them
			// after it (they take dx as input to run in that order).
			sums := func(name string, src []float64) (*gorgonia.Node, error) {
				return apply(name, gs, nil,
					func(op *fnOp, _ [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
						t, d := op.tensorOut()
						if g.affine == 2 {
							for i, v := range src {
								d[i] = float32(v)
							}
							return t, nil
						}
						for ch := range d {
							var acc float64
							for i := 0; i < g.n; i++ {
								acc += src[i*g.c+ch]
							}
							d[ch] = float32(acc)
						}
						return t, nil
					}, nil, dx)
			}
			dg, err := sums(name+"GradGamma", s2)
			if err != nil {
				return nil, err
			}
			db, err := sums(name+"GradBeta", s1)
			return gorgonia.Nodes{dx, dg, db}, err
		}, args...)
}

// gnLanes is the number of partial sums a group's reductions keep: element j of a
// group goes to sum j mod gnLanes, and the partial sums are added in lane order, so
// the C kernels (which keep them in a vector register) and the Go versions agree bit
// for bit.
const gnLanes = 8

// laneSum returns Σ v over xs, in the lane order described at gnLanes.
func laneSum(xs []float32) float64 {
	var acc [gnLanes]float64
	for j, v := range xs {
		acc[j%gnLanes] += float64(v)
	}
	return sumLanes(&acc)
}

func sumLanes(acc *[gnLanes]float64) float64 {
	var s float64
	for _, v := range acc {
		s += v
	}
	return s
}

// goGNForward normalises groups [lo, hi): mean and variance (two passes, in float64),
// then y = (x − μ)·σ⁻¹·γ + β in float32.
func goGNForward(g gnGeom, x, y, mean, invstd, gamma, beta []float32, lo, hi int) {
	gl := g.cpg * g.inner
	for q := lo; q < hi; q++ {
		xs := x[q*gl : (q+1)*gl]
		mu := laneSum(xs) / float64(gl)
		var acc [gnLanes]float64
		for j, v := range xs {
			d := float64(v) - mu
			acc[j%gnLanes] += d * d
		}
		is := 1 / math.Sqrt(sumLanes(&acc)/float64(gl)+normEps)
		m32, is32 := float32(mu), float32(is)
		mean[q], invstd[q] = m32, is32
		i, c0 := q*g.cpg/g.c, q*g.cpg%g.c
		for k := 0; k < g.cpg; k++ {
			o := (q*g.cpg + k) * g.inner
			ys, xk := y[o:o+g.inner], x[o:o+g.inner]
			if g.affine == 0 {
				for j, v := range xk {
					ys[j] = (v - m32) * is32
				}
				continue
			}
			gv, bv := gamma[g.gi(i, c0+k)], beta[g.gi(i, c0+k)]
			for j, v := range xk {
				ys[j] = (v-m32)*is32*gv + bv
			}
		}
	}
}

// goGNBackward computes dx for groups [lo, hi) and, per (image, channel) of those
// groups, s1 = Σdy and s2 = Σdy·x̂ (the gradients of β and γ before any sum over
// images): with g' = γ·dy, dx = σ⁻¹·(g' − mean(g') − x̂·mean(g'·x̂)).
func goGNBackward(g gnGeom, x, dy, dx, mean, invstd, gamma []float32, s1, s2 []float64, lo, hi int) {
	gl := g.cpg * g.inner
	for q := lo; q < hi; q++ {
		m32, is32 := mean[q], invstd[q]
		i, c0 := q*g.cpg/g.c, q*g.cpg%g.c
		var g1, g2 float64
		for k := 0; k < g.cpg; k++ {
			o := (q*g.cpg + k) * g.inner
			var a1, a2 [gnLanes]float64
			for j, d := range dy[o : o+g.inner] {
				xh := (x[o+j] - m32) * is32
				a1[j%gnLanes] += float64(d)
				a2[j%gnLanes] += float64(d) * float64(xh)
			}
			t1, t2 := sumLanes(&a1), sumLanes(&a2)
			s1[i*g.c+c0+k], s2[i*g.c+c0+k] = t1, t2
			gv := 1.0
			if g.affine != 0 {
				gv = float64(gamma[g.gi(i, c0+k)])
			}
			g1 += gv * t1
			g2 += gv * t2
		}
		md, mdy := float32(g1/float64(gl)), float32(g2/float64(gl))
		for k := 0; k < g.cpg; k++ {
			o := (q*g.cpg + k) * g.inner
			var gv float32 = 1
			if g.affine != 0 {
				gv = gamma[g.gi(i, c0+k)]
			}
			for j, d := range dy[o : o+g.inner] {
				xh := (x[o+j] - m32) * is32
				dx[o+j] = (d*gv - md - xh*mdy) * is32
			}
		}
	}
}
