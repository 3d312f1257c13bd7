package munit

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
)

// testdata/tape_golden.json holds what this package's first implementation (a
// hand-written tape autodiff on channels-last tensors, replaced by the gorgonia
// graphs) computed: the losses and per-parameter gradient norms of one iteration from
// fixed weights and inputs, and the pixels the pretrained generators produce for
// fixed images and styles. Before the tape was removed, a test compared the two
// implementations tensor by tensor (gradients agreed to ≤ 1e-5 relative error); these
// tests keep the port honest against the recorded values.
type tapeGolden struct {
	Iterations []struct {
		Width     int
		Losses    []float64 // dis, adv, recon, style, content
		GradNorms map[string]float64
	}
	Pretrained map[string]struct {
		MnistTrainIndex []int
		Styles          [][]float32
		Pixels          string
	}
}

func readGolden(t *testing.T) *tapeGolden {
	b, err := os.ReadFile("testdata/tape_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g tapeGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func relErr(a, b []float32) float64 {
	var d, n float64
	for i := range a {
		d += (float64(a[i]) - float64(b[i])) * (float64(a[i]) - float64(b[i]))
		n += float64(b[i]) * float64(b[i])
	}
	if n == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / n)
}

func norm2(a []float32) float64 {
	var s float64
	for _, v := range a {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// TestIterationMatchesTape: one iteration from the seed's weights on fixed images
// gives the tape's losses and gradient norms.
func TestIterationMatchesTape(t *testing.T) {
	gold := readGolden(t)
	ds := toyDigits(10, 11)
	for k, cfg := range []Config{tinyConfig(), {Seed: 5}} {
		want := gold.Iterations[k]
		cfg.BatchSize = 3
		cfg = cfg.withDefaults()
		if cfg.Width != want.Width {
			t.Fatalf("golden iteration %d is for width %d", k, want.Width)
		}
		gen, _ := NewGenerator(cfg)
		dis := newDiscriminator(cfg, rand.New(rand.NewSource(cfg.Seed+1)))
		e := newEngine(cfg, gen.net, dis)
		imgs := []dataset.Image{ds.Image(0), ds.Image(1), ds.Image(7)}
		l, err := e.iterate(imgs, rand.New(rand.NewSource(9)), 0)
		if err != nil {
			t.Fatal(err)
		}
		got := []float64{l.dis, l.adv, l.recon, l.style, l.content}
		worstL := 0.0
		for i, v := range got {
			worstL = math.Max(worstL, math.Abs(v-want.Losses[i])/math.Abs(want.Losses[i]))
		}
		sg := e.graphs[3]
		type pg struct {
			p *param
			g []float32
		}
		var all []pg
		for i, p := range gen.net.ps.list {
			all = append(all, pg{p, sg.mG.Float32s(sg.gGrads[i])})
		}
		for i, p := range dis.ps.list {
			all = append(all, pg{p, sg.mD.Float32s(sg.dGrads[i])})
		}
		var total float64
		for _, v := range want.GradNorms {
			total += v * v
		}
		total = math.Sqrt(total)
		worst, wname, zeros := 0.0, "", 0
		for _, x := range all {
			w, ok := want.GradNorms[x.p.name]
			if !ok {
				t.Fatalf("no golden gradient for %s", x.p.name)
			}
			n := norm2(x.g)
			// A convolution's bias followed by instance normalisation has a zero
			// gradient in exact arithmetic: both implementations hold rounding noise.
			if w < 1e-6*total {
				zeros++
				if n > 1e-6*total {
					t.Errorf("width %d: ‖∂L/∂%s‖ = %.2e, zero in exact arithmetic (tape %.2e)", cfg.Width, x.p.name, n, w)
				}
				continue
			}
			if r := math.Abs(n-w) / w; r > worst {
				worst, wname = r, x.p.name
			}
		}
		t.Logf("width %d: largest loss relative error %.1e; largest gradient-norm relative error %.1e (%s); %d parameters with zero exact gradient",
			cfg.Width, worstL, worst, wname, zeros)
		// Gradient norms get 1e-3: a pre-activation within rounding of zero can
		// change sign between two summation orders, and the ReLU then passes or
		// blocks its gradient (measured: the -tags purego build with the sub-pixel
		// upsampling convolution flips one instance-norm output of 3e-6, moving
		// ‖∂L/∂content.in.weight‖ by 4.2e-4). A wrong gradient is off by far more.
		if worstL > 1e-5 || worst > 1e-3 {
			t.Errorf("width %d: losses %v, tape %v; gradient norm of %s off by %.1e", cfg.Width, got, want.Losses, wname, worst)
		}
	}
}

// TestPretrainedMatchesTape: the pretrained generators produce the tape's pixels.
func TestPretrainedMatchesTape(t *testing.T) {
	gold := readGolden(t)
	train, _, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range PretrainedNames() {
		want, ok := gold.Pretrained[name]
		if !ok {
			t.Fatalf("no golden images for %s", name)
		}
		gen, err := Pretrained(name)
		if err != nil {
			t.Fatal(err)
		}
		var imgs []dataset.Image
		for _, k := range want.MnistTrainIndex {
			imgs = append(imgs, train.Image(k))
		}
		pix, _ := base64.StdEncoding.DecodeString(want.Pixels)
		differ, maxd := 0, 0
		for i, im := range gen.TransformAll(imgs, want.Styles) {
			for p, v := range im.Pix {
				if d := int(v) - int(pix[i*len(im.Pix)+p]); d != 0 {
					differ++
					maxd = max(maxd, d, -d)
				}
			}
		}
		t.Logf("%s: %d of %d pixels differ from the tape's (by at most %d grey levels)", name, differ, len(pix), maxd)
		if maxd > 1 || differ > len(pix)/1000 {
			t.Errorf("%s: %d pixels differ from the tape's, by up to %d grey levels", name, differ, maxd)
		}
	}
}
