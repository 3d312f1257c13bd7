package nuisance

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
)

// testImages returns MNIST digits plus a synthetic RGB image, so the properties are
// checked on real strokes and on several channels.
func testImages(t *testing.T) []dataset.Image {
	t.Helper()
	train, _, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	var out []dataset.Image
	for i := 0; i < 40; i++ {
		out = append(out, train.Image(i).Clone())
	}
	rgb := dataset.NewImage(3, 20, 24)
	rng := rand.New(rand.NewSource(3))
	for i := range rgb.Pix {
		if rng.Intn(3) > 0 {
			rgb.Pix[i] = uint8(rng.Intn(256))
		}
	}
	return append(out, rgb)
}

func allTransforms() map[string]Transform {
	return map[string]Transform{
		"rotation": NewRotation(), "background": NewBackground(), "dilation": NewDilateErode(),
		"zero-rotation": Rotation{}, "zero-background": Background{}, "zero-dilation": DilateErode{},
		"compose": Compose(NewRotation(), NewBackground(), NewDilateErode()), "identity": Identity{},
	}
}

func TestShapeAndSourceKept(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for name, tr := range allTransforms() {
		for _, img := range testImages(t) {
			before := img.Clone()
			for k := 0; k < 5; k++ {
				out := tr.Apply(img, rng)
				if out.C != img.C || out.H != img.H || out.W != img.W || len(out.Pix) != len(img.Pix) {
					t.Fatalf("%s changed shape %d×%d×%d to %d×%d×%d", name, img.C, img.H, img.W, out.C, out.H, out.W)
				}
				if &out.Pix[0] == &img.Pix[0] {
					t.Fatalf("%s returned the source's pixels", name)
				}
			}
			if !bytes.Equal(before.Pix, img.Pix) {
				t.Fatalf("%s modified its source", name)
			}
		}
	}
}

func TestBackgroundOnlyZeros(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	seen := map[uint8]bool{}
	for _, img := range testImages(t) {
		for k := 0; k < 20; k++ {
			out := NewBackground().Apply(img, rng)
			var tval = -1
			for i, p := range img.Pix {
				if p != 0 && out.Pix[i] != p {
					t.Fatalf("background changed non-zero pixel %d: %d → %d", i, p, out.Pix[i])
				}
				if p == 0 {
					if tval >= 0 && int(out.Pix[i]) != tval {
						t.Fatalf("background used two values %d and %d in one image", tval, out.Pix[i])
					}
					tval = int(out.Pix[i])
				}
			}
			if tval > 99 {
				t.Fatalf("background value %d outside U{0..99}", tval)
			}
			if tval >= 0 {
				seen[uint8(tval)] = true
			}
		}
	}
	if len(seen) < 60 {
		t.Errorf("only %d distinct background values over 820 draws", len(seen))
	}
	if !seen[0] && !seen[99] && len(seen) < 95 {
		t.Logf("extremes 0 and 99 not drawn (possible but unlikely)")
	}
}

func TestDilationErosionOrder(t *testing.T) {
	for _, img := range testImages(t) {
		for k := 1; k <= 4; k++ {
			d, e := Dilate(img, k), Erode(img, k)
			for i, p := range img.Pix {
				if d.Pix[i] < p {
					t.Fatalf("dilation k=%d darkened pixel %d: %d → %d", k, i, p, d.Pix[i])
				}
				if e.Pix[i] > p {
					t.Fatalf("erosion k=%d brightened pixel %d: %d → %d", k, i, p, e.Pix[i])
				}
			}
		}
		if !bytes.Equal(Erode(img, 1).Pix, img.Pix) || !bytes.Equal(Dilate(img, 1).Pix, img.Pix) {
			t.Fatalf("k=1 is not the identity")
		}
	}
	// Against the definition on a single bright pixel: a k×k dilation makes a k×k
	// block anchored as OpenCV does (rows/cols −⌊k/2⌋ … k−1−⌊k/2⌋).
	for k := 2; k <= 4; k++ {
		img := dataset.NewImage(1, 9, 9)
		img.Set(0, 4, 4, 200)
		d := Dilate(img, k)
		lo, hi := 4-(k-1-k/2), 4+k/2 // output (y,x) sees input 4 when y+lo' ≤ 4 ≤ y+hi'
		for y := 0; y < 9; y++ {
			for x := 0; x < 9; x++ {
				want := uint8(0)
				if y >= lo && y <= hi && x >= lo && x <= hi {
					want = 200
				}
				if d.At(0, y, x) != want {
					t.Fatalf("k=%d dilation at (%d,%d) = %d, want %d", k, y, x, d.At(0, y, x), want)
				}
			}
		}
		if n := bytes.Count(d.Pix, []byte{200}); n != k*k {
			t.Fatalf("k=%d dilation of one pixel lit %d pixels, want %d", k, n, k*k)
		}
		if n := bytes.Count(Erode(d, k).Pix, []byte{200}); n != 1 {
			t.Fatalf("k=%d erosion of the dilated block left %d pixels, want 1 (opening of a square)", k, n)
		}
	}
}

