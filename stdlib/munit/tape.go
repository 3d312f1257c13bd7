package munit

import (
	"math"
)

// This file is a small reverse-mode automatic differentiation engine specialised to
// the layers MUNIT needs. Why not a gorgonia graph: one MUNIT iteration runs the
// encoders and the decoder several times, updates two networks with gradients that
// must flow through the frozen other one, and detaches the generated images for the
// discriminator; a tape of closures expresses that directly, costs no graph
// compilation, and lets every buffer of a step be recycled into the next step
// (gorgonia allocates ≈300 MB per training step, see DESIGN.md). Every op has a
// finite-difference test (tape_test.go).
//
// Tensors are float32, laid out N×H×W×C (channels last): a convolution's im2col rows
// are then output pixels and its GEMM writes the next layer's input directly,
// without the transposes a channel-first layout needs.

// tensor is one activation (or a parameter seen as an activation) on a tape.
type tensor struct {
	N, H, W, C int
	D          []float32 // values
	G          []float32 // gradient, allocated on first use when req
	req        bool      // whether a gradient must flow into this tensor
}

func (t *tensor) size() int { return t.N * t.H * t.W * t.C }

// tape records the backward closures of one forward pass and owns its buffers.
type tape struct {
	grad bool     // record backward closures at all
	back []func() // in forward order; run in reverse
	pool map[int][][]float32
	used [][]float32
}

func newTape(grad bool) *tape { return &tape{grad: grad, pool: map[int][][]float32{}} }

// alloc returns a zeroed buffer of n floats that lives until reset.
func (tp *tape) alloc(n int) []float32 {
	var b []float32
	if l := tp.pool[n]; len(l) > 0 {
		b = l[len(l)-1]
		tp.pool[n] = l[:len(l)-1]
		clear(b)
	} else {
		b = make([]float32, n)
	}
	tp.used = append(tp.used, b)
	return b
}

// reset forgets the recorded closures and recycles every buffer handed out since
// the previous reset: tensors of the last pass must not be used afterwards.
func (tp *tape) reset() {
	tp.back = tp.back[:0]
	for _, b := range tp.used {
		tp.pool[len(b)] = append(tp.pool[len(b)], b)
	}
	tp.used = tp.used[:0]
}

func (tp *tape) newTensor(n, h, w, c int, req bool) *tensor {
	return &tensor{N: n, H: h, W: w, C: c, D: tp.alloc(n * h * w * c), req: req && tp.grad}
}

func (tp *tape) record(f func()) {
	if tp.grad {
		tp.back = append(tp.back, f)
	}
}

// grad returns t's gradient buffer, allocating it zeroed on first use.
func (tp *tape) gradOf(t *tensor) []float32 {
	if t.G == nil {
		t.G = tp.alloc(t.size())
	}
	return t.G
}

// backward seeds nothing: losses seed their own gradient when they are created
// through lossBackward; backward runs the closures in reverse order.
func (tp *tape) backward() {
	for i := len(tp.back) - 1; i >= 0; i-- {
		tp.back[i]()
	}
}

// detach returns a copy of t's values that no gradient flows through.
func (tp *tape) detach(t *tensor) *tensor {
	o := tp.newTensor(t.N, t.H, t.W, t.C, false)
	copy(o.D, t.D)
	return o
}

// ---- convolution -------------------------------------------------------------

// convGeom is the gather table of one convolution geometry: for output pixel p and
// kernel tap k, src[p*kk+k] is the input pixel read (reflect or zero padding
// resolved), or -1 for a zero pad.
type convGeom struct {
	h, w, k, stride, pad int
	reflect              bool
	ho, wo               int
	src                  []int32
}

type geomKey struct {
	h, w, k, stride, pad int
	reflect              bool
}

var geomCache = newSyncMap[geomKey, *convGeom]()

