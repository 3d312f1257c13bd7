package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normMode says over which elements a normalisation computes its statistics.
type normMode int

const (
	perChannel  normMode = iota // batch norm: each channel over N×H×W
	perInstance                 // instance norm: each (image, channel) over H×W
	perSample                   // layer norm: each image over C×H×W
)

// BatchNormState holds the running statistics of one batch-norm layer, used in
// evaluation mode and saved in checkpoints.
type BatchNormState struct {
	Mean, Var []float32
	Momentum  float32 // weight of the new batch in the running average; 0 means 0.1
}

// NewBatchNormState returns running statistics for c channels (mean 0, variance 1).
func NewBatchNormState(c int) *BatchNormState {
	s := &BatchNormState{Mean: make([]float32, c), Var: make([]float32, c)}
	for i := range s.Var {
		s.Var[i] = 1
	}
	return s
}

const normEps = 1e-5

// reluMaskFromY turns off two fusions of the batch-norm backward (same results; for
// TestABBNReLU): BatchNormReLU's reads the ReLU's mask from its output instead of
// recomputing it from x, and BatchNormAddReLU's masks the gradient in a ReLUGrad op
// instead of in its sums' sweep.
var reluMaskFromY = false

// normalize returns (x − mean)/sqrt(var + 1e-5) with statistics over the groups of mode.
// For perChannel with a state: train uses batch statistics and updates the running
// ones; otherwise the running statistics are used.
func normalize(x *gorgonia.Node, mode normMode, state *BatchNormState, train bool) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) < 2 {
		return nil, fmt.Errorf("normalize: input %v must be at least N×C", s)
	}
	n, c, inner := s[0], s[1], prod(s[2:])
	if mode == perChannel && state != nil && len(state.Mean) != c {
		return nil, fmt.Errorf("batchnorm: state has %d channels, input %d", len(state.Mean), c)
	}
	useRunning := mode == perChannel && state != nil && !train
	var groups, glen int
	switch mode {
	case perChannel:
		groups, glen = c, n*inner
	case perInstance:
		groups, glen = n*c, inner
	case perSample:
		groups, glen = n, c*inner
	}
	// each calls f(g, off, len) for the contiguous runs of group g.
	each := func(g int, f func(off, l int)) {
		if mode == perChannel {
			for i := 0; i < n; i++ {
				f((i*c+g)*inner, inner)
			}
			return
		}
		f(g*glen, glen)
	}
	invstd := make([]float32, groups)
	return apply("Normalize", s, []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x := in[0]
			parallelFor(groups, func(_, lo, hi int) {
				for g := lo; g < hi; g++ {
					var mean, v float64
					if useRunning {
						mean, v = float64(state.Mean[g]), float64(state.Var[g])
					} else {
						var sum float64
						each(g, func(off, l int) {
							for _, xv := range x[off : off+l] {
								sum += float64(xv)
							}
						})
						mean = sum / float64(glen)
						var ss float64
						each(g, func(off, l int) {
							for _, xv := range x[off : off+l] {
								d := float64(xv) - mean
								ss += d * d
							}
						})
						v = ss / float64(glen)
						if mode == perChannel && state != nil {
							m := state.Momentum
							if m == 0 {
								m = 0.1
							}
							unbiased := v
							if glen > 1 {
								unbiased = ss / float64(glen-1)
							}
							state.Mean[g] = (1-m)*state.Mean[g] + m*float32(mean)
							state.Var[g] = (1-m)*state.Var[g] + m*float32(unbiased)
						}
					}
					is := 1 / math.Sqrt(v+normEps)
					invstd[g] = float32(is)
					m32, is32 := float32(mean), float32(is)
					each(g, func(off, l int) {
						for j, xv := range x[off : off+l] {
							y[off+j] = (xv - m32) * is32
						}
					})
				}
			})
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("NormalizeGrad", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					y, dy := in[0], in[1]
					parallelFor(groups, func(_, lo, hi int) {
						for g := lo; g < hi; g++ {
							is := invstd[g]
							if useRunning {
								each(g, func(off, l int) {
									for j, d := range dy[off : off+l] {
										dx[off+j] = d * is
									}
								})
								continue
							}
							// dx = (dy − mean(dy) − ŷ·mean(dy·ŷ)) / σ
							var sd, sdy float64
							each(g, func(off, l int) {
								ys := y[off : off+l]
								for j, d := range dy[off : off+l] {
									sd += float64(d)
									sdy += float64(d) * float64(ys[j])
								}
							})
							md, mdy := float32(sd/float64(glen)), float32(sdy/float64(glen))
							each(g, func(off, l int) {
								ys := y[off : off+l]
								for j, d := range dy[off : off+l] {
									dx[off+j] = (d - md - ys[j]*mdy) * is
								}
							})
						}
					})
					return t, nil
				}, nil, out, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// ScaleShift returns x·gamma + beta along axis 1 of x (N×C or N×C×H×W). gamma and beta
// are either vectors of length C (a per-channel affine map, as after batch norm) or
// N×C matrices (a per-image map, as in AdaIN). beta may be nil.
func ScaleShift(x, gamma, beta *gorgonia.Node) (*gorgonia.Node, error) {
	xs := x.Shape()
	if len(xs) < 2 {
		return nil, fmt.Errorf("scaleshift: input %v must be at least N×C", xs)
	}
	n, c, inner := xs[0], xs[1], prod(xs[2:])
	gs := gamma.Shape()
	perImage := len(gs) == 2
	if !(len(gs) == 1 && gs[0] == c) && !(perImage && gs[0] == n && gs[1] == c) {
		return nil, fmt.Errorf("scaleshift: gamma %v must be [%d] or [%d %d]", gs, c, n, c)
	}
	if beta != nil && !beta.Shape().Eq(gs) {
		return nil, fmt.Errorf("scaleshift: beta %v must have gamma's shape %v", beta.Shape(), gs)
	}
	idx := func(i, ch int) int {
		if perImage {
			return i*c + ch
		}
		return ch
	}
	args := []*gorgonia.Node{x, gamma}
	wrt := []bool{true, true}
	if beta != nil {
		args = append(args, beta)
		wrt = append(wrt, true)
	}
	// reduce sums dy (⊙x) over the elements each gamma entry touches.
	reduce := func(name string, dy, xn *gorgonia.Node) (*gorgonia.Node, error) {
		a := []*gorgonia.Node{dy}
		if xn != nil {
			a = append(a, xn)
		}
		return apply(name, gs, nil,
			func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
				t, r := op.tensorOut()
				clear(r)
				for i := 0; i < n; i++ {
					for ch := 0; ch < c; ch++ {
						o := (i*c + ch) * inner
						var sum float32
						if xn == nil {
							for _, v := range in[0][o : o+inner] {
								sum += v
							}
						} else {
							xv := in[1][o : o+inner]
							for j, v := range in[0][o : o+inner] {
								sum += v * xv[j]
							}
						}
						r[idx(i, ch)] += sum
					}
				}
				return t, nil
			}, nil, a...)
	}
	return apply("ScaleShift", xs, wrt,
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x, g := in[0], in[1]
			for i := 0; i < n; i++ {
				for ch := 0; ch < c; ch++ {
					o := (i*c + ch) * inner
					gv := g[idx(i, ch)]
					var bv float32
					if beta != nil {
						bv = in[2][idx(i, ch)]
					}
					for j, v := range x[o : o+inner] {
						y[o+j] = v*gv + bv
					}
				}
			}
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("ScaleShiftGradX", xs, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					dy, g := in[0], in[1]
					for i := 0; i < n; i++ {
						for ch := 0; ch < c; ch++ {
							o := (i*c + ch) * inner
							gv := g[idx(i, ch)]
							for j, v := range dy[o : o+inner] {
								dx[o+j] = v * gv
							}
						}
					}
					return t, nil
				}, nil, grad, in[1])
			if err != nil {
				return nil, err
			}
			dg, err := reduce("ScaleShiftGradGamma", grad, in[0])
			if err != nil {
				return nil, err
			}
			if beta == nil {
				return gorgonia.Nodes{dx, dg}, nil
			}
			db, err := reduce("ScaleShiftGradBeta", grad, nil)
			return gorgonia.Nodes{dx, dg, db}, err
		}, args...)
}

