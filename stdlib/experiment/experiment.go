// Package experiment runs the paper's central experiment (PAPER.md, "The question and
// the finding"): for every nuisance transform, long-tail instance and training method
// it builds the long-tailed split with the nuisance baked in (stdlib/longtail), trains
// a classifier (stdlib/train, or any Trainer), measures per-class test accuracy
// (stdlib/evaluate) and per-class eKLD and consistency on raw held-out images
// (stdlib/invariance), and collects everything in one tidy table:
//
//	transform, method, instance, class, train_size, ekld, consistency, test_accuracy
//
// Summaries give, per (transform, method), the pooled Spearman ρ(class size, eKLD)
// and the ratio of the mean eKLD of the 3 smallest to the 3 largest classes; figures
// draw eKLD against class size per transform, one series per method.
//
// A run appends its rows to the results file as soon as it finishes, so an
// interrupted experiment resumes where it stopped: calling Run again with the same
// file skips the finished runs.
package experiment

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/display"
	"github.com/goinv/goinv/stdlib/evaluate"
	"github.com/goinv/goinv/stdlib/internal/seed"
	"github.com/goinv/goinv/stdlib/invariance"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// Trainer trains one classifier with the named method on split.Train (nuisance baked
// in). seed is the same for every method of an instance, so that methods are compared
// on equal terms. On cancellation it should return promptly with ctx's error.
type Trainer func(ctx context.Context, method string, split *longtail.Split, seed int64) (nn.Classifier, error)

// Config describes an experiment. Zero fields take the defaults of the paper's MNIST
// finding: embedded MNIST, exponential profile n_max 2000 with ρ = 100, transforms
// rotation, background and dilation, methods ERM and DRS, 3 instances, eKLD over
// 40 images × 20 transforms.
type Config struct {
	// Train and Test are the balanced base dataset; nil means the embedded MNIST.
	Train, Test *dataset.Dataset
	// Profile gives the class sizes; nil means longtail.Exponential(2000, 100).
	Profile longtail.Profile
	// Transforms names the nuisances (nuisance.ByName, or a key of Custom).
	Transforms []string
	// Custom maps extra transform names to transforms, e.g. one defined in a cell.
	Custom map[string]nuisance.Transform
	// Methods names the training methods, passed to Trainer. Run checks the names
	// before any training when Trainer is train-backed (FitTrainer, SmallCNNTrainer,
	// Finding.Config): train's methods, in any case (see Method).
	Methods []string
	// Instances is the number of long-tail instances (class orders) 0..Instances−1.
	Instances int
	// Seed drives the splits, the training seeds and the eKLD draws.
	Seed int64
	// EKLD sets the eKLD measurement (Images, Transforms, BatchSize, Workers); its Seed,
	// Classes and TrainSizes are set by the runner. Zero Images/Transforms mean 40 × 20.
	EKLD invariance.Options
	// TestPerClass, if positive, measures test accuracy on the first TestPerClass test
	// images of each class instead of the whole test set (to save time).
	TestPerClass int
	// Trainer trains one model; nil means an error (see the train-backed trainer of this
	// package for the default).
	Trainer Trainer
	// TrainerName describes the trainer's settings (architecture, epochs, ...); it is
	// stored beside the results file so that a resume with other settings is refused.
	TrainerName string
	// ResultsPath, if not empty, is the CSV file the runs are appended to and resumed
	// from; a sidecar file ResultsPath + ".meta.json" records the settings and
	// ResultsPath + ".runs.jsonl" the timing of each run.
	ResultsPath string
	// Verbose shows the progress bars of each training and measurement as well as the
	// overall one.
	Verbose bool
	// Quiet hides every progress bar.
	Quiet bool
	// Log, if not nil, receives one line per finished run.
	Log func(string)
}

// RunKey identifies one run.
type RunKey struct {
	Transform, Method string
	Instance          int
}

func (k RunKey) String() string { return fmt.Sprintf("%s/%s/#%d", k.Transform, k.Method, k.Instance) }

// RunInfo records what one run did and how long it took.
type RunInfo struct {
	RunKey
	TrainSeconds, EvalSeconds, EKLDSeconds float64
	Accuracy, BalancedAccuracy             float64
	MeanEKLD                               float64
	Finished                               time.Time
}

