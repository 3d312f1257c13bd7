package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ReLU returns max(x, 0) elementwise.
func ReLU(x *gorgonia.Node) (*gorgonia.Node, error) {
	return apply("ReLU", x.Shape(), []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x := in[0]
			parallelFor(len(y), func(_, lo, hi int) { reluKernel(x[lo:hi], y[lo:hi]) })
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := reluGrad(out, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// reluGrad passes grad where the ReLU output y is positive.
func reluGrad(y, grad *gorgonia.Node) (*gorgonia.Node, error) {
	return apply("ReLUGrad", y.Shape(), nil,
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, dx := op.tensorOut()
			y, dy := in[0], in[1]
			parallelFor(len(dx), func(_, lo, hi int) { reluGradKernel(y[lo:hi], dy[lo:hi], dx[lo:hi]) })
			return t, nil
		}, nil, y, grad)
}

// LeakyReLU returns x where x > 0 and alpha·x elsewhere.
func LeakyReLU(x *gorgonia.Node, alpha float32) (*gorgonia.Node, error) {
	return apply("LeakyReLU", x.Shape(), []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			for i, v := range in[0] {
				if v < 0 {
					v *= alpha
				}
				y[i] = v
			}
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			// The sign of y equals the sign of x for alpha ≥ 0, so the gradient reads y.
			dx, err := apply("LeakyReLUGrad", out.Shape(), nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					y, dy := in[0], in[1]
					for i, v := range y {
						if v > 0 {
							dx[i] = dy[i]
						} else {
							dx[i] = alpha * dy[i]
						}
					}
					return t, nil
				}, nil, out, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// MaxPool2d takes the maximum over k×k windows of x (N×C×H×W) moved by stride, without
// padding (the output is ⌊(H−k)/stride⌋+1 high). The gradient goes to the first
// maximum of each window.
func MaxPool2d(x *gorgonia.Node, k, stride int) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 4 || k < 1 || stride < 1 || s[2] < k || s[3] < k {
		return nil, fmt.Errorf("maxpool2d: bad input %v for window %d stride %d", s, k, stride)
	}
	n, c, h, w := s[0], s[1], s[2], s[3]
	oh, ow := (h-k)/stride+1, (w-k)/stride+1
	// For 2×2 windows with stride 2 the forward pass records the position of each
	// maximum within its plane; other windows recompute it in the backward pass.
	fast := k == 2 && stride == 2
	var argmax []int32
	if fast {
		argmax = make([]int32, n*c*oh*ow)
	}
	return apply("MaxPool2d", tensor.Shape{n, c, oh, ow}, []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x := in[0]
			parallelFor(n*c, func(_, lo, hi int) {
				for pl := lo; pl < hi; pl++ {
					xp := x[pl*h*w : (pl+1)*h*w]
					yp := y[pl*oh*ow : (pl+1)*oh*ow]
					if fast {
						maxPool2(x[pl*h*w:hi*h*w], y[pl*oh*ow:hi*oh*ow], argmax[pl*oh*ow:hi*oh*ow], hi-pl, h, w, oh, ow)
						break
					}
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							best := float32(math.Inf(-1))
							for ky := 0; ky < k; ky++ {
								r := (oy*stride+ky)*w + ox*stride
								for _, v := range xp[r : r+k] {
									best = max(best, v)
								}
							}
							yp[oy*ow+ox] = best
						}
					}
				}
			})
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("MaxPool2dGrad", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					x, y, dy := in[0], in[1], in[2]
					parallelFor(n*c, func(_, lo, hi int) {
						for pl := lo; pl < hi; pl++ {
							xp := x[pl*h*w : (pl+1)*h*w]
							dp := dx[pl*h*w : (pl+1)*h*w]
							clear(dp)
							if fast {
								o := pl * oh * ow
								for j, a := range argmax[o : o+oh*ow] {
									dp[a] = dy[o+j]
								}
								continue
							}
							for oy := 0; oy < oh; oy++ {
								for ox := 0; ox < ow; ox++ {
									o := pl*oh*ow + oy*ow + ox
									m := y[o]
								window:
									for ky := 0; ky < k; ky++ {
										r := (oy*stride+ky)*w + ox*stride
										for kx := 0; kx < k; kx++ {
											if xp[r+kx] == m {
												dp[r+kx] += dy[o]
												break window
											}
										}
									}
								}
							}
						}
					})
					return t, nil
				}, nil, in[0], out, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// AvgPool2d averages x (N×C×H×W) over k×k windows moved by stride, without padding.
func AvgPool2d(x *gorgonia.Node, k, stride int) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 4 || k < 1 || stride < 1 || s[2] < k || s[3] < k {
		return nil, fmt.Errorf("avgpool2d: bad input %v for window %d stride %d", s, k, stride)
	}
	n, c, h, w := s[0], s[1], s[2], s[3]
	oh, ow := (h-k)/stride+1, (w-k)/stride+1
	inv := 1 / float32(k*k)
	return apply("AvgPool2d", tensor.Shape{n, c, oh, ow}, []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x := in[0]
			for pl := 0; pl < n*c; pl++ {
				xp := x[pl*h*w:]
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						var sum float32
						for ky := 0; ky < k; ky++ {
							r := (oy*stride+ky)*w + ox*stride
							for kx := 0; kx < k; kx++ {
								sum += xp[r+kx]
							}
						}
						y[(pl*oh+oy)*ow+ox] = sum * inv
					}
				}
			}
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("AvgPool2dGrad", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					clear(dx)
					dy := in[0]
					for pl := 0; pl < n*c; pl++ {
						dp := dx[pl*h*w:]
						for oy := 0; oy < oh; oy++ {
							for ox := 0; ox < ow; ox++ {
								g := dy[(pl*oh+oy)*ow+ox] * inv
								for ky := 0; ky < k; ky++ {
									r := (oy*stride+ky)*w + ox*stride
									for kx := 0; kx < k; kx++ {
										dp[r+kx] += g
									}
								}
							}
						}
					}
					return t, nil
				}, nil, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// GlobalAvgPool2d averages each channel of x (N×C×H×W) over its H×W pixels, giving N×C.
func GlobalAvgPool2d(x *gorgonia.Node) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 4 {
		return nil, fmt.Errorf("globalavgpool2d: input %v must be N×C×H×W", s)
	}
	n, c, hw := s[0], s[1], s[2]*s[3]
	inv := 1 / float32(hw)
	return apply("GlobalAvgPool2d", tensor.Shape{n, c}, []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			for pl := range y {
				var sum float32
				for _, v := range in[0][pl*hw : (pl+1)*hw] {
					sum += v
				}
				y[pl] = sum * inv
			}
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("GlobalAvgPool2dGrad", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					for pl, g := range in[0] {
						g *= inv
						d := dx[pl*hw : (pl+1)*hw]
						for i := range d {
							d[i] = g
						}
					}
					return t, nil
				}, nil, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// Linear returns x·wᵀ for x of shape N×… (flattened to N×D) and w of shape K×D
// (PyTorch's nn.Linear layout), giving N×K.
func Linear(x, w *gorgonia.Node) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) < 2 || len(ws) != 2 || prod(xs[1:]) != ws[1] {
		return nil, fmt.Errorf("linear: input %v does not match weights %v (K×D)", xs, ws)
	}
	n, d, k := xs[0], ws[1], ws[0]
	skipX := x.Op() == nil
	return withFlops(2 * n * d * k)(apply("Linear", tensor.Shape{n, k}, []bool{!skipX, true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			sgemm(false, true, n, k, d, 1, in[0], d, in[1], d, 0, y, k)
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dw, err := apply("LinearGradW", ws, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dw := op.tensorOut()
					sgemm(true, false, k, d, n, 1, in[1], k, in[0], d, 0, dw, d)
					return t, nil
				}, nil, in[0], grad)
			if err != nil || skipX {
				return gorgonia.Nodes{nil, dw}, err
			}
			dx, err := apply("LinearGradX", xs, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					sgemm(false, false, n, d, k, 1, in[1], k, in[0], d, 0, dx, d)
					return t, nil
				}, nil, in[1], grad)
			return gorgonia.Nodes{dx, dw}, err
		}, x, w))
}

