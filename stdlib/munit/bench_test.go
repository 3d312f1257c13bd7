package munit

import (
	"math/rand"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
)

func benchIteration(b *testing.B, batch int) {
	ds := toyDigits(64, 1)
	cfg := Config{BatchSize: batch, Quiet: true}.withDefaults()
	gen, _ := NewGenerator(cfg)
	tr := &trainer{cfg: cfg, gen: gen, dis: newDiscriminator(cfg, rand.New(rand.NewSource(1))), hist: &History{},
		tpG: newTape(true), tpD: newTape(true)}
	imgs := make([]dataset.Image, batch)
	for i := range imgs {
		imgs[i] = ds.Image(i % ds.Len())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.iterate(imgs, stepRand(1, i))
		tr.step++
	}
}

// BenchmarkIteration1 and BenchmarkIteration32 time one MUNIT iteration
// (discriminator + generator update) of the default width-16 model.
func BenchmarkIteration1(b *testing.B)  { benchIteration(b, 1) }
func BenchmarkIteration32(b *testing.B) { benchIteration(b, 32) }