func TestDilateErodeDraws(t *testing.T) {
	img := dataset.NewImage(1, 9, 9)
	img.Set(0, 4, 4, 255)
	img.Set(0, 4, 5, 255)
	rng := rand.New(rand.NewSource(5))
	dil, sizes := 0, map[int]int{}
	const n = 5000
	for i := 0; i < n; i++ {
		out := NewDilateErode().Apply(img, rng)
		lit := bytes.Count(out.Pix, []byte{255})
		switch lit {
		case 2, 0: // erosion k=1 keeps 2 pixels, k=2 removes them
		default:
			dil++
		}
		sizes[lit]++
	}
	if p := float64(dil) / n; math.Abs(p-0.6) > 0.03 {
		t.Errorf("dilation frequency %.3f, want 0.6", p)
	}
	// k=2,3,4 dilate two adjacent pixels into 2×3, 3×4, 4×5 blocks.
	for _, lit := range []int{6, 12, 20, 2, 0} {
		if sizes[lit] < n/10 {
			t.Errorf("outcome with %d lit pixels seen %d times of %d: %v", lit, sizes[lit], n, sizes)
		}
	}
}

func TestRotationIdentityAndQuarterTurns(t *testing.T) {
	for _, img := range testImages(t) {
		if out := Rotate(img, 0, 0); !bytes.Equal(out.Pix, img.Pix) {
			t.Fatalf("rotation by 0° is not the identity")
		}
		if out := Rotate(img, 360, 0); !bytes.Equal(out.Pix, img.Pix) {
			t.Fatalf("rotation by 360° is not the identity")
		}
		if img.H != img.W {
			continue
		}
		r := img
		for k := 0; k < 4; k++ {
			r = Rotate(r, 90, 0)
		}
		// A quarter turn of a square image maps pixel centres onto pixel centres, where
		// Catmull–Rom interpolates exactly; only rounding at the border can differ.
		diff := 0
		for i := range img.Pix {
			if d := int(r.Pix[i]) - int(img.Pix[i]); d > 1 || d < -1 {
				diff++
			}
		}
		if diff > 0 {
			t.Fatalf("four 90° rotations differ from the original at %d pixels", diff)
		}
	}
	// One quarter turn moves a pixel where the rotation says (counter-clockwise).
	img := dataset.NewImage(1, 8, 8)
	img.Set(0, 1, 6, 255) // top right
	r := Rotate(img, 90, 0)
	if r.At(0, 1, 1) != 255 {
		t.Errorf("90° rotation did not move the top-right pixel to the top left (counter-clockwise)")
	}
}

func TestRotationFill(t *testing.T) {
	img := dataset.NewImage(1, 28, 28)
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	out := Rotate(img, 45, 7)
	if out.At(0, 0, 0) != 7 || out.At(0, 27, 27) != 7 {
		t.Errorf("corners after 45° = %d, %d, want fill 7", out.At(0, 0, 0), out.At(0, 27, 27))
	}
	if out.At(0, 14, 14) != 200 {
		t.Errorf("centre after 45° = %d, want 200", out.At(0, 14, 14))
	}
	// Angles stay in range and are not constant.
	rng := rand.New(rand.NewSource(1))
	small := Rotation{MaxDegrees: 1e-9}
	digit := testImages(t)[0]
	for i := 0; i < 10; i++ {
		if d := small.Apply(digit, rng); !bytes.Equal(d.Pix, digit.Pix) {
			t.Fatalf("a near-zero rotation changed the image")
		}
	}
}

