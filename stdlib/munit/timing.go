package munit

import (
	"math/rand"
	"sort"
	"time"

	"github.com/goinv/goinv/stdlib/dataset"
)

// TimeIteration measures one training iteration (discriminator update + generator
// update, as Train runs it) of a fresh model built from cfg on cfg.BatchSize random
// images: it runs 2 warm-up iterations (the first builds the graphs), then iterations
// timed ones, and returns the median. cmd/munit's bench command prints it beside
// PyTorch doing the same work.
func TimeIteration(cfg Config, iterations int) (time.Duration, error) {
	ts, err := IterationTimes(cfg, iterations)
	if err != nil {
		return 0, err
	}
	return ts[len(ts)/2], nil
}

// IterationTimes is TimeIteration returning every timed iteration, fastest first: on
// a machine shared with other work the fastest is the figure least disturbed by it.
func IterationTimes(cfg Config, iterations int) ([]time.Duration, error) {
	cfg = cfg.withDefaults()
	gen, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	defer setThreads()()
	tr := newTrainer(cfg, gen, newDiscriminator(cfg, rand.New(rand.NewSource(cfg.Seed+1))), 0, &History{})
	rng := rand.New(rand.NewSource(cfg.Seed))
	imgs := make([]dataset.Image, cfg.BatchSize)
	for i := range imgs {
		imgs[i] = dataset.NewImage(cfg.Channels, cfg.ImageSize, cfg.ImageSize)
		for p := range imgs[i].Pix {
			imgs[i].Pix[p] = uint8(rng.Intn(256))
		}
	}
	if iterations < 1 {
		iterations = 1
	}
	ts := make([]time.Duration, 0, iterations)
	for i := 0; i < iterations+2; i++ {
		start := time.Now()
		if _, err := tr.iterate(imgs, stepRand(cfg.Seed, i+1)); err != nil {
			return nil, err
		}
		tr.step++
		if i >= 2 {
			ts = append(ts, time.Since(start))
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts, nil
}
