package munit

import (
	"math"
	"math/rand"
	"testing"
)

func randTensor(rng *rand.Rand, n, h, w, c int, req bool) *tensor {
	t := &tensor{N: n, H: h, W: w, C: c, D: make([]float32, n*h*w*c), req: req}
	for i := range t.D {
		t.D[i] = float32(rng.NormFloat64())
	}
	return t
}

// checkGrad compares the tape's gradients of L = Σ r·f(inputs) with central finite
// differences (float64 accumulation of float32 values).
func checkGrad(t *testing.T, name string, inputs []*tensor, f func(tp *tape) *tensor) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	tp := newTape(true)
	out := f(tp)
	r := make([]float32, out.size())
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	out.G = append([]float32(nil), r...)
	tp.backward()
	loss := func() float64 {
		tq := newTape(false)
		o := f(tq)
		var s float64
		for i, v := range o.D {
			s += float64(v) * float64(r[i])
		}
		return s
	}
	for k, in := range inputs {
		if !in.req {
			continue
		}
		grad := append([]float32(nil), in.G...)
		for i := range in.D {
			old := in.D[i]
			const eps = 1e-2
			in.D[i] = old + eps
			lp := loss()
			in.D[i] = old - eps
			lm := loss()
			in.D[i] = old
			num := (lp - lm) / (2 * eps)
			got := float64(0)
			if grad != nil {
				got = float64(grad[i])
			}
			if math.Abs(num-got) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Fatalf("%s: input %d element %d: tape gradient %.5f, finite difference %.5f", name, k, i, got, num)
			}
		}
		in.G = nil
	}
}

func TestConvGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, tc := range []struct {
		name              string
		h, k, stride, pad int
		reflect           bool
	}{
		{"3x3 reflect", 5, 3, 1, 1, true},
		{"4x4 stride 2 reflect", 6, 4, 2, 1, true},
		{"4x4 stride 2 on 3x3", 3, 4, 2, 1, true},
		{"7x7 zero pad", 6, 7, 1, 3, false},
		{"1x1", 4, 1, 1, 0, false},
		{"7x7 reflect one channel", 6, 7, 1, 3, true},
	} {
		cin := 3
		if tc.k == 7 && tc.reflect {
			cin = 1
		}
		x := randTensor(rng, 2, tc.h, tc.h, cin, true)
		w := randTensor(rng, 4, 1, 1, tc.k*tc.k*cin, true)
		b := randTensor(rng, 1, 1, 1, 4, true)
		checkGrad(t, tc.name, []*tensor{x, w, b}, func(tp *tape) *tensor {
			return tp.conv2d(x, w, b, tc.k, tc.stride, tc.pad, tc.reflect)
		})
	}
}

// TestConvValues checks a convolution against a direct sum, reflect padding included.
func TestConvValues(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	x := randTensor(rng, 1, 5, 5, 2, false)
	w := randTensor(rng, 3, 1, 1, 3*3*2, false)
	tp := newTape(false)
	out := tp.conv2d(x, w, nil, 3, 2, 1, true)
	refl := func(i, n int) int {
		if i < 0 {
			return -i
		}
		if i >= n {
			return 2*(n-1) - i
		}
		return i
	}
	for oy := 0; oy < out.H; oy++ {
		for ox := 0; ox < out.W; ox++ {
			for co := 0; co < 3; co++ {
				var s float64
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						iy, ix := refl(oy*2-1+ky, 5), refl(ox*2-1+kx, 5)
						for ci := 0; ci < 2; ci++ {
							s += float64(x.D[(iy*5+ix)*2+ci]) * float64(w.D[co*18+(ky*3+kx)*2+ci])
						}
					}
				}
				got := out.D[(oy*out.W+ox)*3+co]
				if math.Abs(float64(got)-s) > 1e-4 {
					t.Fatalf("conv at (%d,%d,%d) = %v, want %v", oy, ox, co, got, s)
				}
			}
		}
	}
}

