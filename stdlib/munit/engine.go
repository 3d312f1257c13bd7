package munit

import (
	"math"
	"math/rand"
	"runtime"
	"sync"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nn"
	"gorgonia.org/gorgonia"
)

// engine runs MUNIT training iterations on gorgonia graphs (see graph.go).
type engine struct {
	cfg    Config
	gen    *nets
	dis    *Discriminator
	graphs map[int]*stepGraphs // by batch size
}

// stepGraphs are the two training graphs of one batch size.
type stepGraphs struct {
	n int
	// generator graph
	mG                         *nn.Machine
	x, s                       []float32 // input values, N×C×H×W and N×StyleDim
	xFake                      *gorgonia.Node
	adv, recon, style, content *gorgonia.Node
	gGrads                     gorgonia.Nodes // aligned with gen.ps.list
	// discriminator graph (nil without the adversarial loss)
	mD           *nn.Machine
	real, fake   []float32
	dFake, dReal *gorgonia.Node
	dGrads       gorgonia.Nodes // aligned with dis.ps.list
}

func newEngine(cfg Config, gen *nets, dis *Discriminator) *engine {
	return &engine{cfg: cfg, gen: gen, dis: dis, graphs: map[int]*stepGraphs{}}
}

func (e *engine) stepGraphs(n int) (*stepGraphs, error) {
	if sg := e.graphs[n]; sg != nil {
		return sg, nil
	}
	c := e.cfg
	sg := &stepGraphs{n: n}
	gw := c.GANWeight
	err := build(func() {
		b := newBuilder()
		var x, s *gorgonia.Node
		x, sg.x = b.input("x", n, c.Channels, c.ImageSize, c.ImageSize)
		s, sg.s = b.input("s", n, c.StyleDim)
		cont := b.content(e.gen, x)
		sty := b.style(e.gen, x)
		xRec := b.decode(e.gen, cont, sty)
		sg.xFake = b.decode(e.gen, cont, s)
		cRec := b.content(e.gen, sg.xFake)
		sRec := b.style(e.gen, sg.xFake)
		sg.recon = b.l1(xRec, x)
		sg.style = b.l1(sRec, s)
		sg.content = b.l1(cRec, cont)
		ls := []*gorgonia.Node{sg.recon, sg.style, sg.content}
		ws := []float64{c.ReconWeight, c.StyleWeight, c.ContentWeight}
		if gw > 0 {
			// Scored by the discriminator's weights as they are when this part of the
			// graph runs: after the discriminator's update (iterate).
			sg.adv = b.mseTo(b.dis(e.dis, sg.xFake), 1)
			ls = append(ls, sg.adv)
			ws = append(ws, gw)
		}
		total := b.weighted(ls, ws)
		var err error
		if sg.gGrads, err = gorgonia.Grad(total, paramNodes(b, &e.gen.ps)...); err != nil {
			b.must(nil, err)
		}
		outs := append(gorgonia.Nodes{sg.xFake, total}, ls...)
		if sg.mG, err = nn.NewMachine(b.g, append(outs, sg.gGrads...)...); err != nil {
			b.must(nil, err)
		}
		if gw <= 0 {
			return
		}
		bd := newBuilder()
		var real, fake *gorgonia.Node
		real, sg.real = bd.input("real", n, c.Channels, c.ImageSize, c.ImageSize)
		fake, sg.fake = bd.input("fake", n, c.Channels, c.ImageSize, c.ImageSize)
		sg.dFake = bd.mseTo(bd.dis(e.dis, fake), 0)
		sg.dReal = bd.mseTo(bd.dis(e.dis, real), 1)
		dTotal := bd.weighted([]*gorgonia.Node{sg.dFake, sg.dReal}, []float64{gw, gw})
		if sg.dGrads, err = gorgonia.Grad(dTotal, paramNodes(bd, &e.dis.ps)...); err != nil {
			bd.must(nil, err)
		}
		if sg.mD, err = nn.NewMachine(bd.g, append(gorgonia.Nodes{dTotal, sg.dFake, sg.dReal}, sg.dGrads...)...); err != nil {
			bd.must(nil, err)
		}
	})
	if err != nil {
		return nil, err
	}
	e.graphs[n] = sg
	return sg, nil
}

// fillInput writes images as N×C×H×W values in [−1, 1].
func fillInput(dst []float32, imgs []dataset.Image) {
	for n, img := range imgs {
		d := dst[n*len(img.Pix) : (n+1)*len(img.Pix)]
		for i, p := range img.Pix {
			d[i] = float32(p)/127.5 - 1
		}
	}
}

