package invariance

import (
	"context"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// cheap is a near-free classifier, so that the benchmark measures the measurement's
// own cost: drawing transforms, building batches and the KL sums.
type cheap struct{ k int }

func (m cheap) NumClasses() int { return m.k }
func (m cheap) Logits(_ context.Context, b dataset.Batch) ([]float32, error) {
	size := b.C * b.H * b.W
	out := make([]float32, b.N*m.k)
	for i := 0; i < b.N; i++ {
		x := b.X[i*size : (i+1)*size]
		for c := 0; c < m.k; c++ {
			out[i*m.k+c] = x[(c*97)%size] * 4
		}
	}
	return out, nil
}

// BenchmarkEKLDRotation: 10 classes × 40 images × 20 rotations of 28×28 images
// (8,400 images per op) through a near-free model.
func BenchmarkEKLDRotation(b *testing.B) {
	d := &dataset.Dataset{Name: "bench", C: 1, H: 28, W: 28}
	s := synthetic(10, 40, 1)
	for c := range s.Classes {
		d.Classes = append(d.Classes, s.Classes[c])
	}
	for i := 0; i < 400; i++ {
		img := make([]uint8, 784)
		for j := range img {
			img[j] = s.Pix[(i*64+j)%len(s.Pix)]
		}
		d.Pix = append(d.Pix, img...)
		d.Labels = append(d.Labels, i%10)
	}
	opts := &Options{Images: 40, Transforms: 20, Quiet: true}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := EKLD(context.Background(), cheap{10}, d, nuisance.NewRotation(), opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*8400)/b.Elapsed().Seconds(), "images/s")
}
