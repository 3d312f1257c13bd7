package nn

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestExecutorMatchesTapeMachine runs a graph mixing this package's ops and stock
// gorgonia ops (including the gradient sums gorgonia.Grad adds) with the executor,
// three times so that preallocated values are reused, and with gorgonia's TapeMachine.
func TestExecutorMatchesTapeMachine(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(3, 2, 5, 5), gorgonia.WithName("x"), gorgonia.WithInit(gorgonia.GlorotN(1)))
	w := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(4, 2, 3, 3), gorgonia.WithName("w"), gorgonia.WithInit(gorgonia.GlorotN(1)))
	v := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(3, 100), gorgonia.WithName("v"), gorgonia.WithInit(gorgonia.GlorotN(1)))
	h := gorgonia.Must(Conv2d(notInput(x), w, 1, 1))
	h2 := gorgonia.Must(gorgonia.Add(h, gorgonia.Must(gorgonia.Tanh(h)))) // stock ops; h used twice
	z := gorgonia.Must(Linear(h2, v))
	loss := gorgonia.Must(CrossEntropy(z, &Loss{Labels: []int{0, 2, 1}}))
	grads, err := gorgonia.Grad(loss, x, w, v)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := newExecutor(g)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := ex.run(); err != nil {
			t.Fatal(err)
		}
	}
	var mine [][]float32
	for _, gn := range grads {
		mine = append(mine, append([]float32(nil), ex.value(gn).Data().([]float32)...))
	}
	l1 := float32(*ex.value(loss).(*gorgonia.F32))
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if l2 := float32(*loss.Value().(*gorgonia.F32)); l1 != l2 {
		t.Errorf("loss %v (executor) vs %v (TapeMachine)", l1, l2)
	}
	for i, gn := range grads {
		ref := gn.Value().Data().([]float32)
		for j := range ref {
			if math.Abs(float64(ref[j]-mine[i][j])) > 1e-6 {
				t.Fatalf("grad %d[%d]: %v vs %v", i, j, mine[i][j], ref[j])
			}
		}
	}
}