func geometry(h, w, k, stride, pad int, reflect bool) *convGeom {
	key := geomKey{h, w, k, stride, pad, reflect}
	if g, ok := geomCache.load(key); ok {
		return g
	}
	ho := (h+2*pad-k)/stride + 1
	wo := (w+2*pad-k)/stride + 1
	g := &convGeom{h: h, w: w, k: k, stride: stride, pad: pad, reflect: reflect, ho: ho, wo: wo,
		src: make([]int32, ho*wo*k*k)}
	fix := func(i, n int) int {
		if i >= 0 && i < n {
			return i
		}
		if !reflect {
			return -1
		}
		// Reflection without repeating the edge, as torch.nn.ReflectionPad2d.
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	}
	for oy := 0; oy < ho; oy++ {
		for ox := 0; ox < wo; ox++ {
			p := oy*wo + ox
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					iy := fix(oy*stride-pad+ky, h)
					ix := fix(ox*stride-pad+kx, w)
					s := int32(-1)
					if iy >= 0 && ix >= 0 {
						s = int32(iy*w + ix)
					}
					g.src[p*k*k+ky*k+kx] = s
				}
			}
		}
	}
	geomCache.store(key, g)
	return g
}

// conv2d convolves x with w (Cout × k·k·Cin, taps ordered ky, kx, ci) plus bias b.
func (tp *tape) conv2d(x, w, b *tensor, k, stride, pad int, reflect bool) *tensor {
	cin := x.C
	cout := w.N
	kc := k * k * cin
	if w.size() != cout*kc {
		panic("munit: conv2d weight shape does not match input channels")
	}
	var col []float32
	var g *convGeom
	ho, wo := x.H, x.W
	if k == 1 && stride == 1 && pad == 0 {
		col = x.D
	} else {
		g = geometry(x.H, x.W, k, stride, pad, reflect)
		ho, wo = g.ho, g.wo
		col = tp.alloc(x.N * ho * wo * kc)
		hw := x.H * x.W
		for n := 0; n < x.N; n++ {
			xs := x.D[n*hw*cin : (n+1)*hw*cin]
			cs := col[n*ho*wo*kc : (n+1)*ho*wo*kc]
			if cin == 1 {
				// One channel: the column matrix is the gather table itself.
				for i, s := range g.src {
					if s >= 0 {
						cs[i] = xs[s]
					}
				}
				continue
			}
			for i, s := range g.src {
				if s >= 0 {
					// Taps are consecutive: tap i of the table starts at column offset i·cin.
					copy(cs[i*cin:(i+1)*cin], xs[int(s)*cin:int(s+1)*cin])
				}
			}
		}
	}
	m := x.N * ho * wo
	out := tp.newTensor(x.N, ho, wo, cout, x.req || w.req || (b != nil && b.req))
	if b != nil {
		for r := 0; r < m; r++ {
			copy(out.D[r*cout:(r+1)*cout], b.D)
		}
	}
	gemm(false, true, m, cout, kc, 1, col, kc, w.D, kc, 1, out.D, cout)
	tp.record(func() {
		if out.G == nil {
			return
		}
		dy := out.G
		if w.req {
			gemm(true, false, cout, kc, m, 1, dy, cout, col, kc, 1, tp.gradOf(w), kc)
		}
		if b != nil && b.req {
			db := tp.gradOf(b)
			for r := 0; r < m; r++ {
				row := dy[r*cout : (r+1)*cout]
				for c, v := range row {
					db[c] += v
				}
			}
		}
		if !x.req {
			return
		}
		dx := tp.gradOf(x)
		if g == nil {
			gemm(false, false, m, kc, cout, 1, dy, cout, w.D, kc, 1, dx, kc)
			return
		}
		dcol := tp.alloc(m * kc)
		gemm(false, false, m, kc, cout, 1, dy, cout, w.D, kc, 0, dcol, kc)
		hw := x.H * x.W
		for n := 0; n < x.N; n++ {
			xs := dx[n*hw*cin : (n+1)*hw*cin]
			cs := dcol[n*ho*wo*kc : (n+1)*ho*wo*kc]
			if cin == 1 {
				for i, s := range g.src {
					if s >= 0 {
						xs[s] += cs[i]
					}
				}
				continue
			}
			for i, s := range g.src {
				if s >= 0 {
					d := xs[int(s)*cin : int(s+1)*cin]
					for j, v := range cs[i*cin : (i+1)*cin] {
						d[j] += v
					}
				}
			}
		}
	})
	return out
}

