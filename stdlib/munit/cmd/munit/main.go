// Command munit trains, checks and benchmarks the MUNIT generator of package munit on
// MNIST-LT (the experiment package's default split: exponential profile, n_max 2000,
// ρ = 100, one fixed nuisance draw per training image).
//
//	munit train -nuisance background -steps 4000 -batch 4 -out stdlib/munit/pretrained/mnist-lt-background.safetensors
//	munit check -nuisance background -gen stdlib/munit/pretrained/mnist-lt-background.safetensors
//	munit git -nuisances background,dilation -seeds 3 -out notebooks/results/git.csv
//	munit bench
//	munit grid -gen FILE -nuisance background -out grid.png
package main

import (
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/signal"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/munit"
	"github.com/goinv/goinv/stdlib/nuisance"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: munit train|check|git|bench|grid [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "train":
		err = trainCmd(ctx, os.Args[2:])
	case "check":
		err = check(ctx, os.Args[2:])
	case "git":
		err = gitExperiment(ctx, os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	case "grid":
		err = gridCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "munit:", err)
		os.Exit(1)
	}
}

// mnistLT returns the MNIST-LT split with the nuisance baked in.
func mnistLT(name string, instance int, seed int64) (*longtail.Split, error) {
	t, err := nuisance.ByName(name)
	if err != nil {
		return nil, err
	}
	return longtail.MNIST(longtail.Exponential(2000, 100), longtail.Options{Instance: instance, Seed: seed, Transform: t})
}

func trainCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("train", flag.ExitOnError)
	name := fs.String("nuisance", "background", "nuisance baked into MNIST-LT")
	steps := fs.Int("steps", 4000, "iterations")
	batch := fs.Int("batch", 4, "batch size")
	width := fs.Int("width", 16, "generator width")
	res := fs.Int("res", 2, "residual blocks")
	lr := fs.Float64("lr", 1e-4, "Adam learning rate")
	seed := fs.Int64("seed", 0, "seed of the split and of the training")
	out := fs.String("out", "", "generator file (weights only) to write")
	ckpt := fs.String("checkpoint", "", "training checkpoint (resumable) to write every 500 steps")
	resume := fs.String("resume", "", "training checkpoint to resume")
	grid := fs.String("grid", "", "PNG file for a variants grid of the trained generator")
	fs.Parse(args)
	split, err := mnistLT(*name, 0, *seed)
	if err != nil {
		return err
	}
	fmt.Printf("MNIST-LT %s: %d training images, class sizes %v\n", *name, split.Train.Len(), split.Counts)
	cfg := munit.Config{Width: *width, ResBlocks: *res, Steps: *steps, BatchSize: *batch, LR: *lr, Seed: *seed,
		CheckpointPath: *ckpt, Resume: *resume, SampleEvery: -1}
	gen, hist, err := munit.Train(ctx, split.Train, cfg)
	if hist != nil {
		fmt.Println(hist)
		for i := 0; i < hist.Len(); i += hist.Len() / 10 {
			m := hist.Mean(i, i+hist.Len()/10)
			fmt.Printf("steps %5d–%5d: dis %.3f adv %.3f recon %.4f style %.4f content %.4f\n",
				hist.Step[i], hist.Step[min(i+hist.Len()/10, hist.Len())-1], m[0], m[1], m[2], m[3], m[4])
		}
	}
	if err != nil {
		return err
	}
	fmt.Println(gen)
	if *out != "" {
		if err := gen.Save(*out); err != nil {
			return err
		}
		fmt.Println("wrote", *out)
	}
	if *grid != "" {
		if err := writeGrid(*grid, gen, split.Test, 8); err != nil {
			return err
		}
	}
	return nil
}

// writeGrid saves a variants grid of one test image per class.
func writeGrid(path string, gen *munit.Generator, test *dataset.Dataset, styles int) error {
	seen := map[int]bool{}
	var imgs []dataset.Image
	for i, y := range test.Labels {
		if !seen[y] {
			seen[y] = true
			imgs = append(imgs, test.Image(i))
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := png.Encode(f, gen.VariantsGrid(imgs, styles, 1)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Println("wrote", path)
	return nil
}

// gridCmd writes the variants grid of a generator (or a training checkpoint) for one
// test image per class of MNIST-LT's test set with the nuisance baked in.
func gridCmd(args []string) error {
	fs := flag.NewFlagSet("grid", flag.ExitOnError)
	name := fs.String("nuisance", "background", "nuisance of the test images")
	genPath := fs.String("gen", "", "generator or checkpoint file (default: the pretrained one)")
	styles := fs.Int("styles", 8, "random styles per image")
	out := fs.String("out", "grid.png", "PNG file to write")
	fs.Parse(args)
	var gen *munit.Generator
	var err error
	if *genPath == "" {
		gen, err = munit.Pretrained(*name)
	} else {
		gen, err = munit.Load(*genPath)
	}
	if err != nil {
		return err
	}
	split, err := mnistLT(*name, 0, 0)
	if err != nil {
		return err
	}
	return writeGrid(*out, gen, split.Test, *styles)
}
