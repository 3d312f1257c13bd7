package munit

import (
	"fmt"
	"math/rand"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/display"
)

// reporter shows training in a notebook: a progress bar with running-mean losses and
// a sample grid (real | reconstruction | fixed random styles) updated in place. All
// display calls are here.
type reporter struct {
	t       *trainer
	cfg     Config
	bar     *display.Progress
	grid    *display.Handle
	samples []dataset.Image
}

func newReporter(t *trainer, cfg Config) *reporter {
	r := &reporter{t: t, cfg: cfg}
	if cfg.Quiet {
		return r
	}
	r.bar = display.NewProgress("munit", cfg.Steps)
	r.bar.Update(t.step, "")
	if cfg.SampleEvery > 0 {
		// One image from each of the first SampleImages classes, fixed for the run so
		// successive grids are comparable.
		rng := rand.New(rand.NewSource(cfg.Seed + 2))
		for _, cl := range t.byClass {
			if len(r.samples) == cfg.SampleImages {
				break
			}
			r.samples = append(r.samples, t.ds.Image(cl[rng.Intn(len(cl))]))
		}
		r.grid = display.Image(r.t.gen.VariantsGrid(r.samples, cfg.SampleStyles, cfg.Seed+3))
	}
	return r
}

func (r *reporter) update() {
	if r.bar == nil {
		return
	}
	h := r.t.hist
	n := h.Len()
	m := h.Mean(n-r.cfg.LogEvery, n)
	r.bar.Update(r.t.step, fmt.Sprintf("dis %.3f adv %.3f recon %.4f style %.4f content %.4f", m[0], m[1], m[2], m[3], m[4]))
	if r.grid != nil && r.t.step%r.cfg.SampleEvery == 0 {
		r.grid.Update(r.t.gen.VariantsGrid(r.samples, r.cfg.SampleStyles, r.cfg.Seed+3))
	}
}

func (r *reporter) done() {
	if r.bar == nil {
		return
	}
	if r.grid != nil && r.t.step%r.cfg.SampleEvery != 0 {
		r.grid.Update(r.t.gen.VariantsGrid(r.samples, r.cfg.SampleStyles, r.cfg.Seed+3))
	}
	r.bar.Done()
}
