package longtail

import (
	"testing"

	"github.com/goinv/goinv/stdlib/nuisance"
)

func benchSplit(b *testing.B, p Profile, name string, withTest bool) {
	train, test := mnist(b)
	tr, err := nuisance.ByName(name)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewSplit(train, test, p, Options{Seed: 1, Instance: i, Transform: tr, RawTestOnly: !withTest}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkZipfRotation(b *testing.B)     { benchSplit(b, Zipf(4800, 2, 5), "rotation", false) }
func BenchmarkZipfBackground(b *testing.B)   { benchSplit(b, Zipf(4800, 2, 5), "background", false) }
func BenchmarkZipfDilation(b *testing.B)     { benchSplit(b, Zipf(4800, 2, 5), "dilation", false) }
func BenchmarkExpRotation(b *testing.B)      { benchSplit(b, Exponential(5000, 100), "rotation", false) }
func BenchmarkExpBackground(b *testing.B)    { benchSplit(b, Exponential(5000, 100), "background", false) }
func BenchmarkExpDilation(b *testing.B)      { benchSplit(b, Exponential(5000, 100), "dilation", false) }
func BenchmarkZipfRotationTest(b *testing.B) { benchSplit(b, Zipf(4800, 2, 5), "rotation", true) }
func BenchmarkExpBackgroundTest(b *testing.B) {
	benchSplit(b, Exponential(5000, 100), "background", true)
}