// BatchNorm normalises every channel of x (N×C×H×W or N×C) with batch statistics when
// train is true (updating state's running statistics) and with state's running
// statistics otherwise, then applies the per-channel affine map gamma, beta (length C).
func BatchNorm(x, gamma, beta *gorgonia.Node, state *BatchNormState, train bool) (*gorgonia.Node, error) {
	return batchNorm(x, gamma, beta, nil, state, train, false)
}

// BatchNormReLU is ReLU(BatchNorm(x, gamma, beta, state, train)) in one op.
func BatchNormReLU(x, gamma, beta *gorgonia.Node, state *BatchNormState, train bool) (*gorgonia.Node, error) {
	return batchNorm(x, gamma, beta, nil, state, train, true)
}

// batchNorm is one fused op: two passes forward (statistics; output) and two backward
// (the sums Σdy, Σdy·x̂ that are also the gradients of beta and gamma; dx), where
// composing normalize, ScaleShift and ReLU would take about ten. x̂ is not stored: the
// backward recomputes it from x and the batch mean, which saves an activation-sized
// buffer per layer and its memory traffic. With a shortcut short (the end of a residual
// block) it computes ReLU(BatchNorm(x) + short), one pass and one tensor less than
// batch norm followed by an addition and a ReLU.
func batchNorm(x, gamma, beta, short *gorgonia.Node, state *BatchNormState, train, relu bool) (*gorgonia.Node, error) {
	if state == nil {
		return nil, fmt.Errorf("batchnorm: nil state")
	}
	s := x.Shape()
	if len(s) < 2 {
		return nil, fmt.Errorf("batchnorm: input %v must be at least N×C", s)
	}
	n, c, inner := s[0], s[1], prod(s[2:])
	if len(state.Mean) != c || len(state.Var) != c {
		return nil, fmt.Errorf("batchnorm: state has %d channels, input %d", len(state.Mean), c)
	}
	for _, p := range []*gorgonia.Node{gamma, beta} {
		if p == nil || p.Dims() != 1 || p.Shape()[0] != c {
			return nil, fmt.Errorf("batchnorm: gamma and beta must be vectors of length %d", c)
		}
	}
	if short != nil && !short.Shape().Eq(s) {
		return nil, fmt.Errorf("batchnorm: shortcut %v does not match input %v", short.Shape(), s)
	}
	cnt := n * inner
	// Per-channel state shared by the forward op and its gradient ops (the forward runs
	// first in every step).
	mean := make([]float32, c)
	invstd := make([]float32, c)
	scale := make([]float32, c) // γσ⁻¹
	shift := make([]float32, c) // β − μγσ⁻¹, then scratch
	sum := make([]float64, c)
	sq := make([]float64, c)
	sumDy := make([]float32, c)  // Σ dy (masked by the ReLU): ∂L/∂beta
	sumDyX := make([]float32, c) // Σ dy·x̂: ∂L/∂gamma
	k := make([]float32, c)
	md := make([]float32, c)
	q := make([]float32, c)
	name := "BatchNorm"
	switch {
	case short != nil:
		name = "BatchNormAddReLU"
	case relu:
		name = "BatchNormReLU"
	}
	args, wrt := []*gorgonia.Node{x, gamma, beta}, []bool{true, true, true}
	if short != nil {
		args, wrt = append(args, short), append(wrt, true)
	}
	// A convolution whose output feeds only this layer's statistics sums it while
	// it writes it, which saves a pass over the activations.
	var cst *convStats
	if cop, ok := x.Op().(*convOp); ok && train && cop.stats == nil {
		cst = &convStats{shiftFrom: state.Mean}
		cop.stats = cst
	}
	y, err := apply(name, s, wrt,
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x, g, b := in[0], in[1], in[2]
			var sc []float32
			if short != nil {
				sc = in[3]
			}
			// Channel by channel, each worker taking the next when it finishes one:
			// channels are independent, so the result does not depend on the order.
			parallelChunks(c, func(_, lo int) {
				hi := lo + 1
				switch {
				case train && cst != nil && len(cst.sum) > 0:
					for ch := lo; ch < hi; ch++ {
						shift[ch] = cst.shift[ch]
						sum[ch], sq[ch] = 0, 0
						for w := range cst.sum {
							sum[ch] += cst.sum[w][ch]
							sq[ch] += cst.sq[w][ch]
						}
					}
				case train:
					for ch := lo; ch < hi; ch++ {
						// Sums of x − x₀ (its first value in the batch) keep Σ(x−x₀)²
						// from cancelling when the mean is large against the spread.
						shift[ch] = x[ch*inner]
						sum[ch], sq[ch] = 0, 0
					}
					bnStats(x, n, c, inner, lo, hi, shift, sum, sq)
				}
				for ch := lo; ch < hi; ch++ {
					var mu, v float64
					if train {
						d := sum[ch] / float64(cnt)
						mu = float64(shift[ch]) + d
						v = math.Max(sq[ch]/float64(cnt)-d*d, 0)
						m := state.Momentum
						if m == 0 {
							m = 0.1
						}
						unbiased := v
						if cnt > 1 {
							unbiased = v * float64(cnt) / float64(cnt-1)
						}
						state.Mean[ch] = (1-m)*state.Mean[ch] + m*float32(mu)
						state.Var[ch] = (1-m)*state.Var[ch] + m*float32(unbiased)
					} else {
						mu, v = float64(state.Mean[ch]), float64(state.Var[ch])
					}
					is := 1 / math.Sqrt(v+normEps)
					mean[ch], invstd[ch] = float32(mu), float32(is)
					scale[ch] = float32(float64(g[ch]) * is)
					shift[ch] = float32(float64(b[ch]) - mu*float64(g[ch])*is)
				}
				bnForward(x, sc, y, n, c, inner, lo, hi, scale, shift, relu)
			})
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			// With a shortcut, the ReLU's gradient is materialised once: it is the
			// shortcut's gradient and the batch norm's incoming one.
			// The op that writes it also sums Σdy and Σdy·(x−μ) per channel, in the
			// same sweep (the dx op then makes one pass instead of two).
			dyNode := grad
			if short != nil {
				var err error
				if reluMaskFromY {
					dyNode, err = reluGrad(out, grad)
				} else {
					dyNode, err = apply(name+"GradDy", s, nil,
						func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
							t, d := op.tensorOut()
							x, y, g := in[0], in[1], in[2]
							parallelChunks(c, func(_, ch int) {
								sum[ch], sq[ch] = 0, 0
								bnBackwardSums(g, x, y, nil, nil, d, n, c, inner, ch, ch+1, mean, sum, sq)
							})
							return t, nil
						}, nil, in[0], out, grad)
				}
				if err != nil {
					return nil, err
				}
			}
			dx, err := apply(name+"Grad", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					// The ReLU's mask is recomputed from x (y > 0 iff x·scale + shift > 0,
					// as the forward computed y), which saves reading y twice.
					x, y, dy := in[0], in[1], in[2]
					var ra, rb []float32
					if !relu || short != nil || !reluMaskFromY {
						y = nil
					}
					if relu && short == nil && !reluMaskFromY {
						ra, rb = scale, shift
					}
					parallelChunks(c, func(_, lo int) {
						hi := lo + 1
						if short == nil || reluMaskFromY {
							for ch := lo; ch < hi; ch++ {
								sum[ch], sq[ch] = 0, 0
							}
							bnBackwardSums(dy, x, y, ra, rb, nil, n, c, inner, lo, hi, mean, sum, sq)
						}
						for ch := lo; ch < hi; ch++ {
							is := float64(invstd[ch])
							sd, sdx := sum[ch], sq[ch]*is // Σd, Σd·x̂
							sumDy[ch], sumDyX[ch] = float32(sd), float32(sdx)
							// dx = γσ⁻¹(dy − mean(dy) − x̂·mean(dy·x̂)) in training,
							// γσ⁻¹dy with running statistics.
							k[ch] = scale[ch]
							md[ch], q[ch] = 0, 0
							if train {
								md[ch] = float32(sd / float64(cnt))
								q[ch] = float32(sdx / float64(cnt) * is)
							}
						}
						bnBackwardDx(dy, x, y, ra, rb, dx, n, c, inner, lo, hi, mean, k, md, q)
					})
					return t, nil
				}, nil, in[0], out, dyNode)
			if err != nil {
				return nil, err
			}
			// The parameter gradients were summed by the dx op; these ops read them
			// after it (they take dx as input to run in that order).
			copyOut := func(name string, src []float32) (*gorgonia.Node, error) {
				return apply(name, tensor.Shape{c}, nil,
					func(op *fnOp, _ [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
						t, d := op.tensorOut()
						copy(d, src)
						return t, nil
					}, nil, dx)
			}
			dg, err := copyOut(name+"GradGamma", sumDyX)
			if err != nil {
				return nil, err
			}
			db, err := copyOut(name+"GradBeta", sumDy)
			if short != nil {
				return gorgonia.Nodes{dx, dg, db, dyNode}, err
			}
			return gorgonia.Nodes{dx, dg, db}, err
		}, args...)
	return y, err
}
