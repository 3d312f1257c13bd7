package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Layers that only move pixels within each (image, channel) plane: reflection padding
// and nearest-neighbour upsampling. Both are one gather per plane through an index
// table computed once when the layer is built (output pixel i reads input pixel
// idx[i]); the gradient is the matching scatter-add. MUNIT's generator needs both
// (PAPER.md: "nearest upsample + conv, since gorgonia has no transposed convolution";
// its convolutions pad by reflection).

// ReflectPad2d pads every plane of x (N×C×H×W) by pad pixels on each side, mirroring
// the image at its border without repeating the edge pixel (PyTorch's
// nn.ReflectionPad2d): row −1 is row 1, row H is row H−2. A pad of H or more reflects
// repeatedly. Followed by Conv2d with pad 0 it is a reflect-padded convolution.
func ReflectPad2d(x *gorgonia.Node, pad int) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 4 {
		return nil, fmt.Errorf("reflectpad2d: input %v must be N×C×H×W", s)
	}
	if pad < 0 {
		return nil, fmt.Errorf("reflectpad2d: negative pad %d", pad)
	}
	h, w := s[2], s[3]
	if pad > 0 && (h < 2 || w < 2) {
		return nil, fmt.Errorf("reflectpad2d: cannot reflect a %d×%d plane", h, w)
	}
	oh, ow := h+2*pad, w+2*pad
	idx := make([]int32, oh*ow)
	for y := 0; y < oh; y++ {
		for xx := 0; xx < ow; xx++ {
			idx[y*ow+xx] = int32(reflectIndex(y-pad, h)*w + reflectIndex(xx-pad, w))
		}
	}
	return gatherPlanes("ReflectPad2d", x, oh, ow, idx)
}

// reflectIndex maps i to [0, n) by mirroring at the borders without repeating them.
func reflectIndex(i, n int) int {
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*(n-1) - i
		}
	}
	return i
}

// Upsample2d repeats every pixel of x (N×C×H×W) into a scale×scale block: nearest-
// neighbour upsampling to N×C×(scale·H)×(scale·W), PyTorch's nn.Upsample(scale_factor=
// scale, mode="nearest").
func Upsample2d(x *gorgonia.Node, scale int) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 4 {
		return nil, fmt.Errorf("upsample2d: input %v must be N×C×H×W", s)
	}
	if scale < 1 {
		return nil, fmt.Errorf("upsample2d: scale %d must be ≥ 1", scale)
	}
	h, w := s[2], s[3]
	oh, ow := h*scale, w*scale
	idx := make([]int32, oh*ow)
	for y := 0; y < oh; y++ {
		for xx := 0; xx < ow; xx++ {
			idx[y*ow+xx] = int32((y/scale)*w + xx/scale)
		}
	}
	return gatherPlanes("Upsample2d", x, oh, ow, idx)
}

// UpsampleReflectPad2d is ReflectPad2d(Upsample2d(x, scale), pad) in one pass: the
// input of a reflect-padded convolution after upsampling, as in MUNIT's decoder.
func UpsampleReflectPad2d(x *gorgonia.Node, scale, pad int) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 4 {
		return nil, fmt.Errorf("upsamplereflectpad2d: input %v must be N×C×H×W", s)
	}
	if scale < 1 || pad < 0 {
		return nil, fmt.Errorf("upsamplereflectpad2d: scale %d must be ≥ 1 and pad %d ≥ 0", scale, pad)
	}
	h, w := s[2], s[3]
	uh, uw := h*scale, w*scale
	if pad > 0 && (uh < 2 || uw < 2) {
		return nil, fmt.Errorf("upsamplereflectpad2d: cannot reflect a %d×%d plane", uh, uw)
	}
	oh, ow := uh+2*pad, uw+2*pad
	idx := make([]int32, oh*ow)
	for y := 0; y < oh; y++ {
		for xx := 0; xx < ow; xx++ {
			idx[y*ow+xx] = int32((reflectIndex(y-pad, uh)/scale)*w + reflectIndex(xx-pad, uw)/scale)
		}
	}
	return gatherPlanes("UpsampleReflectPad2d", x, oh, ow, idx)
}

// gatherPlanes builds the op y[n, c, i] = x[n, c, idx[i]] for output planes of oh×ow
// pixels, and its gradient dx[n, c, idx[i]] += dy[n, c, i].
func gatherPlanes(name string, x *gorgonia.Node, oh, ow int, idx []int32) (*gorgonia.Node, error) {
	s := x.Shape()
	planes, in, out := s[0]*s[1], s[2]*s[3], oh*ow
	return apply(name, tensor.Shape{s[0], s[1], oh, ow}, []bool{true},
		func(op *fnOp, vs [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			x := vs[0]
			parallelFor(planes, func(_, lo, hi int) {
				for p := lo; p < hi; p++ {
					xs, ys := x[p*in:(p+1)*in], y[p*out:(p+1)*out]
					for i, j := range idx {
						ys[i] = xs[j]
					}
				}
			})
			return t, nil
		},
		func(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(name+"Grad", s, nil,
				func(op *fnOp, vs [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					dy := vs[0]
					parallelFor(planes, func(_, lo, hi int) {
						for p := lo; p < hi; p++ {
							ds, gs := dx[p*in:(p+1)*in], dy[p*out:(p+1)*out]
							clear(ds)
							for i, j := range idx {
								ds[j] += gs[i]
							}
						}
					})
					return t, nil
				}, nil, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}

// SliceColumns returns columns [lo, hi) of the matrix x (N×D) as an N×(hi−lo) matrix,
// copied: e.g. the scale or the shift of one AdaIN layer among the parameters an MLP
// computes for all of them. Its gradient is zero outside the slice.
func SliceColumns(x *gorgonia.Node, lo, hi int) (*gorgonia.Node, error) {
	s := x.Shape()
	if len(s) != 2 || lo < 0 || hi > s[1] || lo >= hi {
		return nil, fmt.Errorf("slicecolumns: columns [%d, %d) of a %v matrix", lo, hi, s)
	}
	n, d, k := s[0], s[1], hi-lo
	return apply("SliceColumns", tensor.Shape{n, k}, []bool{true},
		func(op *fnOp, vs [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			t, y := op.tensorOut()
			for i := 0; i < n; i++ {
				copy(y[i*k:(i+1)*k], vs[0][i*d+lo:i*d+hi])
			}
			return t, nil
		},
		func(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("SliceColumnsGrad", s, nil,
				func(op *fnOp, vs [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					clear(dx)
					for i := 0; i < n; i++ {
						copy(dx[i*d+lo:i*d+hi], vs[0][i*k:(i+1)*k])
					}
					return t, nil
				}, nil, grad)
			return gorgonia.Nodes{dx}, err
		}, x)
}
