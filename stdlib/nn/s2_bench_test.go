package nn

import "testing"

// BenchmarkStride2 times the unfolding and folding of ResNet-20's first stride-2
// convolution (16 channels, 32×32) with the stride-2 loops and the general ones.
func BenchmarkStride2(b *testing.B) {
	g, err := newConvGeom([]int{1, 16, 32, 32}, []int{32, 16, 3, 3}, 1, 2)
	if err != nil {
		b.Fatal(err)
	}
	x, col := make([]float32, g.inSize()), make([]float32, g.ckk*g.p)
	defer func(v bool) { noStride2 = v }(noStride2)
	for _, off := range []bool{true, false} {
		name := "s2"
		if off {
			name = "general"
		}
		noStride2 = off
		b.Run("im2col/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				im2colKernel(&g, x, col, g.p)
			}
		})
		b.Run("col2im/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				col2imKernel(&g, col, x, g.p)
			}
		})
	}
}
