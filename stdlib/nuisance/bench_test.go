package nuisance

import (
	"math/rand"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
)

func benchImage() dataset.Image {
	img := dataset.NewImage(1, 28, 28)
	rng := rand.New(rand.NewSource(1))
	for y := 6; y < 22; y++ {
		for x := 8; x < 20; x++ {
			img.Set(0, y, x, uint8(rng.Intn(256)))
		}
	}
	return img
}

func benchTransform(b *testing.B, t Transform) {
	img := benchImage()
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.Apply(img, rng)
	}
}

func BenchmarkRotation(b *testing.B)    { benchTransform(b, NewRotation()) }
func BenchmarkBackground(b *testing.B)  { benchTransform(b, NewBackground()) }
func BenchmarkDilateErode(b *testing.B) { benchTransform(b, NewDilateErode()) }

func BenchmarkRotationReference(b *testing.B) { benchTransform(b, Rotation{Reference: true}) }