func TestBakedDeterministic(t *testing.T) {
	train, _, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	ds := train.Head(600)
	for name, tr := range allTransforms() {
		Workers = 1
		a, err := ApplyBaked(ds, tr, 11)
		Workers = 0
		if err != nil {
			t.Fatal(err)
		}
		b, _ := ApplyBaked(ds, tr, 11)
		c, _ := ApplyBaked(ds, tr, 12)
		if !bytes.Equal(a.Pix, b.Pix) {
			t.Errorf("%s: same seed, 1 vs %d workers: different pixels", name, 2)
		}
		if name != "identity" && bytes.Equal(a.Pix, c.Pix) {
			t.Errorf("%s: seeds 11 and 12 gave the same pixels", name)
		}
		for i := range ds.Labels {
			if a.Labels[i] != ds.Labels[i] {
				t.Fatalf("%s changed label %d", name, i)
			}
		}
		// Each image carries the draw of ImageRand(seed, i), reproducible alone.
		if one := tr.Apply(ds.Image(17), ImageRand(11, 17)); !bytes.Equal(one.Pix, a.Image(17).Pix) {
			t.Errorf("%s: image 17 not reproducible from ImageRand", name)
		}
	}
}

type shrink struct{}

func (shrink) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	return dataset.NewImage(1, 2, 2)
}

func TestBakedErrors(t *testing.T) {
	train, _, _ := dataset.MNIST()
	if _, err := ApplyBaked(train.Head(10), shrink{}, 1); err == nil {
		t.Errorf("a shape-changing transform should fail")
	}
	boom := Func(func(src dataset.Image, rng *rand.Rand) dataset.Image { panic("boom") })
	if _, err := ApplyBaked(train.Head(10), boom, 1); err == nil {
		t.Errorf("a panicking transform should fail, not crash")
	}
}

func TestByName(t *testing.T) {
	for _, n := range []string{"rotation", "background", "dilation", "identity", "rotation+background"} {
		if _, err := ByName(n); err != nil {
			t.Errorf("ByName(%q): %v", n, err)
		}
	}
	if _, err := ByName("shear"); err == nil {
		t.Errorf("ByName(shear) should fail")
	}
}

func TestSamplesAndGrid(t *testing.T) {
	train, _, _ := dataset.MNIST()
	img := train.Image(0)
	s := Samples(img, NewRotation(), 8, rand.New(rand.NewSource(1)))
	if len(s) != 8 || bytes.Equal(s[0].Pix, s[1].Pix) {
		t.Errorf("Samples did not draw fresh transforms")
	}
	g := Grid(train, NewBackground(), []int{0, 1, 2}, 5, 1)
	if b := g.Bounds(); b.Dx() < 6*56 || b.Dy() < 3*56 {
		t.Errorf("grid of 3×6 2×-magnified digits is only %v", b)
	}
	// A negative count draws nothing and a nil transform shows the originals alone
	// (they panicked: makeslice, nil dereference).
	if s := Samples(img, NewRotation(), -2, rand.New(rand.NewSource(1))); len(s) != 0 {
		t.Errorf("Samples(-2) gave %d images", len(s))
	}
	if g := Grid(train, nil, []int{0}, -3, 1); g.Bounds().Dx() < 56 {
		t.Errorf("Grid with no transform and n = -3 is only %v", g.Bounds())
	}
	sd := SampleDataset(train, []int{0, 1}, NewRotation(), 4, rand.New(rand.NewSource(1)))
	if sd.Len() != 8 || sd.Labels[0] != train.Labels[0] || sd.Labels[4] != train.Labels[1] {
		t.Errorf("SampleDataset layout wrong: %d images, labels %v", sd.Len(), sd.Labels)
	}
}

func TestRotateMatchesXImage(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	worst := 0
	for _, img := range testImages(t) {
		for k := 0; k < 10; k++ {
			deg := (2*rng.Float64() - 1) * 180
			fill := uint8(0)
			if k%3 == 1 {
				fill = uint8(rng.Intn(256))
			}
			a, b := Rotate(img, deg, fill), RotateReference(img, deg, fill)
			for i := range a.Pix {
				d := int(a.Pix[i]) - int(b.Pix[i])
				if d < 0 {
					d = -d
				}
				worst = max(worst, d)
			}
		}
	}
	if worst > 1 {
		t.Errorf("fast rotation differs from x/image/draw CatmullRom by up to %d grey levels", worst)
	}
	t.Logf("largest difference from x/image/draw: %d", worst)
}

