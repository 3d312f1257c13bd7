package nn

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestLossHandComputed(t *testing.T) {
	e := math.E
	// One row, logits (1, 2, 0), label 1: p_1 = e²/(e + e² + 1).
	p1 := e * e / (e + e*e + 1)
	z := []float32{1, 2, 0}
	cases := []struct {
		name string
		l    Loss
		want float64
	}{
		{"cross-entropy", Loss{Labels: []int{1}}, -math.Log(p1)},
		{"focal γ=2", Loss{Labels: []int{1}, Gamma: 2}, -(1 - p1) * (1 - p1) * math.Log(p1)},
		// LDAM: margin 0.5·s on the true class, s = 30 applied to the cosine logits 0.1, 0.3, −0.2.
		{"LDAM", Loss{Labels: []int{1}, Margins: []float32{0, 15, 0}}, func() float64 {
			a, b, c := 3.0, 9.0-15, -6.0
			return -(b - math.Log(math.Exp(a)+math.Exp(b)+math.Exp(c)))
		}()},
	}
	for _, c := range cases {
		in := z
		if c.name == "LDAM" {
			in = []float32{3, 9, -6}
		}
		got, err := c.l.Value(in, 1, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !near(float64(got), c.want, 1e-6) {
			t.Errorf("%s = %.7f, want %.7f", c.name, got, c.want)
		}
	}
	// Weighted mean over two rows, like PyTorch's cross_entropy(weight=w):
	// rows (1,2,0)→1 and (0,0,0)→2 with class weights (1, 3, 0.5).
	l := Loss{Labels: []int{1, 2}, ClassWeights: []float32{1, 3, 0.5}}
	got, err := l.Value([]float32{1, 2, 0, 0, 0, 0}, 2, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := (3*-math.Log(p1) + 0.5*math.Log(3)) / 3.5
	if !near(float64(got), want, 1e-6) {
		t.Errorf("weighted CE = %.7f, want %.7f", got, want)
	}
	// Gradient of plain CE is softmax − onehot.
	dz := make([]float32, 3)
	(&Loss{Labels: []int{1}}).Value(z, 1, 3, dz)
	s := e + e*e + 1
	for j, w := range []float64{e / s, e*e/s - 1, 1 / s} {
		if !near(float64(dz[j]), w, 1e-6) {
			t.Errorf("∂CE/∂z%d = %.7f, want %.7f", j, dz[j], w)
		}
	}
	if _, err := (&Loss{Labels: []int{5}}).Value(z, 1, 3, nil); err == nil {
		t.Error("label out of range accepted")
	}
}

func TestLDAMMargins(t *testing.T) {
	m := LDAMMargins([]int{10000, 625, 16, 1}, 0.5)
	// m_c ∝ n_c^(-1/4): 0.1, 0.2, 0.5, 1 before scaling the largest to 0.5.
	for i, w := range []float64{0.05, 0.1, 0.25, 0.5} {
		if !near(float64(m[i]), w, 1e-6) {
			t.Errorf("margin %d = %g, want %g", i, m[i], w)
		}
	}
}
