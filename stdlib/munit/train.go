package munit

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/goinv/goinv/stdlib/dataset"
)

// History is the loss curve of a training run: one entry per completed iteration.
// Resuming from a checkpoint restores the entries before it, so a resumed run's
// History is the same curve as an uninterrupted one.
type History struct {
	Step    []int     // iteration number, from 1
	Dis     []float64 // discriminator LSGAN loss (real → 1, generated → 0)
	Adv     []float64 // generator LSGAN loss (generated → 1)
	Recon   []float64 // image reconstruction L1, ‖Dec(Enc(x)) − x‖₁ on the [−1, 1] scale
	Style   []float64 // style reconstruction L1, ‖E_s(Dec(c, s)) − s‖₁
	Content []float64 // content reconstruction L1, ‖E_c(Dec(c, s)) − c‖₁
	Seconds []float64 // wall time of the iteration
	// Interrupted reports that the run stopped early on context cancellation.
	Interrupted bool
}

// Len returns the number of recorded iterations.
func (h *History) Len() int { return len(h.Step) }

func (h *History) add(step int, l losses, sec float64) {
	h.Step = append(h.Step, step)
	h.Dis = append(h.Dis, l.dis)
	h.Adv = append(h.Adv, l.adv)
	h.Recon = append(h.Recon, l.recon)
	h.Style = append(h.Style, l.style)
	h.Content = append(h.Content, l.content)
	h.Seconds = append(h.Seconds, sec)
}

// truncate keeps the first n entries.
func (h *History) truncate(n int) {
	if n > len(h.Step) {
		n = len(h.Step)
	}
	h.Step, h.Dis, h.Adv, h.Recon = h.Step[:n], h.Dis[:n], h.Adv[:n], h.Recon[:n]
	h.Style, h.Content, h.Seconds = h.Style[:n], h.Content[:n], h.Seconds[:n]
}

// Mean returns the mean of each loss over iterations [from, to) (indices into the
// History), in the order dis, adv, recon, style, content.
func (h *History) Mean(from, to int) [5]float64 {
	var m [5]float64
	if from < 0 {
		from = 0
	}
	if to > h.Len() {
		to = h.Len()
	}
	if to <= from {
		return m
	}
	for i := from; i < to; i++ {
		m[0] += h.Dis[i]
		m[1] += h.Adv[i]
		m[2] += h.Recon[i]
		m[3] += h.Style[i]
		m[4] += h.Content[i]
	}
	for k := range m {
		m[k] /= float64(to - from)
	}
	return m
}

// String summarises the curve: losses averaged over the first and the last 10% of
// the iterations.
func (h *History) String() string {
	n := h.Len()
	if n == 0 {
		return "munit.History{no iterations}"
	}
	w := n / 10
	if w < 1 {
		w = 1
	}
	a, b := h.Mean(0, w), h.Mean(n-w, n)
	var sec float64
	for _, s := range h.Seconds {
		sec += s
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "munit.History{%d iterations (steps %d–%d), %.1f s", n, h.Step[0], h.Step[n-1], sec)
	if h.Interrupted {
		sb.WriteString(", interrupted")
	}
	fmt.Fprintf(&sb, "; first→last %d: dis %.3f→%.3f adv %.3f→%.3f recon %.4f→%.4f style %.4f→%.4f content %.4f→%.4f}",
		w, a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4])
	return sb.String()
}

type losses struct{ dis, adv, recon, style, content float64 }

// trainer holds everything one training run mutates.
type trainer struct {
	cfg     Config
	gen     *Generator
	dis     *Discriminator
	eng     *engine
	step    int // completed iterations
	hist    *History
	ds      *dataset.Dataset
	byClass [][]int
}

func newTrainer(cfg Config, gen *Generator, dis *Discriminator, step int, hist *History) *trainer {
	return &trainer{cfg: cfg, gen: gen, dis: dis, step: step, hist: hist, eng: newEngine(cfg, gen.net, dis)}
}

// stepRand is the random source of iteration step (from 1): derived from the seed
// and the step alone, so a resumed run draws the same images and styles.
func stepRand(seed int64, step int) *rand.Rand {
	z := uint64(seed)*0x9e3779b97f4a7c15 + uint64(step)*0xbf58476d1ce4e5b9
	z ^= z >> 31
	return rand.New(rand.NewSource(int64(z)))
}

func (t *trainer) sampleBatch(rng *rand.Rand) []dataset.Image {
	imgs := make([]dataset.Image, t.cfg.BatchSize)
	for i := range imgs {
		cl := t.byClass[rng.Intn(len(t.byClass))]
		imgs[i] = t.ds.Image(cl[rng.Intn(len(cl))])
	}
	return imgs
}

// iterate runs one training iteration on imgs (see engine.iterate).
func (t *trainer) iterate(imgs []dataset.Image, rng *rand.Rand) (losses, error) {
	return t.eng.iterate(imgs, rng, t.step)
}

