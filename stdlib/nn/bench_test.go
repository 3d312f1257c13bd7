package nn

import (
	"math/rand"
	"testing"
)

func benchTrainStep(b *testing.B, m *Model, n, c, h, w int) {
	if err := m.Init(c, h, w, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}); err != nil {
		b.Fatal(err)
	}
	loss := &Loss{Labels: make([]int, n)}
	r := rand.New(rand.NewSource(1))
	for i := range loss.Labels {
		loss.Labels[i] = r.Intn(10)
	}
	gr, err := m.TrainGraph(n, loss)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = r.Float32()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := gr.Run(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkSmallCNNStep128(b *testing.B) { benchTrainStep(b, SmallCNN(Arch{}), 128, 1, 28, 28) }
func BenchmarkResNet20Step128(b *testing.B) { benchTrainStep(b, ResNet20(1), 128, 3, 32, 32) }