// ---- normalisation -----------------------------------------------------------

const normEps = 1e-5

// adain normalises each (sample, channel) of x over its H×W pixels (instance
// normalisation) and, when p is non-nil, scales and shifts it with per-sample
// parameters read from p (N×1×1×P): bias at p[n, off+c], weight at p[n, off+C+c] —
// MUNIT's order (assign_adain_params: mean first, then std). With p nil it is plain
// affine-free instance normalisation.
func (tp *tape) adain(x, p *tensor, off int) *tensor {
	n, hw, c := x.N, x.H*x.W, x.C
	out := tp.newTensor(x.N, x.H, x.W, x.C, x.req || (p != nil && p.req))
	xhat := tp.alloc(x.size())
	inv := tp.alloc(n * c)
	mean := make([]float64, c)
	vr := make([]float64, c)
	for s := 0; s < n; s++ {
		xs := x.D[s*hw*c : (s+1)*hw*c]
		clear(mean)
		clear(vr)
		for i := 0; i < hw; i++ {
			for j, v := range xs[i*c : (i+1)*c] {
				mean[j] += float64(v)
			}
		}
		for j := range mean {
			mean[j] /= float64(hw)
		}
		for i := 0; i < hw; i++ {
			for j, v := range xs[i*c : (i+1)*c] {
				d := float64(v) - mean[j]
				vr[j] += d * d
			}
		}
		for j := range vr {
			inv[s*c+j] = float32(1 / math.Sqrt(vr[j]/float64(hw)+normEps))
		}
		hs := xhat[s*hw*c : (s+1)*hw*c]
		os := out.D[s*hw*c : (s+1)*hw*c]
		iv := inv[s*c : (s+1)*c]
		for i := 0; i < hw; i++ {
			for j := 0; j < c; j++ {
				h := (xs[i*c+j] - float32(mean[j])) * iv[j]
				hs[i*c+j] = h
				if p != nil {
					ps := p.D[s*p.C:]
					os[i*c+j] = h*ps[off+c+j] + ps[off+j]
				} else {
					os[i*c+j] = h
				}
			}
		}
	}
	tp.record(func() {
		if out.G == nil {
			return
		}
		var dp []float32
		if p != nil && p.req {
			dp = tp.gradOf(p)
		}
		var dx []float32
		if x.req {
			dx = tp.gradOf(x)
		}
		sdy := make([]float64, c)
		sdyh := make([]float64, c)
		for s := 0; s < n; s++ {
			dys := out.G[s*hw*c : (s+1)*hw*c]
			hs := xhat[s*hw*c : (s+1)*hw*c]
			clear(sdy)
			clear(sdyh)
			for i := 0; i < hw; i++ {
				for j := 0; j < c; j++ {
					d := float64(dys[i*c+j])
					sdy[j] += d
					sdyh[j] += d * float64(hs[i*c+j])
				}
			}
			gamma := func(j int) float32 { return 1 }
			if p != nil {
				ps := p.D[s*p.C:]
				gamma = func(j int) float32 { return ps[off+c+j] }
				if dp != nil {
					ds := dp[s*p.C:]
					for j := 0; j < c; j++ {
						ds[off+j] += float32(sdy[j])
						ds[off+c+j] += float32(sdyh[j])
					}
				}
			}
			if dx == nil {
				continue
			}
			// d xhat = dy·γ; dx = inv·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)).
			dxs := dx[s*hw*c : (s+1)*hw*c]
			iv := inv[s*c : (s+1)*c]
			for j := 0; j < c; j++ {
				gm := gamma(j)
				a := float32(sdy[j]/float64(hw)) * gm
				bb := float32(sdyh[j]/float64(hw)) * gm
				for i := 0; i < hw; i++ {
					q := i*c + j
					dxs[q] += iv[j] * (dys[q]*gm - a - hs[q]*bb)
				}
			}
		}
	})
	return out
}

