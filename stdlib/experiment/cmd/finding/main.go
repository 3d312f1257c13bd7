// Command finding reproduces the paper's central finding on MNIST-LT: for rotation,
// background and dilation/erosion nuisances and for ERM and DRS training, small
// classes are less invariant (higher eKLD) than large ones.
//
//	go run ./stdlib/experiment/cmd/finding            # the flagship settings
//	go run ./stdlib/experiment/cmd/finding -quick     # a smoke test in minutes
//
// Every finished run is appended to the results CSV (default
// notebooks/results/invariance.csv); interrupting (Ctrl-C) and running the command
// again resumes without redoing finished runs (-fresh starts over). At the end it
// prints, per (transform, method), the pooled Spearman ρ(class size, eKLD) and the
// tail/head eKLD ratio, checks them against the targets (ρ ≤ −0.5, ratio ≥ 3) and
// saves one figure per transform beside the CSV.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/goinv/goinv/stdlib/experiment"
	"github.com/goinv/goinv/stdlib/nn"
)

func main() {
	quick := flag.Bool("quick", false, "small smoke-test settings (1 instance, n_max 500, 6 epochs); results go to a temporary file unless -out is given")
	out := flag.String("out", "", "results CSV (default notebooks/results/invariance.csv, or $TMPDIR/goinv-finding-quick.csv with -quick)")
	fresh := flag.Bool("fresh", false, "delete the results file first instead of resuming")
	nmax := flag.Int("nmax", 0, "size of the largest class (0: the settings' default)")
	rho := flag.Float64("rho", 0, "imbalance ratio (0: default 100)")
	epochs := flag.Int("epochs", 0, "training epochs (0: default)")
	lr := flag.Float64("lr", 0, "learning rate (0: default)")
	instances := flag.Int("instances", 0, "long-tail instances (0: default)")
	images := flag.Int("images", 0, "eKLD images per class (0: default)")
	perImage := flag.Int("per-image", 0, "eKLD transforms per image (0: default)")
	testPerClass := flag.Int("test-per-class", -1, "test images per class for accuracy (0: all; -1: default)")
	nuisances := flag.String("transforms", "", "comma-separated nuisances (default rotation,background,dilation)")
	methods := flag.String("methods", "", "comma-separated methods (default ERM,DRS)")
	seed := flag.Int64("seed", 0, "seed of splits, training and eKLD draws")
	verbose := flag.Bool("v", false, "show the progress of every training and measurement")
	report := flag.Bool("report", false, "only summarize the results file (no training), saving the figures")
	flag.Parse()

	f := experiment.FlagshipFinding()
	path := "notebooks/results/invariance.csv"
	if *quick {
		f = experiment.QuickFinding()
		path = filepath.Join(os.TempDir(), "goinv-finding-quick.csv")
	}
	if *out != "" {
		path = *out
	}
	setInt := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	setInt(&f.NMax, *nmax)
	if *epochs > 0 {
		f.SetEpochs(*epochs)
	}
	setInt(&f.Instances, *instances)
	setInt(&f.Images, *images)
	setInt(&f.PerImage, *perImage)
	if *testPerClass >= 0 {
		f.TestPerClass = *testPerClass
	}
	if *rho > 0 {
		f.Rho = *rho
	}
	if *lr > 0 {
		f.Train.LR = *lr
	}
	if *nuisances != "" {
		f.Nuisances = strings.Split(*nuisances, ",")
	}
	if *methods != "" {
		f.Methods = strings.Split(*methods, ",")
	}
	f.Seed = *seed

	if *fresh {
		for _, p := range []string{path, path + ".meta.json", path + ".runs.jsonl"} {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				fatal(err)
			}
		}
	}
	if *report {
		res, err := experiment.Load(path)
		if err != nil {
			fatal(err)
		}
		summarize(res, path)
		return
	}
	fmt.Printf("settings: %s\nBLAS: %s\nresults: %s\n", f, nn.BLAS(), path)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := f.Config(path)
	cfg.Verbose = *verbose
	cfg.Log = func(s string) { fmt.Println(s) }
	start := time.Now()
	res, err := experiment.Run(ctx, cfg)
	wall := time.Since(start)
	if err != nil && res == nil {
		fatal(err)
	}
	fmt.Printf("\n%d runs done now, %d resumed from the file, in %s\n", len(res.Runs), res.Skipped, wall.Round(time.Second))
	if n := len(res.Runs); n > 0 {
		var tr, ev float64
		for _, r := range res.Runs {
			tr += r.TrainSeconds
			ev += r.EvalSeconds + r.EKLDSeconds
		}
		fmt.Printf("per run: training %.1fs, test accuracy + eKLD %.1fs\n", tr/float64(n), ev/float64(n))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stopped: %v\n(run the same command again to resume)\n", err)
	}
	summarize(res, path)
	if err != nil {
		os.Exit(1)
	}
}

// summarize prints the summaries with the targets check and saves one figure per
// transform beside the results file.
func summarize(res *experiment.Results, path string) {
	fmt.Printf("\n%s\n", res.Summaries())
	met := 0
	ss := res.Summaries()
	for _, s := range ss {
		verdict := "MISSED"
		if s.Meets(experiment.TargetSpearman, experiment.TargetRatio) {
			verdict = "met"
			met++
		}
		fmt.Printf("%-11s %-4s Spearman %6.3f (target ≤ %.1f), tail/head %6.2f× (target ≥ %.0f×): %s\n",
			s.Transform, s.Method, s.Spearman, experiment.TargetSpearman, s.TailHeadRatio, experiment.TargetRatio, verdict)
	}
	fmt.Printf("targets met in %d of %d cases\n", met, len(ss))
	base := strings.TrimSuffix(path, filepath.Ext(path))
	for _, t := range res.Transforms() {
		p := fmt.Sprintf("%s_%s.png", base, strings.NewReplacer("/", "-", "+", "-").Replace(t))
		if err := res.Figure(t).Save(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			continue
		}
		fmt.Println("figure:", p)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "finding:", err)
	os.Exit(1)
}