func TestInstanceNormValues(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	x := randTensor(rng, 2, 4, 3, 5, false)
	for i := range x.D {
		x.D[i] = x.D[i]*3 + 2
	}
	tp := newTape(false)
	y := tp.adain(x, nil, 0)
	for n := 0; n < 2; n++ {
		for c := 0; c < 5; c++ {
			var m, v float64
			for i := 0; i < 12; i++ {
				m += float64(y.D[(n*12+i)*5+c])
			}
			m /= 12
			for i := 0; i < 12; i++ {
				d := float64(y.D[(n*12+i)*5+c]) - m
				v += d * d
			}
			v /= 12
			if math.Abs(m) > 1e-5 || math.Abs(v-1) > 1e-3 {
				t.Fatalf("instance norm sample %d channel %d: mean %g variance %g, want 0 and 1", n, c, m, v)
			}
		}
	}
}

func TestAdaINValues(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	x := randTensor(rng, 2, 3, 3, 2, false)
	// p holds, per sample, 3 unused values, then bias (mean) then weight (std) per channel.
	p := &tensor{N: 2, H: 1, W: 1, C: 7, D: []float32{9, 9, 9, 1, -2, 0.5, 3, 9, 9, 9, 0, 4, 2, 0.25}}
	tp := newTape(false)
	y := tp.adain(x, p, 3)
	want := [][2][2]float64{{{1, 0.5}, {-2, 3}}, {{0, 2}, {4, 0.25}}} // [n][c]{mean, std}
	for n := 0; n < 2; n++ {
		for c := 0; c < 2; c++ {
			var m, v float64
			for i := 0; i < 9; i++ {
				m += float64(y.D[(n*9+i)*2+c])
			}
			m /= 9
			for i := 0; i < 9; i++ {
				d := float64(y.D[(n*9+i)*2+c]) - m
				v += d * d
			}
			sd := math.Sqrt(v / 9)
			if math.Abs(m-want[n][c][0]) > 1e-4 || math.Abs(sd-want[n][c][1]) > 1e-3 {
				t.Fatalf("AdaIN sample %d channel %d: mean %g std %g, want %v", n, c, m, sd, want[n][c])
			}
		}
	}
}

func TestNormGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	x := randTensor(rng, 2, 3, 4, 3, true)
	checkGrad(t, "instance norm", []*tensor{x}, func(tp *tape) *tensor { return tp.adain(x, nil, 0) })
	p := randTensor(rng, 2, 1, 1, 8, true)
	checkGrad(t, "AdaIN", []*tensor{x, p}, func(tp *tape) *tensor { return tp.adain(x, p, 2) })
	gm := randTensor(rng, 1, 1, 1, 3, true)
	bt := randTensor(rng, 1, 1, 1, 3, true)
	checkGrad(t, "layer norm", []*tensor{x, gm, bt}, func(tp *tape) *tensor { return tp.layerNorm(x, gm, bt) })
}

func TestPointwiseGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	x := randTensor(rng, 2, 3, 3, 2, true)
	y := randTensor(rng, 2, 3, 3, 2, true)
	checkGrad(t, "leaky", []*tensor{x}, func(tp *tape) *tensor { return tp.leaky(x, 0.2) })
	checkGrad(t, "tanh", []*tensor{x}, func(tp *tape) *tensor { return tp.tanh(x) })
	checkGrad(t, "add", []*tensor{x, y}, func(tp *tape) *tensor { return tp.add(x, y) })
	checkGrad(t, "upsample", []*tensor{x}, func(tp *tape) *tensor { return tp.upsample2(x) })
	checkGrad(t, "avg pool", []*tensor{x}, func(tp *tape) *tensor { return tp.avgPool(x) })
	// A chain: the gradient must accumulate through a tensor used twice.
	checkGrad(t, "chain", []*tensor{x}, func(tp *tape) *tensor { return tp.add(tp.tanh(x), tp.leaky(x, 0.1)) })
}
