package main

import (
	_ "embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/goinv/goinv/stdlib/munit"
)

//go:embed munit_bench.py
var torchScript []byte

// bench prints one MUNIT training iteration (D + G update) at width 16 with batch 1
// and batch 32, in Go (this package) and in PyTorch (the same architecture and work,
// munit_bench.py, Debian python3-torch on the CPU).
func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	iters1 := fs.Int("iters1", 30, "timed iterations at batch 1")
	iters32 := fs.Int("iters32", 5, "timed iterations at batch 32")
	python := fs.String("python", "/usr/bin/python3", "python with torch; empty to skip PyTorch")
	fs.Parse(args)
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
	fmt.Printf("%-6s %-8s %14s %14s\n", "batch", "threads", "goinv ms/iter", "torch ms/iter")
	for _, c := range []struct{ batch, threads, iters int }{{1, 1, *iters1}, {1, 2, *iters1}, {32, 1, *iters32}, {32, 2, *iters32}} {
		prev := runtime.GOMAXPROCS(c.threads)
		munit.Threads = c.threads
		d, err := munit.TimeIteration(munit.Config{BatchSize: c.batch}, c.iters)
		runtime.GOMAXPROCS(prev)
		munit.Threads = 0
		if err != nil {
			return err
		}
		torch := "-"
		if script != "" {
			out, err := exec.Command(*python, script, fmt.Sprint(c.batch), fmt.Sprint(c.threads), fmt.Sprint(c.iters)).Output()
			if err != nil {
				torch = "error: " + err.Error()
			} else {
				f := strings.Fields(string(out))
				torch = f[0]
				if c.batch == 1 && c.threads == 1 {
					defer fmt.Printf("PyTorch %s: generator %s parameters, discriminator %s\n", f[3], f[1], f[2])
				}
			}
		}
		fmt.Printf("%-6d %-8d %14.1f %14s\n", c.batch, c.threads, float64(d.Microseconds())/1000, torch)
	}
	return nil
}
