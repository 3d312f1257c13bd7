package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCheck compares the analytic gradients of a scalar built by f from parameters of
// the given shapes with central finite differences, on up to 12 random coordinates
// per parameter. A non-scalar output y is reduced to Σ y⊙R with a fixed random R.
func gradCheck(t *testing.T, name string, shapes [][]int, f func(ps []*gorgonia.Node) (*gorgonia.Node, error)) {
	t.Helper()
	r := rand.New(rand.NewSource(int64(len(name))))
	g := gorgonia.NewGraph()
	var ps []*gorgonia.Node
	var vals [][]float32
	for i, s := range shapes {
		d := make([]float32, prod(s))
		for j := range d {
			d[j] = float32(r.NormFloat64())
		}
		vals = append(vals, d)
		ps = append(ps, gorgonia.NewTensor(g, tensor.Float32, len(s), gorgonia.WithShape(s...), gorgonia.WithName(fmt.Sprintf("p%d", i)),
			gorgonia.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(d)))))
	}
	y, err := f(ps)
	if err != nil {
		t.Fatalf("%s: build: %v", name, err)
	}
	cost := y
	var rs []float32
	if !y.IsScalar() {
		rs = make([]float32, prod(y.Shape()))
		for j := range rs {
			rs[j] = float32(r.NormFloat64())
		}
		rn := gorgonia.NewTensor(g, tensor.Float32, y.Dims(), gorgonia.WithShape(y.Shape()...), gorgonia.WithName("R"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(rs))))
		if cost, err = gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, rn))); err != nil {
			t.Fatal(err)
		}
	}
	grads, err := gorgonia.Grad(cost, ps...)
	if err != nil {
		t.Fatalf("%s: grad: %v", name, err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	run := func() float64 {
		if err := vm.RunAll(); err != nil {
			t.Fatalf("%s: run: %v", name, err)
		}
		defer vm.Reset()
		if rs == nil {
			return float64(*cost.Value().(*gorgonia.F32))
		}
		// Reduce in float64: float32 rounding of the sum would swamp the differences.
		var sum float64
		for j, v := range y.Value().Data().([]float32) {
			sum += float64(v) * float64(rs[j])
		}
		return sum
	}
	run()
	var analytic [][]float32
	for _, gn := range grads {
		analytic = append(analytic, append([]float32(nil), gn.Value().Data().([]float32)...))
	}
	const eps = 1e-2
	for i, d := range vals {
		for c := 0; c < 12; c++ {
			j := r.Intn(len(d))
			old := d[j]
			d[j] = old + eps
			up := run()
			d[j] = old - eps
			down := run()
			d[j] = old
			num := (up - down) / (2 * eps)
			an := float64(analytic[i][j])
			if math.Abs(num-an) > 2e-2+3e-2*math.Abs(num) {
				t.Errorf("%s: ∂/∂p%d[%d] analytic %.5f, numeric %.5f", name, i, j, an, num)
			}
		}
	}
}

// notInput wraps a parameter in an op, so that Conv2d and Linear compute its gradient.
func notInput(x *gorgonia.Node) *gorgonia.Node { return gorgonia.Must(Scale(x, 1)) }

func TestGradConvStack(t *testing.T) {
	for _, c := range []struct{ pad, stride, k int }{{1, 1, 3}, {0, 2, 3}, {2, 1, 5}, {0, 1, 1}, {1, 2, 3}} {
		name := fmt.Sprintf("conv k%d pad%d stride%d", c.k, c.pad, c.stride)
		gradCheck(t, name, [][]int{{2, 3, 7, 6}, {4, 3, c.k, c.k}, {4}, {5, 4, 3, 3}},
			func(p []*gorgonia.Node) (*gorgonia.Node, error) {
				h, err := Conv2dBias(notInput(p[0]), p[1], p[2], c.pad, c.stride)
				if err != nil {
					return nil, err
				}
				// No ReLU in between: finite differences across its kink would be noise.
				return Conv2d(h, p[3], 1, 1)
			})
	}
}

func TestGradPooling(t *testing.T) {
	gradCheck(t, "maxpool 2/2", [][]int{{2, 3, 6, 8}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return MaxPool2d(p[0], 2, 2)
	})
	gradCheck(t, "maxpool 3/2", [][]int{{2, 2, 7, 7}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return MaxPool2d(p[0], 3, 2)
	})
	gradCheck(t, "avgpool 2/1", [][]int{{2, 2, 5, 6}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return AvgPool2d(p[0], 2, 1)
	})
	gradCheck(t, "global avg pool", [][]int{{3, 4, 3, 5}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return GlobalAvgPool2d(p[0])
	})
	gradCheck(t, "shortcutA", [][]int{{2, 4, 5, 5}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return ShortcutA(p[0], 8, 2)
	})
	gradCheck(t, "leaky relu", [][]int{{3, 7}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return LeakyReLU(p[0], 0.2)
	})
}

func TestGradNorms(t *testing.T) {
	st := NewBatchNormState(3)
	gradCheck(t, "batchnorm", [][]int{{4, 3, 3, 2}, {3}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return BatchNorm(p[0], p[1], p[2], st, true)
	})
	gradCheck(t, "batchnorm eval", [][]int{{4, 3, 3, 2}, {3}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return BatchNorm(p[0], p[1], p[2], &BatchNormState{Mean: []float32{0.1, -0.2, 0.3}, Var: []float32{0.5, 2, 1}}, false)
	})
	st2 := NewBatchNormState(3)
	gradCheck(t, "batchnorm+relu", [][]int{{4, 3, 3, 2}, {3}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return BatchNormReLU(p[0], p[1], p[2], st2, true)
	})
	gradCheck(t, "batchnorm 2-D", [][]int{{5, 3}, {3}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return BatchNorm(p[0], p[1], p[2], NewBatchNormState(3), true)
	})
	gradCheck(t, "instance norm", [][]int{{2, 3, 4, 4}, {3}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return InstanceNorm(p[0], p[1], p[2])
	})
	gradCheck(t, "AdaIN", [][]int{{2, 3, 4, 4}, {2, 3}, {2, 3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return InstanceNorm(p[0], p[1], p[2])
	})
	gradCheck(t, "layer norm", [][]int{{2, 3, 2, 3}, {3}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return LayerNorm(p[0], p[1], p[2])
	})
}

func TestGradHeads(t *testing.T) {
	gradCheck(t, "linear+bias", [][]int{{3, 2, 2, 2}, {5, 8}, {5}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		y, err := Linear(notInput(p[0]), p[1])
		if err != nil {
			return nil, err
		}
		return AddBias(y, p[2])
	})
	gradCheck(t, "cosine head", [][]int{{4, 6}, {3, 6}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		y, err := CosineLinear(p[0], p[1])
		if err != nil {
			return nil, err
		}
		return Scale(y, 3)
	})
}

func TestGradLosses(t *testing.T) {
	labels := []int{0, 2, 1, 2, 3}
	for _, l := range []*Loss{
		{Labels: labels},
		{Labels: labels, ClassWeights: []float32{0.5, 2, 1, 3}},
		{Labels: labels, Gamma: 1},
		{Labels: labels, Gamma: 2, ClassWeights: []float32{1, 2, 1, 0.5}},
		{Labels: labels, Margins: []float32{0.9, 0.5, 0.3, 1.5}},
	} {
		name := fmt.Sprintf("loss γ=%g weights=%v margins=%v", l.Gamma, l.ClassWeights, l.Margins)
		gradCheck(t, name, [][]int{{5, 4}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
			return CrossEntropy(p[0], l)
		})
	}
	// LDAM as training uses it: cosine head, scale 30, margins × 30.
	m := LDAMMargins([]int{500, 50, 5, 100}, 0.5)
	for i := range m {
		m[i] *= 30
	}
	ldam := &Loss{Labels: labels, Margins: m}
	gradCheck(t, "LDAM on cosine head", [][]int{{5, 6}, {4, 6}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		y, err := CosineLinear(p[0], p[1])
		if err != nil {
			return nil, err
		}
		if y, err = Scale(y, 30); err != nil {
			return nil, err
		}
		return CrossEntropy(y, ldam)
	})
}

func TestGradResidualBlock(t *testing.T) {
	m, _ := ResNet(Arch{Depth: 8, Width: 4})
	m.C, m.H, m.W, m.Classes = 2, 6, 6, []string{"a", "b", "c"}
	m.index, m.bn = map[string]*Param{}, map[string]*BatchNormState{}
	gradCheck(t, "resnet block + head", [][]int{{3, 2, 6, 6}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		s := &scope{m: m, g: p[0].Graph(), train: true, rng: rand.New(rand.NewSource(1)), nodes: map[string]*gorgonia.Node{}}
		h, err := s.conv("stem", notInput(p[0]), 4, 3, 1, 1)
		if err != nil {
			return nil, err
		}
		if h, err = s.basicBlock("b0", h, 4, 1); err != nil {
			return nil, err
		}
		if h, err = s.basicBlock("b1", h, 8, 2); err != nil {
			return nil, err
		}
		if h, err = GlobalAvgPool2d(h); err != nil {
			return nil, err
		}
		return s.head("linear", h, 3)
	})
}