// withFlops records the FLOPs of the op of the node it wraps.
func withFlops(f int) func(*gorgonia.Node, error) (*gorgonia.Node, error) {
	return func(n *gorgonia.Node, err error) (*gorgonia.Node, error) {
		if err == nil {
			if op, ok := n.Op().(*fnOp); ok {
				op.flops = int64(f)
			}
		}
		return n, err
	}
}

// AddBias adds b (a vector of length C) along axis 1 of x (N×C or N×C×H×W).
func AddBias(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	xs := x.Shape()
	if len(xs) < 2 || b.Dims() != 1 || b.Shape()[0] != xs[1] {
		return nil, fmt.Errorf("addbias: bias %v does not match axis 1 of %v", b.Shape(), xs)
	}
	n, c, inner := xs[0], xs[1], prod(xs[2:])
	return apply("AddBias", xs, []bool{true, true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x, b := in[0], in[1]
			for i := 0; i < n; i++ {
				for ch := 0; ch < c; ch++ {
					o := (i*c + ch) * inner
					bv := b[ch]
					for j, v := range x[o : o+inner] {
						y[o+j] = v + bv
					}
				}
			}
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			db, err := channelSum(grad, nil)
			return gorgonia.Nodes{grad, db}, err
		}, x, b)
}

// channelSum returns Σ over all axes but 1 of dy (or of dy⊙x when x is not nil), the
// gradient of a per-channel bias (scale).
func channelSum(dy, x *gorgonia.Node) (*gorgonia.Node, error) {
	s := dy.Shape()
	n, c, inner := s[0], s[1], prod(s[2:])
	args := []*gorgonia.Node{dy}
	if x != nil {
		args = append(args, x)
	}
	return apply("ChannelSum", tensor.Shape{c}, nil,
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, db := op.tensorOut()
			parallelFor(c, func(_, lo, hi int) { channelSumRange(in, db, x != nil, n, c, inner, lo, hi) })
			return t, nil
		}, nil, args...)
}

