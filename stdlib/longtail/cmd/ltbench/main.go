// Command ltbench times the construction of long-tailed MNIST splits with one baked
// nuisance draw per image: the Zipf profile (N1 = 4800, a = 2, floor 5) and the
// exponential profile (n_max = 5000, ρ = 100) over the embedded 60,000-image training
// set, for each of the paper's nuisances. It prints wall-clock and CPU time, so that
// figures measured on a shared machine can be read correctly.
//
//	go run ./stdlib/longtail/cmd/ltbench [-reps 3] [-notest]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nuisance"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	reps := flag.Int("reps", 3, "repetitions per configuration (the best is reported)")
	noTest := flag.Bool("notest", false, "bake the nuisance into the training set only")
	flag.Parse()

	w0, c0 := time.Now(), cpuTime()
	train, test, err := dataset.MNIST()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("GOMAXPROCS %d; MNIST decode (first call): wall %v, cpu %v\n", runtime.GOMAXPROCS(0),
		time.Since(w0).Round(time.Millisecond), (cpuTime() - c0).Round(time.Millisecond))
	w0 = time.Now()
	dataset.MNIST()
	fmt.Printf("MNIST (cached, copied): wall %v\n", time.Since(w0).Round(time.Millisecond))

	profiles := []longtail.Profile{longtail.Zipf(4800, 2, 5), longtail.Exponential(5000, 100)}
	fmt.Printf("%-32s %-12s %7s %7s %10s %10s\n", "profile", "nuisance", "train", "test", "wall", "cpu")
	for _, p := range profiles {
		for _, name := range []string{"none", "rotation", "background", "dilation"} {
			tr, _ := nuisance.ByName(name)
			if name == "none" {
				tr = nil
			}
			var bestW, bestC time.Duration
			var s *longtail.Split
			for r := 0; r < *reps; r++ {
				runtime.GC()
				w, c := time.Now(), cpuTime()
				s, err = longtail.NewSplit(train, test, p, longtail.Options{Seed: 1, Instance: r, Transform: tr, RawTestOnly: *noTest})
				dw, dc := time.Since(w), cpuTime()-c
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				if r == 0 || dw < bestW {
					bestW, bestC = dw, dc
				}
			}
			testN := 0
			if !*noTest && tr != nil {
				testN = s.Test.Len()
			}
			fmt.Printf("%-32v %-12s %7d %7d %10v %10v\n", p, name, s.Train.Len(), testN,
				bestW.Round(100*time.Microsecond), bestC.Round(100*time.Microsecond))
		}
	}
}