func (c *Config) withDefaults() (Config, error) {
	r := *c
	if r.Train == nil || r.Test == nil {
		tr, te, err := dataset.MNIST()
		if err != nil {
			return r, fmt.Errorf("experiment: load MNIST: %w", err)
		}
		if r.Train == nil {
			r.Train = tr
		}
		if r.Test == nil {
			r.Test = te
		}
	}
	if r.Profile == nil {
		r.Profile = longtail.Exponential(2000, 100)
	}
	if len(r.Transforms) == 0 {
		r.Transforms = []string{"rotation", "background", "dilation"}
	}
	if len(r.Methods) == 0 {
		r.Methods = []string{"ERM", "DRS"}
	}
	if r.Instances < 0 {
		return r, fmt.Errorf("experiment: Instances = %d, want ≥ 1 (0 means 3)", r.Instances)
	}
	if r.Instances == 0 {
		r.Instances = 3
	}
	// A misspelt nuisance is reported before any training, not after the runs of the
	// nuisances listed before it (hours, at the paper's settings).
	for _, name := range r.Transforms {
		if _, err := r.transform(name); err != nil {
			return r, err
		}
	}
	// eKLD refuses negative counts, but only after the first run has trained.
	for _, f := range []struct {
		name string
		v    int
	}{{"Images", r.EKLD.Images}, {"Transforms", r.EKLD.Transforms}, {"BatchSize", r.EKLD.BatchSize}, {"Workers", r.EKLD.Workers}} {
		if f.v < 0 {
			return r, fmt.Errorf("experiment: EKLD.%s = %d, want ≥ 1 (0 means the default)", f.name, f.v)
		}
	}
	if r.EKLD.Images == 0 {
		r.EKLD.Images = 40
	}
	if r.EKLD.Transforms == 0 {
		r.EKLD.Transforms = 20
	}
	if r.Trainer == nil {
		return r, fmt.Errorf("experiment: Config.Trainer is nil: set it to experiment.SmallCNNTrainer(arch, trainConfig), a trainer of your own, or start from experiment.FlagshipFinding().Config(resultsPath)")
	}
	// Likewise a misspelt method: the train-backed trainers reject it only when its
	// turn comes, after the methods listed before it have trained.
	if err := checkMethods(r.Trainer, r.Methods); err != nil {
		return r, err
	}
	return r, nil
}

