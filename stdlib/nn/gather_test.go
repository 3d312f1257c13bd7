package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGradGather(t *testing.T) {
	for _, pad := range []int{1, 2, 3} {
		gradCheck(t, "reflect pad", [][]int{{2, 3, 4, 5}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
			return ReflectPad2d(p[0], pad)
		})
	}
	gradCheck(t, "reflect pad 3 on 3×3 (repeated reflection)", [][]int{{1, 2, 3, 3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return ReflectPad2d(p[0], 3)
	})
	gradCheck(t, "upsample ×2", [][]int{{2, 3, 3, 4}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return Upsample2d(p[0], 2)
	})
	gradCheck(t, "upsample ×2 + reflect pad 2", [][]int{{2, 2, 3, 3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return UpsampleReflectPad2d(p[0], 2, 2)
	})
	gradCheck(t, "slice columns", [][]int{{3, 7}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return SliceColumns(p[0], 2, 5)
	})
	gradCheck(t, "reflect-padded conv", [][]int{{2, 2, 5, 5}, {3, 2, 4, 4}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		h, err := ReflectPad2d(p[0], 1)
		if err != nil {
			return nil, err
		}
		return Conv2dBias(h, p[1], p[2], 0, 2)
	})
}

func constNode(g *gorgonia.ExprGraph, shape []int, d []float32) *gorgonia.Node {
	return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...),
		gorgonia.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))))
}

// TestGatherValues checks reflection padding and upsampling against PyTorch's
// definitions on a small plane, and the fused op against the two in sequence.
func TestGatherValues(t *testing.T) {
	g := gorgonia.NewGraph()
	x := constNode(g, []int{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	p := gorgonia.Must(ReflectPad2d(x, 1))
	u := gorgonia.Must(Upsample2d(x, 2))
	x2 := constNode(g, []int{1, 2, 2, 3}, []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6})
	f := gorgonia.Must(UpsampleReflectPad2d(x2, 2, 3))
	f2 := gorgonia.Must(ReflectPad2d(gorgonia.Must(Upsample2d(x2, 2)), 3))
	m, err := NewMachine(g, p, u, f, f2)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	// torch.nn.ReflectionPad2d(1)(torch.arange(1., 10.).view(1, 1, 3, 3))
	wantP := []float32{5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 8, 7, 8, 9, 8, 5, 4, 5, 6, 5}
	for i, v := range m.Float32s(p) {
		if v != wantP[i] {
			t.Fatalf("reflect pad: %v, want %v", m.Float32s(p), wantP)
		}
	}
	wantU := []float32{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 7, 7, 8, 8, 9, 9}
	for i, v := range m.Float32s(u) {
		if v != wantU[i] {
			t.Fatalf("upsample: %v, want %v", m.Float32s(u), wantU)
		}
	}
	a, b := m.Float32s(f), m.Float32s(f2)
	if len(a) != 2*10*12 || len(a) != len(b) {
		t.Fatalf("fused upsample+pad has %d values, composition %d, want 240", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("fused upsample+pad differs from the composition at %d: %v vs %v", i, a[i], b[i])
		}
	}
}

// TestMachineStages: a machine computes only what its outputs need, RunTo stops
// early, a weight changed between RunTo and Finish is seen by the rest of the pass,
// and the results equal gorgonia's TapeMachine's.
func TestMachineStages(t *testing.T) {
	build := func() (g *gorgonia.ExprGraph, w1, w2, h, y *gorgonia.Node, gw1, gw2 *gorgonia.Node) {
		g = gorgonia.NewGraph()
		x := constNode(g, []int{2, 3}, []float32{1, -2, 0.5, 3, 1, -1})
		w1 = constNode(g, []int{4, 3}, []float32{0.1, 0.2, -0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1, 1.1, -1.2})
		w2 = constNode(g, []int{2, 4}, []float32{1, -1, 0.5, 2, -0.5, 0.25, 1, -2})
		h = gorgonia.Must(gorgonia.Tanh(gorgonia.Must(Linear(x, w1))))
		y = gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(gorgonia.Must(Linear(h, w2))))))
		gs, err := gorgonia.Grad(y, w1, w2)
		if err != nil {
			t.Fatal(err)
		}
		return g, w1, w2, h, y, gs[0], gs[1]
	}
	g, _, w2, h, y, gw1, gw2 := build()
	all, err := NewMachine(g, y, gw1, gw2)
	if err != nil {
		t.Fatal(err)
	}
	only1, err := NewMachine(g, y, gw1)
	if err != nil {
		t.Fatal(err)
	}
	if only1.Len() >= all.Len() {
		t.Fatalf("a machine without ∂y/∂w2 runs %d nodes, with it %d", only1.Len(), all.Len())
	}
	if only1.Value(gw2) != nil {
		t.Fatal("∂y/∂w2 is part of a machine that does not need it")
	}
	// Stage: compute h, then double w2, then finish: y must use the doubled w2.
	all.Begin()
	if err := all.RunTo(h); err != nil {
		t.Fatal(err)
	}
	if all.Value(y) != nil {
		t.Fatal("RunTo(h) computed y")
	}
	wd := w2.Value().Data().([]float32)
	for i := range wd {
		wd[i] *= 2
	}
	if err := all.Finish(); err != nil {
		t.Fatal(err)
	}
	g2, _, w22, _, y2, gw12, gw22 := build()
	wd2 := w22.Value().Data().([]float32)
	for i := range wd2 {
		wd2[i] *= 2
	}
	vm := gorgonia.NewTapeMachine(g2)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	close := func(what string, a, b []float32) {
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-5*math.Max(1, math.Abs(float64(b[i]))) {
				t.Fatalf("%s: machine %v, TapeMachine %v", what, a, b)
			}
		}
	}
	close("y", all.Float32s(y), []float32{y2.Value().Data().(float32)})
	close("∂y/∂w1", all.Float32s(gw1), gw12.Value().Data().([]float32))
	close("∂y/∂w2", all.Float32s(gw2), gw22.Value().Data().([]float32))
	// A second pass reuses the values and gives the same result.
	first := append([]float32(nil), all.Float32s(gw1)...)
	if err := all.Run(); err != nil {
		t.Fatal(err)
	}
	close("∂y/∂w1, second run", all.Float32s(gw1), first)
}