// iterate runs one MUNIT iteration (discriminator update, then generator update) on
// imgs with step the number of completed iterations (for Adam's bias correction) and
// returns its losses. Within-domain MUNIT (PAPER.md: both domains are the same
// long-tailed set): x is reconstructed from its own codes and translated with a style
// s ~ N(0, I), whose codes must be recovered from the translation.
func (e *engine) iterate(imgs []dataset.Image, rng *rand.Rand, step int) (losses, error) {
	sg, err := e.stepGraphs(len(imgs))
	if err != nil {
		return losses{}, err
	}
	fillInput(sg.x, imgs)
	for i := range sg.s {
		sg.s[i] = float32(rng.NormFloat64())
	}
	var l losses
	sg.mG.Begin()
	if sg.mD != nil {
		// The discriminator update on a copy of the translation (detached: the
		// generator is not changed by this loss), then the generator is scored by the
		// updated discriminator, as in pix2pix/CycleGAN; one generator forward pass
		// serves both updates.
		if err := sg.mG.RunTo(sg.xFake); err != nil {
			return l, err
		}
		copy(sg.fake, sg.mG.Float32s(sg.xFake))
		copy(sg.real, sg.x)
		if err := sg.mD.Run(); err != nil {
			return l, err
		}
		l.dis = scalarOf(sg.mD, sg.dFake) + scalarOf(sg.mD, sg.dReal)
		adam(e.cfg, &e.dis.ps, gradsOf(sg.mD, sg.dGrads), step)
	}
	if err := sg.mG.Finish(); err != nil {
		return l, err
	}
	if sg.adv != nil {
		l.adv = scalarOf(sg.mG, sg.adv)
	}
	l.recon = scalarOf(sg.mG, sg.recon)
	l.style = scalarOf(sg.mG, sg.style)
	l.content = scalarOf(sg.mG, sg.content)
	adam(e.cfg, &e.gen.ps, gradsOf(sg.mG, sg.gGrads), step)
	return l, nil
}

func gradsOf(m *nn.Machine, ns gorgonia.Nodes) [][]float32 {
	out := make([][]float32, len(ns))
	for i, n := range ns {
		out[i] = m.Float32s(n)
	}
	return out
}

// adam applies one Adam step with coupled L2 weight decay (torch.optim.Adam's
// weight_decay, as MUNIT uses) to ps, given gradients aligned with ps.list, at
// iteration step+1. The update is element-wise, so the parameters are split over
// package nn's worker count without changing the result.
func adam(c Config, ps *paramSet, grads [][]float32, step int) {
	t := float64(step + 1)
	b1, b2 := c.Beta1, c.Beta2
	lr := c.LR * math.Sqrt(1-math.Pow(b2, t)) / (1 - math.Pow(b1, t))
	h := adamStep{wd: float32(c.WeightDecay), b1: float32(b1), b2: float32(b2),
		eps: float32(1e-8 * math.Sqrt(1-math.Pow(b2, t))), lr: float32(lr)}
	total := ps.count()
	nw := nn.Threads
	if nw <= 0 {
		nw = runtime.GOMAXPROCS(0)
	}
	if total < 1<<16 {
		nw = 1
	}
	var wg sync.WaitGroup
	for w := 1; w < nw; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			h.apply(ps, grads, lo, hi)
		}(w*total/nw, (w+1)*total/nw)
	}
	h.apply(ps, grads, 0, total/nw)
	wg.Wait()
}

type adamStep struct{ wd, b1, b2, eps, lr float32 }

// apply updates the elements [lo, hi) of the parameters laid end to end.
func (h adamStep) apply(ps *paramSet, grads [][]float32, lo, hi int) {
	off := 0
	for k, p := range ps.list {
		a, b := max(lo, off), min(hi, off+len(p.w))
		if a < b {
			a, b = a-off, b-off
			w, pm, pv := p.w[a:b], p.m[a:b], p.v[a:b]
			for i, g := range grads[k][a:b] {
				g += h.wd * w[i]
				m := h.b1*pm[i] + (1-h.b1)*g
				v := h.b2*pv[i] + (1-h.b2)*g*g
				pm[i], pv[i] = m, v
				w[i] -= h.lr * m / (float32(math.Sqrt(float64(v))) + h.eps)
			}
		}
		off += len(p.w)
	}
}