func (c *Config) transform(name string) (nuisance.Transform, error) {
	if t, ok := c.Custom[name]; ok {
		return t, nil
	}
	t, err := nuisance.ByName(name)
	if err != nil && len(c.Custom) > 0 {
		custom := make([]string, 0, len(c.Custom))
		for k := range c.Custom {
			custom = append(custom, fmt.Sprintf("%q", k))
		}
		sort.Strings(custom)
		return nil, fmt.Errorf("experiment: %w, or a key of Custom (%s)", err, strings.Join(custom, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	return t, nil
}

// Keys returns the runs of the experiment in the order Run does them: by transform,
// then instance, then method (the methods of an instance share its split).
func (c *Config) Keys() []RunKey {
	cfg := *c
	if len(cfg.Transforms) == 0 {
		cfg.Transforms = []string{"rotation", "background", "dilation"}
	}
	if len(cfg.Methods) == 0 {
		cfg.Methods = []string{"ERM", "DRS"}
	}
	if cfg.Instances <= 0 {
		cfg.Instances = 3
	}
	var keys []RunKey
	for _, t := range cfg.Transforms {
		for i := 0; i < cfg.Instances; i++ {
			for _, m := range cfg.Methods {
				keys = append(keys, RunKey{t, m, i})
			}
		}
	}
	return keys
}

type progressBar interface {
	Update(int, string)
	Done()
}

type nopBar struct{}

func (nopBar) Update(int, string) {}
func (nopBar) Done()              {}

// Run runs every (transform, instance, method) of cfg that the results file does not
// already hold, appending each finished run to it. It returns all rows, the resumed
// ones first. If ctx is cancelled it stops inside the current run (which is not
// saved) and returns the finished runs with Complete false and ctx's error; calling
// Run again with the same ResultsPath continues from there.
func Run(ctx context.Context, c Config) (*Results, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	k := cfg.Train.NumClasses()
	res := &Results{}
	var st *store
	done := map[RunKey]bool{}
	if cfg.ResultsPath != "" {
		st, err = openStore(cfg.ResultsPath, meta(&cfg), k)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, st.rows...)
		for _, r := range st.rows {
			done[RunKey{r.Transform, r.Method, r.Instance}] = true
		}
	}
	keys := cfg.Keys()
	total := len(keys)
	finished := 0
	for _, key := range keys {
		if done[key] {
			finished++
		}
	}
	res.Skipped = finished
	var bar progressBar = nopBar{}
	if !cfg.Quiet {
		bar = display.NewProgress("experiment", total)
	}
	defer bar.Done()
	if finished > 0 {
		bar.Update(finished, fmt.Sprintf("%d finished runs resumed from %s", finished, cfg.ResultsPath))
	}
	stop := func(err error) (*Results, error) {
		res.Complete = false
		return res, err
	}

	for _, tname := range cfg.Transforms {
		t, err := cfg.transform(tname)
		if err != nil {
			return stop(err)
		}
		for inst := 0; inst < cfg.Instances; inst++ {
			var pending []string
			for _, m := range cfg.Methods {
				if !done[RunKey{tname, m, inst}] {
					pending = append(pending, m)
				}
			}
			if len(pending) == 0 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return stop(err)
			}
			bar.Update(finished, fmt.Sprintf("%s #%d: building the split", tname, inst))
			split, err := longtail.NewSplit(cfg.Train, cfg.Test, cfg.Profile, longtail.Options{
				Instance: inst, Seed: cfg.Seed, Transform: t, Context: ctx,
			})
			if err != nil {
				if ctx.Err() != nil {
					return stop(ctx.Err())
				}
				return stop(fmt.Errorf("experiment: split for %s instance %d: %w", tname, inst, err))
			}
			testSet := split.Test
			if cfg.TestPerClass > 0 {
				testSet = testSet.PerClass(cfg.TestPerClass)
			}
			for _, m := range pending {
				key := RunKey{tname, m, inst}
				rows, info, err := runOne(ctx, &cfg, key, split, testSet, t, func(stage string) {
					bar.Update(finished, fmt.Sprintf("%s: %s", key, stage))
				})
				if err != nil {
					return stop(err)
				}
				if st != nil {
					if err := st.append(rows, info); err != nil {
						return stop(err)
					}
				}
				res.Rows = append(res.Rows, rows...)
				res.Runs = append(res.Runs, info)
				finished++
				line := fmt.Sprintf("%s done: train %.1fs, eKLD %.1fs, balanced acc %.1f%%, mean eKLD %.4f",
					key, info.TrainSeconds, info.EKLDSeconds, 100*info.BalancedAccuracy, info.MeanEKLD)
				bar.Update(finished, line)
				if cfg.Log != nil {
					cfg.Log(line)
				}
			}
			// The split's datasets are large; let them go before the next one.
			split, testSet = nil, nil
			runtime.GC()
		}
	}
	res.Complete = true
	return res, nil
}

// runOne trains and measures one run.
func runOne(ctx context.Context, cfg *Config, key RunKey, split *longtail.Split, testSet *dataset.Dataset, t nuisance.Transform, stage func(string)) ([]Row, RunInfo, error) {
	info := RunInfo{RunKey: key}
	trainSeed := seed.Mix(cfg.Seed, int64(key.Instance), 0x747261696e)
	stage("training")
	t0 := time.Now()
	model, err := cfg.Trainer(ctx, key.Method, split, trainSeed)
	info.TrainSeconds = time.Since(t0).Seconds()
	if err != nil {
		if ctx.Err() != nil {
			return nil, info, ctx.Err()
		}
		return nil, info, fmt.Errorf("experiment: train %s: %w", key, err)
	}
	if model == nil {
		return nil, info, fmt.Errorf("experiment: train %s: the trainer returned no model", key)
	}
	if err := ctx.Err(); err != nil {
		return nil, info, err
	}

	stage("test accuracy")
	t0 = time.Now()
	rep, err := evaluate.Evaluate(ctx, model, testSet, &evaluate.Options{Quiet: !cfg.Verbose, Label: key.String() + " test"})
	info.EvalSeconds = time.Since(t0).Seconds()
	if err != nil {
		if ctx.Err() != nil {
			return nil, info, ctx.Err()
		}
		return nil, info, fmt.Errorf("experiment: evaluate %s: %w", key, err)
	}
	info.Accuracy, info.BalancedAccuracy = rep.Accuracy, rep.BalancedAccuracy

	stage("eKLD")
	t0 = time.Now()
	eo := cfg.EKLD
	eo.Seed = seed.Mix(cfg.Seed, int64(key.Instance), 0x656b6c64)
	eo.Classes = nil
	eo.TrainSizes = split.Counts
	eo.Quiet = !cfg.Verbose
	eo.Label = key.String() + " eKLD"
	tab, err := invariance.EKLD(ctx, model, split.RawTest, t, &eo)
	info.EKLDSeconds = time.Since(t0).Seconds()
	if err != nil {
		if ctx.Err() != nil {
			return nil, info, ctx.Err()
		}
		return nil, info, fmt.Errorf("experiment: eKLD %s: %w", key, err)
	}
	info.MeanEKLD = tab.MeanEKLD()
	info.Finished = time.Now().UTC()

	rows := make([]Row, 0, len(tab.Rows))
	for _, r := range tab.Rows {
		rows = append(rows, Row{
			Transform: key.Transform, Method: key.Method, Instance: key.Instance,
			Class: r.Class, TrainSize: split.Counts[r.Class],
			EKLD: r.EKLD, Consistency: r.Consistency, TestAccuracy: rep.PerClass[r.Class],
		})
	}
	return rows, info, nil
}
