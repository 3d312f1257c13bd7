package munit

import (
	"math"
	"math/rand"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
)

// relErr returns ‖a − b‖ / ‖b‖.
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

// TestGorgoniaMatchesTape: from identical weights and inputs, one iteration on the
// gorgonia graphs gives the tape's losses, parameter gradients and updated weights.
func TestGorgoniaMatchesTape(t *testing.T) {
	ds := toyDigits(10, 11)
	for _, cfg := range []Config{tinyConfig(), {Seed: 5}} {
		cfg.BatchSize = 3
		cfg = cfg.withDefaults()
		gen, _ := NewGenerator(cfg)
		dis := newDiscriminator(cfg, rand.New(rand.NewSource(cfg.Seed+1)))
		gn := newNets(cfg)
		dn := newDisNet(cfg, rand.New(rand.NewSource(cfg.Seed+1)))
		// The same seed gives the same initial weights.
		check := func(tps *paramSet, gps *gparamSet, what string) {
			if len(tps.list) != len(gps.list) {
				t.Fatalf("%s: %d tape parameters, %d gorgonia", what, len(tps.list), len(gps.list))
			}
			for i, p := range tps.list {
				q := gps.list[i]
				if p.name != q.name || relErr(q.toFile(q.w), p.w) != 0 {
					t.Fatalf("%s: parameter %s/%s initialised differently", what, p.name, q.name)
				}
			}
		}
		check(&gen.ps, &gn.ps, "generator")
		check(&dis.ps, &dn.ps, "discriminator")

		imgs := []dataset.Image{ds.Image(0), ds.Image(1), ds.Image(7)}
		before := map[string][]float32{}
		for _, p := range append(append([]*param(nil), gen.ps.list...), dis.ps.list...) {
			before[p.name] = append([]float32(nil), p.w...)
		}
		tr := &trainer{cfg: cfg, gen: gen, dis: dis, hist: &History{}, tpG: newTape(true), tpD: newTape(true)}
		lt := tr.iterate(imgs, rand.New(rand.NewSource(9)))
		e := newEngine(cfg, gn, dn)
		lg, err := e.iterate(imgs, rand.New(rand.NewSource(9)), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			a, b float64
		}{{"dis", lg.dis, lt.dis}, {"adv", lg.adv, lt.adv}, {"recon", lg.recon, lt.recon}, {"style", lg.style, lt.style}, {"content", lg.content, lt.content}} {
			if r := math.Abs(c.a-c.b) / math.Abs(c.b); r > 1e-4 {
				t.Errorf("width %d: %s loss gorgonia %.7g, tape %.7g (relative error %.1e)", cfg.Width, c.name, c.a, c.b, r)
			}
		}
		t.Logf("width %d: losses gorgonia %+v, tape %+v", cfg.Width, lg, lt)
		sg := e.graphs[3]
		compare := func(what string, tps *paramSet, gps *gparamSet, grads [][]float32) {
			var total float64
			for _, p := range tps.list {
				total += norm2(p.g) * norm2(p.g)
			}
			total = math.Sqrt(total)
			worst, wname := 0.0, ""
			worstW := 0.0
			zeros := 0
			for i, p := range tps.list {
				q := gps.list[i]
				r := relErr(q.toFile(grads[i]), p.g)
				if testing.Verbose() {
					t.Logf("  %-28s tape ‖g‖ %.3e gorgonia ‖g‖ %.3e rel %.2e", p.name, norm2(p.g), norm2(grads[i]), r)
				}
				// A convolution's bias followed by instance normalisation has a zero
				// gradient in exact arithmetic: both sides hold float32 rounding noise,
				// which Adam's first step (≈ lr·sign(g)) turns into full-size steps.
				if norm2(p.g) < 1e-6*total {
					zeros++
					if norm2(grads[i]) > 1e-6*total {
						t.Errorf("width %d %s: %s has gradient norm %.2e, the tape %.2e (zero in exact arithmetic)", cfg.Width, what, p.name, norm2(grads[i]), norm2(p.g))
					}
					continue
				}
				if r > worst {
					worst, wname = r, p.name
				}
				// Adam's updates: relative difference. Single coordinates with a
				// near-zero gradient may step differently (Adam's first step is ≈
				// lr·sign(g)), so the norm over the tensor is compared.
				ug, ut := q.toFile(q.w), append([]float32(nil), p.w...)
				for j, w0 := range before[p.name] {
					ug[j] -= w0
					ut[j] -= w0
				}
				worstW = math.Max(worstW, relErr(ug, ut))
			}
			t.Logf("width %d %s: largest gradient relative error %.2e (%s); largest relative difference of the Adam updates %.2e; %d parameters with zero exact gradient",
				cfg.Width, what, worst, wname, worstW, zeros)
			if worst > 1e-4 {
				t.Errorf("width %d %s: gradient of %s differs by %.2e (relative)", cfg.Width, what, wname, worst)
			}
			if worstW > 0.05 {
				t.Errorf("width %d %s: Adam updates differ by %.2e (relative)", cfg.Width, what, worstW)
			}
		}
		compare("discriminator", &dis.ps, &dn.ps, gradsOf(sg.mD, sg.dGrads))
		compare("generator", &gen.ps, &gn.ps, gradsOf(sg.mG, sg.gGrads))
	}
}

// TestGorgoniaPretrainedImages: the pretrained generators translate images to the
// same pixels on the gorgonia graphs as on the tape.
func TestGorgoniaPretrainedImages(t *testing.T) {
	train, _, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range PretrainedNames() {
		gen, err := Pretrained(name)
		if err != nil {
			t.Fatal(err)
		}
		gn := newNets(gen.cfg)
		for i, p := range gen.ps.list {
			gn.ps.list[i].fromFile(gn.ps.list[i].w, p.w)
		}
		rng := rand.New(rand.NewSource(1))
		imgs := make([]dataset.Image, 40)
		styles := make([][]float32, len(imgs))
		for i := range imgs {
			imgs[i] = train.Image(rng.Intn(train.Len()))
			styles[i] = gen.RandomStyle(rng)
		}
		want := gen.TransformAll(imgs, styles)
		var ic inferCache
		vals, err := gn.transformValues(&ic, imgs, styles)
		if err != nil {
			t.Fatal(err)
		}
		// Tape values, to compare before rounding to pixels.
		tp := newTape(false)
		x := toInput(tp, imgs)
		s := tp.newTensor(len(imgs), 1, 1, gen.cfg.StyleDim, false)
		for i, st := range styles {
			copy(s.D[i*gen.cfg.StyleDim:], st)
		}
		y := gen.decode(tp, gen.content(tp, x, false), s, false)
		var maxDiff float64
		differ := 0
		for i := range imgs {
			for p := 0; p < 28*28; p++ {
				maxDiff = math.Max(maxDiff, math.Abs(float64(vals[i*784+p]-y.D[i*784+p])))
			}
			got := valuesToImage(vals, i, 1, 28, 28)
			for p := range got.Pix {
				if got.Pix[p] != want[i].Pix[p] {
					differ++
				}
			}
		}
		t.Logf("%s: largest output difference %.2e (on [−1, 1]); %d of %d pixels differ by a grey level", name, maxDiff, differ, len(imgs)*784)
		if maxDiff > 1e-4 || differ > len(imgs)*784/1000 {
			t.Errorf("%s: gorgonia and tape images differ: max %.2e, %d pixels", name, maxDiff, differ)
		}
	}
}

func norm2(a []float32) float64 {
	var s float64
	for _, v := range a {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}
