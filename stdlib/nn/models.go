package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SmallCNN returns the small convolutional network of the experiments: two 3×3
// convolutions (conv1, conv2 channels, default 16 and 32; padding 1) each followed by
// ReLU and 2×2 max pooling, an optional hidden fully connected layer with ReLU, and a
// linear (or cosine) head. It takes 1- or 3-channel images of any size ≥ 4×4. Only
// Arch's SmallCNN fields, Head, CosineScale and Seed are used.
func SmallCNN(a Arch) *Model {
	a.Name = "smallcnn"
	if a.Conv1 <= 0 {
		a.Conv1 = 16
	}
	if a.Conv2 <= 0 {
		a.Conv2 = 32
	}
	a.Depth, a.Width = 0, 0
	return newModel(a, buildSmallCNN)
}

// ResNet returns a CIFAR-style residual network (He et al. 2016, as in the LDAM and GIT
// reference code): a 3×3 convolution, three stages of depth/6 basic blocks with widths
// w, 2w, 4w (w = Width, default 16; the 2nd and 3rd stages halve the resolution), batch
// norm, identity shortcuts with zero-padded channels ("option A"), global average
// pooling and a linear (or cosine) head. Depth must be 6n+2: 20, 32, 44, 56, 110.
func ResNet(a Arch) (*Model, error) {
	a.Name = "resnet"
	if a.Depth == 0 {
		a.Depth = 20
	}
	if a.Width <= 0 {
		a.Width = 16
	}
	if (a.Depth-2)%6 != 0 || a.Depth < 8 {
		return nil, fmt.Errorf("nn: ResNet depth %d is not 6n+2", a.Depth)
	}
	a.Conv1, a.Conv2, a.Hidden = 0, 0, 0
	return newModel(a, buildResNet), nil
}

// ResNet20 returns ResNet(Arch{Depth: 20, Width: 16, Seed: seed}).
func ResNet20(seed int64) *Model {
	m, _ := ResNet(Arch{Depth: 20, Seed: seed})
	return m
}

// ResNet32 returns ResNet(Arch{Depth: 32, Width: 16, Seed: seed}).
func ResNet32(seed int64) *Model {
	m, _ := ResNet(Arch{Depth: 32, Seed: seed})
	return m
}

func newModel(a Arch, build func(*scope, *gorgonia.Node, int) (*gorgonia.Node, error)) *Model {
	if a.Head == "" {
		a.Head = "linear"
	}
	if a.Head == "cosine" && a.CosineScale == 0 {
		a.CosineScale = 30
	}
	return &Model{Arch: a, build: build}
}

// UseCosineHead switches an uninitialised model to the scaled cosine head LDAM needs.
func (m *Model) UseCosineHead(scale float64) error {
	if m.ready {
		if m.Arch.Head == "cosine" {
			return nil
		}
		return fmt.Errorf("nn: %s already has a linear head", m.Arch.Name)
	}
	if m.custom != nil {
		return fmt.Errorf("nn: custom model %s chooses its own head", m.Arch.Name)
	}
	if scale <= 0 {
		scale = 30
	}
	m.Arch.Head, m.Arch.CosineScale = "cosine", scale
	return nil
}

func buildSmallCNN(s *scope, x *gorgonia.Node, k int) (*gorgonia.Node, error) {
	a := s.m.Arch
	h := x
	for i, ch := range []int{a.Conv1, a.Conv2} {
		name := fmt.Sprintf("conv%d", i+1)
		in := h.Shape()[1]
		w, err := s.param(name+".weight", []int{ch, in, 3, 3}, true, kaiming(in*9))
		if err != nil {
			return nil, err
		}
		b, err := s.param(name+".bias", []int{ch}, true, uniform(in*9))
		if err != nil {
			return nil, err
		}
		if h, err = Conv2dBias(h, w, b, 1, 1); err != nil {
			return nil, err
		}
		if sh := h.Shape(); sh[2] < 2 || sh[3] < 2 {
			return nil, fmt.Errorf("smallcnn: input %dx%d too small", s.m.H, s.m.W)
		}
		// Pooling before the ReLU computes the same function (ReLU is monotone) on a
		// quarter of the values.
		if h, err = MaxPool2d(h, 2, 2); err != nil {
			return nil, err
		}
		if h, err = ReLU(h); err != nil {
			return nil, err
		}
	}
	if a.Hidden > 0 {
		d := prod(h.Shape()[1:])
		w, err := s.param("fc.weight", []int{a.Hidden, d}, true, kaiming(d))
		if err != nil {
			return nil, err
		}
		if h, err = Linear(h, w); err != nil {
			return nil, err
		}
		if h, err = s.bias("fc", h, d); err != nil {
			return nil, err
		}
		if h, err = ReLU(h); err != nil {
			return nil, err
		}
	}
	if s.m.Arch.Head == "cosine" && len(h.Shape()) != 2 {
		var err error
		if h, err = flatten(h); err != nil {
			return nil, err
		}
	}
	return s.head("fc_out", h, k)
}