// layerNorm normalises each sample over all its C·H·W values and applies a
// per-channel affine map (gamma, beta: 1×1×1×C), as MUNIT's LayerNorm.
func (tp *tape) layerNorm(x, gamma, beta *tensor) *tensor {
	n, m, c := x.N, x.H*x.W*x.C, x.C
	out := tp.newTensor(x.N, x.H, x.W, x.C, x.req || gamma.req || beta.req)
	xhat := tp.alloc(x.size())
	inv := make([]float32, n)
	for s := 0; s < n; s++ {
		xs := x.D[s*m : (s+1)*m]
		var mean, vr float64
		for _, v := range xs {
			mean += float64(v)
		}
		mean /= float64(m)
		for _, v := range xs {
			d := float64(v) - mean
			vr += d * d
		}
		inv[s] = float32(1 / math.Sqrt(vr/float64(m)+normEps))
		hs := xhat[s*m : (s+1)*m]
		os := out.D[s*m : (s+1)*m]
		for i, v := range xs {
			h := (v - float32(mean)) * inv[s]
			hs[i] = h
			os[i] = h*gamma.D[i%c] + beta.D[i%c]
		}
	}
	tp.record(func() {
		if out.G == nil {
			return
		}
		var dg, db, dx []float32
		if gamma.req {
			dg = tp.gradOf(gamma)
		}
		if beta.req {
			db = tp.gradOf(beta)
		}
		if x.req {
			dx = tp.gradOf(x)
		}
		for s := 0; s < n; s++ {
			dys := out.G[s*m : (s+1)*m]
			hs := xhat[s*m : (s+1)*m]
			var sd, sdh float64
			for i, d := range dys {
				if dg != nil {
					dg[i%c] += d * hs[i]
				}
				if db != nil {
					db[i%c] += d
				}
				dh := float64(d * gamma.D[i%c])
				sd += dh
				sdh += dh * float64(hs[i])
			}
			if dx == nil {
				continue
			}
			a := float32(sd / float64(m))
			b := float32(sdh / float64(m))
			dxs := dx[s*m : (s+1)*m]
			for i, d := range dys {
				dxs[i] += inv[s] * (d*gamma.D[i%c] - a - hs[i]*b)
			}
		}
	})
	return out
}

// ---- pointwise and shape ops -------------------------------------------------

// leaky applies max(x, slope·x); slope 0 is ReLU.
func (tp *tape) leaky(x *tensor, slope float32) *tensor {
	out := tp.newTensor(x.N, x.H, x.W, x.C, x.req)
	for i, v := range x.D {
		if v < 0 {
			v *= slope
		}
		out.D[i] = v
	}
	tp.record(func() {
		if out.G == nil || !x.req {
			return
		}
		dx := tp.gradOf(x)
		for i, d := range out.G {
			if x.D[i] < 0 {
				d *= slope
			}
			dx[i] += d
		}
	})
	return out
}

func (tp *tape) relu(x *tensor) *tensor { return tp.leaky(x, 0) }

func (tp *tape) tanh(x *tensor) *tensor {
	out := tp.newTensor(x.N, x.H, x.W, x.C, x.req)
	for i, v := range x.D {
		out.D[i] = float32(math.Tanh(float64(v)))
	}
	tp.record(func() {
		if out.G == nil || !x.req {
			return
		}
		dx := tp.gradOf(x)
		for i, d := range out.G {
			y := out.D[i]
			dx[i] += d * (1 - y*y)
		}
	})
	return out
}

