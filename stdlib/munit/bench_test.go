package munit

import "testing"

func benchIteration(b *testing.B, batch int) {
	d, err := TimeIteration(Config{BatchSize: batch}, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(d.Microseconds())/1000, "ms/iteration")
}

// BenchmarkIteration1 and BenchmarkIteration32 time one MUNIT iteration
// (discriminator + generator update) of the default width-16 model.
func BenchmarkIteration1(b *testing.B)  { benchIteration(b, 1) }
func BenchmarkIteration32(b *testing.B) { benchIteration(b, 32) }
