package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
)

// TestBNFusionsSameBits checks that the batch-norm backward's fusions (the ReLU mask
// recomputed from x; the masked gradient and its sums in one sweep) give the bits of
// the unfused ops, in a residual block: conv, BatchNormReLU, conv, BatchNormAddReLU.
func TestBNFusionsSameBits(t *testing.T) {
	defer func(v bool) { reluMaskFromY = v }(reluMaskFromY)
	run := func(fromY bool) [][]float32 {
		reluMaskFromY = fromY
		gr := gorgonia.NewGraph()
		r := rand.New(rand.NewSource(5))
		fill := func(s ...int) *gorgonia.Node { return valueNode(gr, normals(r, prod(s)), s...) }
		x, w, w2 := fill(9, 6, 8, 10), fill(6, 6, 3, 3), fill(6, 6, 3, 3)
		g1, b1, g2, b2 := fill(6), fill(6), fill(6), fill(6)
		st1, st2 := NewBatchNormState(6), NewBatchNormState(6)
		h := gorgonia.Must(Conv2d(notInput(x), w, 1, 1))
		a := gorgonia.Must(BatchNormReLU(h, g1, b1, st1, true))
		h2 := gorgonia.Must(Conv2d(a, w2, 1, 1))
		y := gorgonia.Must(batchNorm(h2, g2, b2, a, st2, true, true))
		dy := fill(y.Shape()...)
		cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, dy))))
		g, err := gorgonia.Grad(cost, x, w, w2, g1, b1, g2, b2)
		if err != nil {
			t.Fatal(err)
		}
		return copiesOf(runExecutor(t, gr, 2), append([]*gorgonia.Node{y}, g...)...)
	}
	want, got := run(true), run(false)
	for k, name := range []string{"y", "dx", "dw", "dw2", "dgamma1", "dbeta1", "dgamma2", "dbeta2"} {
		nz := 0
		for i := range want[k] {
			if math.Float32bits(got[k][i]) != math.Float32bits(want[k][i]) {
				t.Fatalf("%s[%d] = %g fused, %g unfused", name, i, got[k][i], want[k][i])
			}
			if want[k][i] != 0 {
				nz++
			}
		}
		if nz == 0 {
			t.Fatalf("%s is all zero", name)
		}
	}
}
