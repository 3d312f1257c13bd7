package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/goinv/goinv/stdlib/evaluate"
	"github.com/goinv/goinv/stdlib/experiment"
	"github.com/goinv/goinv/stdlib/invariance"
	"github.com/goinv/goinv/stdlib/munit"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/train"
)

// gitExperiment compares DRS with DRS+GIT on MNIST-LT (issue 5, "GIT helps the
// tail"). The split is the one the ready-made generators were trained on (instance
// 0, seed 0), so no generator saw a different class balance; the repetitions are
// classifier seeds, stored in the CSV's instance column. Both methods train the same
// number of steps on the same sampler; GIT replaces half of every batch from the DRS
// switch on with generated images from a precomputed bank.
func gitExperiment(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("git", flag.ExitOnError)
	names := fs.String("nuisances", "background,dilation", "comma-separated nuisances")
	seeds := fs.Int("seeds", 3, "classifier seeds")
	epochs := fs.Int("epochs", 12, "classifier epochs")
	deferEpoch := fs.Int("defer", 8, "epoch of the DRS switch (and of GIT's start)")
	bankPer := fs.Int("bank", 400, "generated images per class in the GIT bank")
	images := fs.Int("ekld-images", 40, "eKLD test images per class")
	transforms := fs.Int("ekld-transforms", 20, "eKLD transforms per image")
	out := fs.String("out", "notebooks/results/git.csv", "CSV file to write")
	genPath := fs.String("gen", "", "generator files, {nuisance} replaced by the name; empty: the pretrained ones")
	fs.Parse(args)

	res := &experiment.Results{Complete: true}
	type key struct{ t, m string }
	tail := map[key][][2]float64{} // per seed: mean eKLD, mean accuracy of the 3 smallest classes
	for _, name := range strings.Split(*names, ",") {
		split, err := mnistLT(name, 0, 0)
		if err != nil {
			return err
		}
		var gen *munit.Generator
		if *genPath == "" {
			gen, err = munit.Pretrained(name)
		} else {
			gen, err = munit.Load(strings.ReplaceAll(*genPath, "{nuisance}", name))
		}
		if err != nil {
			return err
		}
		t0 := time.Now()
		bank, err := munit.Bank(ctx, gen, split.Train, *bankPer, 1)
		if err != nil {
			return err
		}
		fmt.Printf("%s: split %v, bank of %d generated images in %.1f s\n", name, split.Counts, bank.Len(), time.Since(t0).Seconds())
		order := make([]int, len(split.Counts))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(i, j int) bool { return split.Counts[order[i]] < split.Counts[order[j]] })
		smallest := order[:3]
		for s := 0; s < *seeds; s++ {
			for _, method := range []string{"DRS", "DRS+GIT"} {
				cfg := train.Config{Method: train.DRS, Epochs: *epochs, BatchSize: 64, LR: 0.05, Seed: int64(s),
					Milestones: []int{*deferEpoch, *epochs - 1}, Factors: []float64{0.1, 0.01}, DeferEpoch: *deferEpoch, Quiet: true}
				if method == "DRS+GIT" {
					cfg.GIT = &train.GIT{Bank: bank}
				}
				model := nn.SmallCNN(nn.Arch{Seed: int64(s)})
				t0 := time.Now()
				if _, err := train.Fit(ctx, model, split.Train, cfg); err != nil {
					return fmt.Errorf("%s %s seed %d: %w", name, method, s, err)
				}
				trainSec := time.Since(t0).Seconds()
				rep, err := evaluate.Evaluate(ctx, model, split.Test, &evaluate.Options{Quiet: true})
				if err != nil {
					return err
				}
				tab, err := invariance.EKLD(ctx, model, split.RawTest, split.Transform, &invariance.Options{
					Images: *images, Transforms: *transforms, Seed: 7, TrainSizes: split.Counts, Quiet: true})
				if err != nil {
					return err
				}
				var ek, acc float64
				for _, r := range tab.Rows {
					res.Rows = append(res.Rows, experiment.Row{Transform: name, Method: method, Instance: s, Class: r.Class,
						TrainSize: split.Counts[r.Class], EKLD: r.EKLD, Consistency: r.Consistency, TestAccuracy: rep.PerClass[r.Class]})
					for _, c := range smallest {
						if r.Class == c {
							ek += r.EKLD / 3
							acc += rep.PerClass[c] / 3
						}
					}
				}
				tail[key{name, method}] = append(tail[key{name, method}], [2]float64{ek, acc})
				fmt.Printf("  %-8s seed %d: train %.0f s, balanced acc %.2f%%, mean eKLD %.4f; 3 smallest classes %v: eKLD %.4f, acc %.2f%%\n",
					method, s, trainSec, 100*rep.BalancedAccuracy, tab.MeanEKLD(), smallest, ek, 100*acc)
				if err := res.SaveCSV(*out); err != nil {
					return err
				}
			}
		}
	}
	fmt.Println("\n3 smallest classes, mean ± sd over seeds:")
	for _, name := range strings.Split(*names, ",") {
		for _, method := range []string{"DRS", "DRS+GIT"} {
			v := tail[key{name, method}]
			e, es := meanSD(v, 0)
			a, as := meanSD(v, 1)
			fmt.Printf("  %-10s %-8s eKLD %.4f ± %.4f   accuracy %.2f%% ± %.2f\n", name, method, e, es, 100*a, 100*as)
		}
	}
	fmt.Println("wrote", *out)
	return nil
}

func meanSD(v [][2]float64, k int) (float64, float64) {
	var m, s float64
	for _, x := range v {
		m += x[k]
	}
	m /= float64(len(v))
	for _, x := range v {
		s += (x[k] - m) * (x[k] - m)
	}
	if len(v) > 1 {
		s /= float64(len(v) - 1)
	}
	return m, math.Sqrt(s)
}
