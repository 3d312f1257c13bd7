package munit

import (
	"math/rand"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
)

// TestPretrained loads the ready-made generators and checks that styles change the
// image while the reconstruction stays close to the input.
func TestPretrained(t *testing.T) {
	names := PretrainedNames()
	if len(names) != 2 || names[0] != "background" || names[1] != "dilation" {
		t.Fatalf("pretrained generators %v, want [background dilation]", names)
	}
	train, _, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	img := train.Image(0)
	for _, n := range names {
		g, err := Pretrained(n)
		if err != nil {
			t.Fatal(err)
		}
		if g.Config().Width != 16 || g.NumParams() != 775465 {
			t.Fatalf("%s: %v", n, g)
		}
		rec := g.Reconstruct(img)
		var d float64
		for i, v := range rec.Pix {
			d += abs(float64(v) - float64(img.Pix[i]))
		}
		d /= float64(len(rec.Pix))
		if d > 20 {
			t.Errorf("%s: mean reconstruction error %.1f grey levels", n, d)
		}
		rng := rand.New(rand.NewSource(1))
		a, b := g.Apply(img, rng), g.Apply(img, rng)
		var diff float64
		for i := range a.Pix {
			diff += abs(float64(a.Pix[i]) - float64(b.Pix[i]))
		}
		if diff == 0 {
			t.Errorf("%s: two random styles give the same image", n)
		}
	}
	if _, err := Pretrained("rotation"); err == nil {
		t.Error("Pretrained(rotation) should fail")
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
