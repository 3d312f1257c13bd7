package main

import (
	_ "embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/goinv/goinv/stdlib/munit"
)

//go:embed munit_bench.py
var torchScript []byte

// bench prints one MUNIT training iteration (D + G update) at width 16 with batch 1
// and batch 32, in Go (this package) and in PyTorch (the same architecture and work,
// munit_bench.py, Debian python3-torch on the CPU). -batches and -threads choose the
// settings; -cpuprofile profiles each setting's goinv run (GOINV_NN_PROFILE_OPS=1 labels
// the samples by op). Each side prints its median and its fastest iteration (on a
// shared machine the fastest is the least disturbed by other work).
func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	iters1 := fs.Int("iters1", 30, "timed iterations at batch 1")
	iters32 := fs.Int("iters32", 5, "timed iterations at batch 32")
	python := fs.String("python", "/usr/bin/python3", "python with torch; empty to skip PyTorch")
	batches := fs.String("batches", "1,32", "comma-separated batch sizes")
	threads := fs.String("threads", "1,2", "comma-separated thread counts")
	cpuprof := fs.String("cpuprofile", "", "write a CPU profile of goinv's iterations (warm-up included) at batch B with T threads to FILE.bBtT")
	fs.Parse(args)
	bs, err := intList(*batches)
	if err != nil {
		return fmt.Errorf("bench: -batches: %w", err)
	}
	ths, err := intList(*threads)
	if err != nil {
		return fmt.Errorf("bench: -threads: %w", err)
	}
	gen, _ := munit.NewGenerator(munit.Config{})
	fmt.Printf("MUNIT width 16, 2 res blocks, MLP 256, style 8: generator %d parameters; BLAS %s; GOMAXPROCS %d\n",
		gen.NumParams(), munit.BLAS(), runtime.GOMAXPROCS(0))
	script := ""
	if *python != "" {
		dir, err := os.MkdirTemp("", "munit-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		script = filepath.Join(dir, "munit_bench.py")
		if err := os.WriteFile(script, torchScript, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("%-6s %-8s %14s %14s %14s %14s\n", "batch", "threads", "goinv ms/iter", "torch ms/iter", "goinv fastest", "torch fastest")
	type setting struct{ batch, threads, iters int }
	var settings []setting
	for _, b := range bs {
		it := *iters32
		if b == 1 {
			it = *iters1
		}
		for _, t := range ths {
			settings = append(settings, setting{b, t, it})
		}
	}
	for _, c := range settings {
		prev := runtime.GOMAXPROCS(c.threads)
		munit.Threads = c.threads
		stop, err := startProfile(*cpuprof, c.batch, c.threads)
		if err != nil {
			return err
		}
		ts, err := munit.IterationTimes(munit.Config{BatchSize: c.batch}, c.iters)
		stop()
		runtime.GOMAXPROCS(prev)
		munit.Threads = 0
		if err != nil {
			return err
		}
		torch, torchFast := "-", "-"
		if script != "" {
			out, err := exec.Command(*python, script, fmt.Sprint(c.batch), fmt.Sprint(c.threads), fmt.Sprint(c.iters)).Output()
			if err != nil {
				torch = "error: " + err.Error()
			} else {
				f := strings.Fields(string(out))
				torch = f[0]
				if len(f) > 4 {
					torchFast = f[4]
				}
				if c == settings[0] {
					defer fmt.Printf("PyTorch %s: generator %s parameters, discriminator %s\n", f[3], f[1], f[2])
				}
			}
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		fmt.Printf("%-6d %-8d %14.1f %14s %14.1f %14s\n", c.batch, c.threads, ms(ts[len(ts)/2]), torch, ms(ts[0]), torchFast)
	}
	return nil
}

// intList parses a comma-separated list of positive integers.
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// startProfile starts a CPU profile written to path.bBtT (nothing when path is empty)
// and returns the function that ends it.
func startProfile(path string, batch, threads int) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(fmt.Sprintf("%s.b%dt%d", path, batch, threads))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