func buildResNet(s *scope, x *gorgonia.Node, k int) (*gorgonia.Node, error) {
	a := s.m.Arch
	n := (a.Depth - 2) / 6
	h, err := s.conv("conv1", x, a.Width, 3, 1, 1)
	if err != nil {
		return nil, err
	}
	if h, err = s.batchNorm("bn1", h, true); err != nil {
		return nil, err
	}
	for stage := 0; stage < 3; stage++ {
		width := a.Width << stage
		for b := 0; b < n; b++ {
			stride := 1
			if stage > 0 && b == 0 {
				stride = 2
			}
			if h, err = s.basicBlock(fmt.Sprintf("layer%d.%d", stage+1, b), h, width, stride); err != nil {
				return nil, err
			}
		}
	}
	if h, err = GlobalAvgPool2d(h); err != nil {
		return nil, err
	}
	return s.head("linear", h, k)
}

func (s *scope) basicBlock(name string, x *gorgonia.Node, width, stride int) (*gorgonia.Node, error) {
	h, err := s.conv(name+".conv1", x, width, 3, 1, stride)
	if err != nil {
		return nil, err
	}
	if h, err = s.batchNorm(name+".bn1", h, true); err != nil {
		return nil, err
	}
	if h, err = s.conv(name+".conv2", h, width, 3, 1, 1); err != nil {
		return nil, err
	}
	short := x
	if stride != 1 || x.Shape()[1] != width {
		if short, err = ShortcutA(x, width, stride); err != nil {
			return nil, err
		}
	}
	// ReLU(bn2(h) + short) in one op.
	return s.batchNormAdd(name+".bn2", h, short, false)
}

// Add returns a + b for two tensors of the same shape.
func Add(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, fmt.Errorf("add: shapes %v and %v differ", a.Shape(), b.Shape())
	}
	return apply("Add", a.Shape(), []bool{true, true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			b := in[1]
			for i, v := range in[0] {
				y[i] = v + b[i]
			}
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			return gorgonia.Nodes{grad, grad}, nil
		}, a, b)
}

// flatten reshapes N×… to N×D through a copy-free custom op.
func flatten(x *gorgonia.Node) (*gorgonia.Node, error) {
	s := x.Shape()
	d := prod(s[1:])
	return apply("Flatten", tensor.Shape{s[0], d}, []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			copy(y, in[0])
			return t, nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("Unflatten", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, y := op.tensorOut()
					copy(y, in[0])
					return t, nil
				}, nil, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// ShortcutA is the parameter-free shortcut of CIFAR ResNets: it keeps every stride-th
// pixel of x (N×C×H×W) and pads the channels with zeros, equally on both sides, to out.
func ShortcutA(x *gorgonia.Node, out, stride int) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 4 || out < s[1] || (out-s[1])%2 != 0 || stride < 1 {
		return nil, fmt.Errorf("shortcut: cannot map %v to %d channels with stride %d", s, out, stride)
	}
	n, c, h, w := s[0], s[1], s[2], s[3]
	oh, ow := (h+stride-1)/stride, (w+stride-1)/stride
	off := (out - c) / 2
	return apply("ShortcutA", tensor.Shape{n, out, oh, ow}, []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x := in[0]
			parallelFor(n, func(_, lo, hi int) {
				clear(y[lo*out*oh*ow : hi*out*oh*ow])
				for i := lo; i < hi; i++ {
					for ch := 0; ch < c; ch++ {
						src := x[(i*c+ch)*h*w:]
						dst := y[(i*out+ch+off)*oh*ow:]
						for oy := 0; oy < oh; oy++ {
							for ox := 0; ox < ow; ox++ {
								dst[oy*ow+ox] = src[oy*stride*w+ox*stride]
							}
						}
					}
				}
			})
			return t, nil
		},
		func(in gorgonia.Nodes, outN, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("ShortcutAGrad", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					dy := in[0]
					parallelFor(n, func(_, lo, hi int) {
						clear(dx[lo*c*h*w : hi*c*h*w])
						for i := lo; i < hi; i++ {
							for ch := 0; ch < c; ch++ {
								dst := dx[(i*c+ch)*h*w:]
								src := dy[(i*out+ch+off)*oh*ow:]
								for oy := 0; oy < oh; oy++ {
									for ox := 0; ox < ow; ox++ {
										dst[oy*stride*w+ox*stride] = src[oy*ow+ox]
									}
								}
							}
						}
					})
					return t, nil
				}, nil, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}