func TestBakedProgressAndCancel(t *testing.T) {
	train, _, _ := dataset.MNIST()
	ds := train.Head(3000)
	oldT, oldP := ProgressThreshold, progress
	defer func() { ProgressThreshold, progress = oldT, oldP }()
	ProgressThreshold = 1000
	added, finished := 0, false
	var mu sync.Mutex
	progress = func(name string, total int) (func(int), func()) {
		if total != 3000 || !strings.Contains(name, "bake ") {
			t.Errorf("progress %q total %d", name, total)
		}
		return func(n int) { mu.Lock(); added += n; mu.Unlock() }, func() { finished = true }
	}
	if _, err := ApplyBaked(ds, NewBackground(), 1); err != nil {
		t.Fatal(err)
	}
	if added < 2000 || !finished {
		t.Errorf("progress saw %d steps, finished %v", added, finished)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ApplyBakedContext(ctx, ds, NewRotation(), 1); err != context.Canceled {
		t.Errorf("cancelled bake: %v", err)
	}
}

// TestNilRand checks that the transforms that draw, and the helpers that draw through
// a transform, panic saying which call needs a generator and what to pass, instead of
// a nil pointer dereference inside math/rand; Identity draws nothing and accepts nil.
func TestNilRand(t *testing.T) {
	img := dataset.NewImage(1, 4, 4)
	ds := &dataset.Dataset{Name: "d", C: 1, H: 4, W: 4, Pix: img.Pix, Labels: []int{0}, Classes: []string{"a"}}
	for name, call := range map[string]func(){
		"Rotation.Apply":    func() { NewRotation().Apply(img, nil) },
		"Background.Apply":  func() { NewBackground().Apply(img, nil) },
		"DilateErode.Apply": func() { NewDilateErode().Apply(img, nil) },
		"Rotation.Apply ":   func() { Compose(Identity{}, NewRotation()).Apply(img, nil) },
		"Samples":           func() { Samples(img, Identity{}, 2, nil) },
		"SampleDataset":     func() { SampleDataset(ds, []int{0}, Identity{}, 2, nil) },
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			call()
			return "no panic"
		}()
		if want := "nuisance: " + strings.TrimSpace(name) + " needs a seeded *rand.Rand"; !strings.Contains(msg, want) {
			t.Errorf("%s with a nil rng: %s; want %q", name, msg, want)
		}
	}
	if out := (Identity{}).Apply(img, nil); len(out.Pix) != len(img.Pix) {
		t.Errorf("Identity.Apply(img, nil) returned %d pixels", len(out.Pix))
	}
}

// TestNilArguments: a nil dataset or transform was a nil pointer dereference deep in
// the call; now the call says which argument is nil.
func TestNilArguments(t *testing.T) {
	img := dataset.NewImage(1, 4, 4)
	ds := &dataset.Dataset{Name: "d", C: 1, H: 4, W: 4, Pix: img.Pix, Labels: []int{0}, Classes: []string{"a"}}
	rng := rand.New(rand.NewSource(1))
	for want, call := range map[string]func(){
		"nuisance: Samples: the transform is nil":             func() { Samples(img, nil, 2, rng) },
		"nuisance: SampleDataset: the dataset is nil":         func() { SampleDataset(nil, []int{0}, Identity{}, 2, rng) },
		"nuisance: SampleDataset: the transform is nil":       func() { SampleDataset(ds, []int{0}, nil, 2, rng) },
		"nuisance: Grid: the dataset is nil":                  func() { Grid(nil, Identity{}, []int{0}, 2, 1) },
		"nuisance: CompareGrid (second dataset): the dataset": func() { CompareGrid(ds, nil, []int{0}) },
		"nuisance: Compose: transform 1 of 2 is nil":          func() { Compose(Identity{}, nil) },
		`nuisance: Named("flip", nil): the transform is nil`:  func() { Named("flip", nil) },
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			call()
			return "no panic"
		}()
		if !strings.Contains(msg, want) {
			t.Errorf("panic %q, want %q", msg, want)
		}
	}
	if _, err := ApplyBaked(nil, Identity{}, 1); err == nil || !strings.Contains(err.Error(), "ApplyBaked: the dataset is nil") {
		t.Errorf("ApplyBaked(nil): err = %v", err)
	}
}