// add returns a + b (same shapes): the residual connection.
func (tp *tape) add(a, b *tensor) *tensor {
	out := tp.newTensor(a.N, a.H, a.W, a.C, a.req || b.req)
	for i := range out.D {
		out.D[i] = a.D[i] + b.D[i]
	}
	tp.record(func() {
		if out.G == nil {
			return
		}
		for _, t := range []*tensor{a, b} {
			if t.req {
				g := tp.gradOf(t)
				for i, d := range out.G {
					g[i] += d
				}
			}
		}
	})
	return out
}

// upsample2 repeats every pixel into a 2×2 block (nearest-neighbour ×2).
func (tp *tape) upsample2(x *tensor) *tensor {
	h, w, c := x.H, x.W, x.C
	out := tp.newTensor(x.N, 2*h, 2*w, c, x.req)
	for n := 0; n < x.N; n++ {
		for y := 0; y < 2*h; y++ {
			for xx := 0; xx < 2*w; xx++ {
				s := ((n*h+y/2)*w + xx/2) * c
				d := ((n*2*h+y)*2*w + xx) * c
				copy(out.D[d:d+c], x.D[s:s+c])
			}
		}
	}
	tp.record(func() {
		if out.G == nil || !x.req {
			return
		}
		dx := tp.gradOf(x)
		for n := 0; n < x.N; n++ {
			for y := 0; y < 2*h; y++ {
				for xx := 0; xx < 2*w; xx++ {
					s := ((n*h+y/2)*w + xx/2) * c
					d := ((n*2*h+y)*2*w + xx) * c
					for j := 0; j < c; j++ {
						dx[s+j] += out.G[d+j]
					}
				}
			}
		}
	})
	return out
}

// avgPool averages each channel over H×W: N×1×1×C.
func (tp *tape) avgPool(x *tensor) *tensor {
	hw, c := x.H*x.W, x.C
	out := tp.newTensor(x.N, 1, 1, c, x.req)
	for n := 0; n < x.N; n++ {
		for i := 0; i < hw; i++ {
			for j := 0; j < c; j++ {
				out.D[n*c+j] += x.D[(n*hw+i)*c+j]
			}
		}
		for j := 0; j < c; j++ {
			out.D[n*c+j] /= float32(hw)
		}
	}
	tp.record(func() {
		if out.G == nil || !x.req {
			return
		}
		dx := tp.gradOf(x)
		for n := 0; n < x.N; n++ {
			for i := 0; i < hw; i++ {
				for j := 0; j < c; j++ {
					dx[(n*hw+i)*c+j] += out.G[n*c+j] / float32(hw)
				}
			}
		}
	})
	return out
}

// ---- losses ------------------------------------------------------------------

// l1 returns mean |a − b| and, on backward, weight·∂/∂a and weight·∂/∂b. b may be a
// constant (req false) such as the real image or the sampled style code.
func (tp *tape) l1(a, b *tensor, weight float32) float64 {
	var s float64
	for i, v := range a.D {
		s += math.Abs(float64(v - b.D[i]))
	}
	k := float32(len(a.D))
	tp.record(func() {
		for _, t := range []*tensor{a, b} {
			if !t.req {
				continue
			}
			sign := float32(1)
			if t == b {
				sign = -1
			}
			g := tp.gradOf(t)
			for i, v := range a.D {
				d := v - b.D[i]
				switch {
				case d > 0:
					g[i] += sign * weight / k
				case d < 0:
					g[i] -= sign * weight / k
				}
			}
		}
	})
	return s / float64(k)
}

// mseTo returns mean (a − target)² (LSGAN) and records weight·∂/∂a.
func (tp *tape) mseTo(a *tensor, target, weight float32) float64 {
	var s float64
	for _, v := range a.D {
		d := float64(v - target)
		s += d * d
	}
	k := float32(len(a.D))
	tp.record(func() {
		if !a.req {
			return
		}
		g := tp.gradOf(a)
		for i, v := range a.D {
			g[i] += weight * 2 * (v - target) / k
		}
	})
	return s / float64(k)
}