// Train trains a MUNIT generator on trainSet (PAPER.md, "The generator (MUNIT) and
// GIT"): images drawn class-balanced, scaled to [−1, 1], losses weighted
// adversarial 1, image reconstruction 10, style 1, content 1, Adam (1e-4, β = (0.5,
// 0.999), weight decay 1e-4), everything seeded by cfg.Seed.
//
// In a notebook it shows a progress bar with the losses and, every SampleEvery
// steps, a grid (real | reconstruction | random styles) updated in place. With
// CheckpointPath it writes a checkpoint every CheckpointEvery steps and at the end;
// with Resume it continues a checkpoint's run with the checkpoint's architecture and
// seed (cfg.Steps is the total, including the resumed steps), continuing the same
// loss curve. When ctx is cancelled it stops at the next iteration boundary and
// returns the generator as of the last completed iteration, its History marked
// Interrupted, and ctx's error.
func Train(ctx context.Context, trainSet *dataset.Dataset, cfg Config) (*Generator, *History, error) {
	if trainSet == nil {
		return nil, nil, errors.New("munit: the training set is nil: pass a dataset, e.g. a split's Train")
	}
	if trainSet.Len() == 0 {
		return nil, nil, fmt.Errorf("munit: the training set %q has no images", trainSet.Name)
	}
	if err := trainSet.Validate(); err != nil {
		return nil, nil, fmt.Errorf("munit: %w", err)
	}
	var t *trainer
	if cfg.Resume != "" {
		ck, err := loadCheckpoint(cfg.Resume)
		if err != nil {
			return nil, nil, err
		}
		// The architecture and the seed come from the checkpoint (so the resumed run
		// draws what the uninterrupted one would); the schedule comes from cfg.
		arch := ck.gen.cfg
		run := cfg.withDefaults()
		copyArch(&run, arch)
		run.Seed = arch.Seed
		ck.gen.cfg = run
		if ck.dis == nil {
			return nil, nil, fmt.Errorf("munit: %s holds a generator only, not a training checkpoint", cfg.Resume)
		}
		t = newTrainer(run, ck.gen, ck.dis, ck.step, ck.hist)
	} else {
		gen, err := NewGenerator(cfg)
		if err != nil {
			return nil, nil, err
		}
		cfg = gen.cfg
		rng := rand.New(rand.NewSource(cfg.Seed + 1))
		t = newTrainer(cfg, gen, newDiscriminator(cfg, rng), 0, &History{})
	}
	cfg = t.cfg
	if err := cfg.validateTraining(); err != nil {
		return nil, nil, err
	}
	if trainSet.C != cfg.Channels || trainSet.H != cfg.ImageSize || trainSet.W != cfg.ImageSize {
		fix := fmt.Sprintf("set Config.Channels = %d and Config.ImageSize = %d", trainSet.C, trainSet.H)
		if trainSet.H != trainSet.W {
			fix = "the generator makes square images: resize them to a square (dataset.LoadFolder's Width and Height do)"
		}
		if cfg.Resume != "" {
			fix = "the checkpoint " + cfg.Resume + " was trained on other images"
		}
		return nil, nil, fmt.Errorf("munit: training images are %d×%d×%d, the generator expects %d×%d×%d: %s",
			trainSet.C, trainSet.H, trainSet.W, cfg.Channels, cfg.ImageSize, cfg.ImageSize, fix)
	}
	t.ds = trainSet
	groups := make([][]int, trainSet.NumClasses())
	for i, y := range trainSet.Labels {
		groups[y] = append(groups[y], i)
	}
	for _, gr := range groups {
		if len(gr) > 0 {
			t.byClass = append(t.byClass, gr)
		}
	}
	defer setThreads()()

	rep := newReporter(t, cfg)
	defer rep.done()
	for t.step < cfg.Steps {
		if err := ctx.Err(); err != nil {
			t.hist.Interrupted = true
			t.release()
			return t.gen, t.hist, err
		}
		start := time.Now()
		rng := stepRand(cfg.Seed, t.step+1)
		l, err := t.iterate(t.sampleBatch(rng), rng)
		if err != nil {
			t.release()
			return t.gen, t.hist, err
		}
		t.step++
		t.hist.add(t.step, l, time.Since(start).Seconds())
		rep.update()
		if cfg.CheckpointPath != "" && t.step%cfg.CheckpointEvery == 0 {
			if err := t.save(cfg.CheckpointPath); err != nil {
				return t.gen, t.hist, err
			}
		}
	}
	t.release()
	if cfg.CheckpointPath != "" && t.step%cfg.CheckpointEvery != 0 {
		if err := t.save(cfg.CheckpointPath); err != nil {
			return t.gen, t.hist, err
		}
	}
	return t.gen, t.hist, nil
}

// release drops the training graphs and their buffers: the returned generator keeps
// only its weights (and its inference graphs).
func (t *trainer) release() { t.eng.graphs = map[int]*stepGraphs{} }

func copyArch(dst *Config, src Config) {
	dst.Channels, dst.ImageSize, dst.Width, dst.ResBlocks = src.Channels, src.ImageSize, src.Width, src.ResBlocks
	dst.Downsample, dst.StyleDownsample, dst.MLPWidth, dst.StyleDim = src.Downsample, src.StyleDownsample, src.MLPWidth, src.StyleDim
	dst.DisWidth, dst.DisLayers = src.DisWidth, src.DisLayers
}