func TestGradConv2dReflect(t *testing.T) {
	for _, c := range []struct{ n, h, k, pad, stride int }{{2, 5, 3, 1, 1}, {3, 6, 4, 1, 2}, {2, 3, 4, 1, 2}, {2, 6, 7, 3, 1}, {1, 4, 5, 2, 1}, {2, 4, 1, 0, 1}, {5, 24, 3, 1, 1}} {
		name := fmt.Sprintf("reflect conv n%d h%d k%d pad%d stride%d", c.n, c.h, c.k, c.pad, c.stride)
		gradCheck(t, name, [][]int{{c.n, 2, c.h, c.h}, {3, 2, c.k, c.k}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
			return Conv2dReflect(notInput(p[0]), p[1], p[2], c.pad, c.stride)
		})
	}
}

// TestConv2dReflectMatchesPadConv: the fused op equals ReflectPad2d + Conv2dBias, on
// a batch large enough for several groups per worker.
func TestConv2dReflectMatchesPadConv(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, c := range []struct{ n, ci, h, oc, k, pad, stride int }{{40, 3, 7, 5, 3, 1, 1}, {9, 2, 9, 4, 4, 1, 2}, {5, 2, 12, 3, 5, 2, 1}, {7, 2, 28, 3, 3, 1, 1}, {1, 16, 24, 16, 3, 1, 1}} {
		g := gorgonia.NewGraph()
		rv := func(n int) []float32 { return normals(r, n) }
		x := constNode(g, []int{c.n, c.ci, c.h, c.h}, rv(c.n*c.ci*c.h*c.h))
		w := constNode(g, []int{c.oc, c.ci, c.k, c.k}, rv(c.oc*c.ci*c.k*c.k))
		b := constNode(g, []int{c.oc}, rv(c.oc))
		a := gorgonia.Must(Conv2dReflect(x, w, b, c.pad, c.stride))
		ref := gorgonia.Must(Conv2dBias(gorgonia.Must(ReflectPad2d(x, c.pad)), w, b, 0, c.stride))
		m, err := NewMachine(g, a, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		av, rv2 := m.Float32s(a), m.Float32s(ref)
		for i := range av {
			if math.Abs(float64(av[i]-rv2[i])) > 1e-4*math.Max(1, math.Abs(float64(rv2[i]))) {
				t.Fatalf("%+v: output %d: fused %v, pad+conv %v", c, i, av[i], rv2[i])
			}
		}
	}
}

func TestGradUpsampleConv2dReflect(t *testing.T) {
	gradCheck(t, "upsample ×2 + reflect conv 5×5", [][]int{{3, 2, 3, 3}, {3, 2, 5, 5}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return UpsampleConv2dReflect(notInput(p[0]), p[1], p[2], 2, 2)
	})
	r := rand.New(rand.NewSource(4))
	g := gorgonia.NewGraph()
	rv := func(n int) []float32 { return normals(r, n) }
	x := constNode(g, []int{6, 3, 7, 7}, rv(6*3*49))
	w := constNode(g, []int{4, 3, 5, 5}, rv(4*3*25))
	b := constNode(g, []int{4}, rv(4))
	a := gorgonia.Must(UpsampleConv2dReflect(x, w, b, 2, 2))
	ref := gorgonia.Must(Conv2dBias(gorgonia.Must(UpsampleReflectPad2d(x, 2, 2)), w, b, 0, 1))
	m, err := NewMachine(g, a, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	av, rv2 := m.Float32s(a), m.Float32s(ref)
	if len(av) != 6*4*14*14 {
		t.Fatalf("output has %d values, want %d", len(av), 6*4*14*14)
	}
	for i := range av {
		if math.Abs(float64(av[i]-rv2[i])) > 1e-4*math.Max(1, math.Abs(float64(rv2[i]))) {
			t.Fatalf("output %d: fused %v, upsample+pad+conv %v", i, av[i], rv2[i])
		}
	}
}

// TestGradConv2dReflectFewOutputs covers the input gradient computed as a transposed
// correlation (fewer output than input channels, stride 1), batched over images.
func TestGradConv2dReflectFewOutputs(t *testing.T) {
	gradCheck(t, "reflect conv 7×7, 4 → 1 channels", [][]int{{3, 4, 6, 6}, {1, 4, 7, 7}, {1}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return Conv2dReflect(notInput(p[0]), p[1], p[2], 3, 1)
	})
	gradCheck(t, "upsample ×2 + reflect conv 5×5, 6 → 2 channels", [][]int{{2, 6, 3, 4}, {2, 6, 5, 5}, {2}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return UpsampleConv2dReflect(notInput(p[0]), p[1], p[2], 2, 2)
	})
	// One image, a product large enough to be split over the workers by columns.
	gradCheck(t, "one image, split product", [][]int{{1, 16, 24, 24}, {16, 16, 3, 3}, {16}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return Conv2dReflect(notInput(p[0]), p[1], p[2], 1, 1)
	})
	old := colTarget
	colTarget = 1 // one image per SGEMM
	defer func() { colTarget = old }()
	// Three output channels: more than directOC, so through the unfolding and SGEMM.
	gradCheck(t, "reflect conv 3×3, 5 → 3 channels, one image per product", [][]int{{3, 5, 4, 4}, {3, 5, 3, 3}, {3}}, func(p []*gorgonia.Node) (*gorgonia.Node, error) {
		return Conv2dReflect(notInput(p[0]), p[1], p[2], 1, 1)
	})
}