func channelSumRange(in [][]float32, db []float32, withX bool, n, c, inner, lo, hi int) {
	if !withX {
		chanSum(in[0], n, c, inner, lo, hi, db)
		return
	}
	for ch := lo; ch < hi; ch++ {
		var sum float32
		for i := 0; i < n; i++ {
			o := (i*c + ch) * inner
			xs := in[1][o : o+inner]
			for j, v := range in[0][o : o+inner] {
				sum += v * xs[j]
			}
		}
		db[ch] = sum
	}
}

// CosineLinear returns the cosine similarity of every row of x (N×D) with every row of
// w (K×D): x̂·ŵᵀ, rows normalised to unit length, giving N×K values in [−1, 1]. It is the
// normalised classifier head LDAM uses (PAPER.md, "Classifier training").
func CosineLinear(x, w *gorgonia.Node) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		return nil, fmt.Errorf("cosinelinear: input %v does not match weights %v (K×D)", xs, ws)
	}
	n, d, k := xs[0], xs[1], ws[0]
	// Forward state shared with the gradient ops (the forward op always runs first).
	xhat := make([]float32, n*d)
	what := make([]float32, k*d)
	xinv := make([]float32, n)
	winv := make([]float32, k)
	normalize := func(src, dst, inv []float32, rows int) {
		for r := 0; r < rows; r++ {
			row := src[r*d : (r+1)*d]
			var ss float64
			for _, v := range row {
				ss += float64(v) * float64(v)
			}
			// Clamp like torch.nn.functional.normalize (eps 1e-12).
			in := float32(1 / math.Max(math.Sqrt(ss), 1e-12))
			inv[r] = in
			for j, v := range row {
				dst[r*d+j] = v * in
			}
		}
	}
	return apply("CosineLinear", tensor.Shape{n, k}, []bool{true, true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			normalize(in[0], xhat, xinv, n)
			normalize(in[1], what, winv, k)
			sgemm(false, true, n, k, d, 1, xhat, d, what, d, 0, y, k)
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			// ∂/∂x_n = (Σ_k g_nk ŵ_k − (Σ_k g_nk y_nk) x̂_n) / |x_n|, and symmetrically for w.
			dx, err := apply("CosineLinearGradX", xs, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					y, g := in[0], in[1]
					sgemm(false, false, n, d, k, 1, g, k, what, d, 0, dx, d)
					for r := 0; r < n; r++ {
						var gy float32
						for j := 0; j < k; j++ {
							gy += g[r*k+j] * y[r*k+j]
						}
						row := dx[r*d : (r+1)*d]
						for j := range row {
							row[j] = (row[j] - gy*xhat[r*d+j]) * xinv[r]
						}
					}
					return t, nil
				}, nil, out, grad)
			if err != nil {
				return nil, err
			}
			dw, err := apply("CosineLinearGradW", ws, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dw := op.tensorOut()
					y, g := in[0], in[1]
					sgemm(true, false, k, d, n, 1, g, k, xhat, d, 0, dw, d)
					for c := 0; c < k; c++ {
						var gy float32
						for r := 0; r < n; r++ {
							gy += g[r*k+c] * y[r*k+c]
						}
						row := dw[c*d : (c+1)*d]
						for j := range row {
							row[j] = (row[j] - gy*what[c*d+j]) * winv[c]
						}
					}
					return t, nil
				}, nil, out, grad)
			return gorgonia.Nodes{dx, dw}, err
		}, x, w)
}

// Scale multiplies x by the constant s.
func Scale(x *gorgonia.Node, s float32) (*gorgonia.Node, error) {
	return apply("Scale", x.Shape(), []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			for i, v := range in[0] {
				y[i] = v * s
			}
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := Scale(grad, s)
			return gorgonia.Nodes{dx}, err
		}, x)
}
