package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"sort"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/evaluate"
	"github.com/goinv/goinv/stdlib/munit"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/nuisance"
	"github.com/goinv/goinv/stdlib/train"
)

// check measures whether a generator learned the nuisance and not the class
// (issue 5): a classifier trained on balanced MNIST carrying the same nuisance
// labels generated variants of LT test images, and the variants' nuisance
// parameter (background intensity, or ink area for dilation/erosion) is measured
// across styles.
func check(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	name := fs.String("nuisance", "background", "nuisance the generator was trained with")
	genPath := fs.String("gen", "", "generator file (default: the pretrained one)")
	perClass := fs.Int("per-class", 100, "source test images per class")
	styles := fs.Int("styles", 10, "random styles per source image")
	trainN := fs.Int("train-per-class", 1200, "balanced MNIST training images per class for the judge classifier")
	epochs := fs.Int("epochs", 4, "judge classifier epochs")
	seed := fs.Int64("seed", 0, "seed")
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
	t, err := nuisance.ByName(*name)
	if err != nil {
		return err
	}
	trainRaw, testRaw, err := dataset.MNIST()
	if err != nil {
		return err
	}
	// The judge: SmallCNN on balanced MNIST with the nuisance baked in.
	bal, err := nuisance.ApplyBaked(trainRaw.Shuffle(*seed).PerClass(*trainN), t, *seed+1)
	if err != nil {
		return err
	}
	testT, err := nuisance.ApplyBaked(testRaw, t, *seed+2)
	if err != nil {
		return err
	}
	judge := nn.SmallCNN(nn.Arch{Seed: *seed})
	res, err := train.Fit(ctx, judge, bal, train.Config{Epochs: *epochs, BatchSize: 64, LR: 0.05, Schedule: "constant", Seed: *seed, Quiet: true})
	if err != nil {
		return err
	}
	rep, err := evaluate.Evaluate(ctx, judge, testT, &evaluate.Options{Quiet: true})
	if err != nil {
		return err
	}
	fmt.Printf("judge: SmallCNN, %d balanced %s MNIST images, %d epochs (%.0f s): test accuracy %.2f%%\n",
		bal.Len(), *name, *epochs, res.Seconds, 100*rep.Accuracy)

	// Sources: transformed test images (never seen by the generator), perClass per class.
	src := testT.Shuffle(*seed + 3).PerClass(*perClass)
	rng := rand.New(rand.NewSource(*seed + 4))
	var imgs []dataset.Image
	var labels []int
	var styleCodes [][]float32
	for i := 0; i < src.Len(); i++ {
		for k := 0; k < *styles; k++ {
			imgs = append(imgs, src.Image(i))
			labels = append(labels, src.Labels[i])
			styleCodes = append(styleCodes, gen.RandomStyle(rng))
		}
	}
	variants := gen.TransformAll(imgs, styleCodes)
	vds := &dataset.Dataset{Name: "variants", C: 1, H: 28, W: 28, Labels: labels, Classes: testT.Classes}
	for _, v := range variants {
		vds.Pix = append(vds.Pix, v.Pix...)
	}
	srcRep, err := evaluate.Evaluate(ctx, judge, src, &evaluate.Options{Quiet: true})
	if err != nil {
		return err
	}
	vRep, err := evaluate.Evaluate(ctx, judge, vds, &evaluate.Options{Quiet: true})
	if err != nil {
		return err
	}
	fmt.Printf("variants: %d (%d sources × %d styles); judge assigns %.2f%% to the source class (the sources themselves: %.2f%%)\n",
		vds.Len(), src.Len(), *styles, 100*vRep.Accuracy, 100*srcRep.Accuracy)
	fmt.Printf("per class: ")
	for c, a := range vRep.PerClass {
		fmt.Printf("%d %.1f%%  ", c, 100*a)
	}
	fmt.Println()

	// The nuisance parameter of every variant and of every source.
	measure := background
	what := "background intensity (median pixel)"
	isInk := *name != "background" && *name != "bg"
	if isInk {
		measure = inkArea
		what = "ink area (pixels > 127)"
	}
	var all []float64
	var perSourceSpread []float64
	for i := 0; i < src.Len(); i++ {
		var vals []float64
		for k := 0; k < *styles; k++ {
			v := measure(variants[i**styles+k])
			vals = append(vals, v)
			all = append(all, v)
		}
		sort.Float64s(vals)
		perSourceSpread = append(perSourceSpread, vals[len(vals)-1]-vals[0])
	}
	var srcVals []float64
	for i := 0; i < src.Len(); i++ {
		srcVals = append(srcVals, measure(src.Image(i)))
	}
	q := func(v []float64, p float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return s[int(p*float64(len(s)-1))]
	}
	fmt.Printf("%s of the variants: min %.1f, 5%% %.1f, median %.1f, 95%% %.1f, max %.1f\n", what,
		q(all, 0), q(all, 0.05), q(all, 0.5), q(all, 0.95), q(all, 1))
	fmt.Printf("%s of the real nuisance (the sources): min %.1f, 5%% %.1f, median %.1f, 95%% %.1f, max %.1f\n", what,
		q(srcVals, 0), q(srcVals, 0.05), q(srcVals, 0.5), q(srcVals, 0.95), q(srcVals, 1))
	fmt.Printf("spread across the %d styles of one source (max − min): median %.1f, mean %.1f\n", *styles,
		q(perSourceSpread, 0.5), mean(perSourceSpread))
	if isInk {
		// Relative: the ratio of the thickest to the thinnest variant of a source,
		// beside the same ratio for the real nuisance applied to the raw source.
		var gr, rr []float64
		for i := 0; i < src.Len(); i++ {
			var vals []float64
			for k := 0; k < *styles; k++ {
				vals = append(vals, inkArea(variants[i**styles+k]))
			}
			sort.Float64s(vals)
			gr = append(gr, vals[len(vals)-1]/max(vals[0], 1))
		}
		rawSrc := testRaw.Shuffle(*seed + 3).PerClass(*perClass)
		for i := 0; i < rawSrc.Len(); i++ {
			var vals []float64
			for k := 0; k < *styles; k++ {
				vals = append(vals, inkArea(t.Apply(rawSrc.Image(i), rng)))
			}
			sort.Float64s(vals)
			rr = append(rr, vals[len(vals)-1]/max(vals[0], 1))
		}
		fmt.Printf("thickest/thinnest ink area over %d styles of one source: generated median %.2f×, real nuisance median %.2f×\n",
			*styles, q(gr, 0.5), q(rr, 0.5))
	}
	return nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// background estimates the background intensity as the median pixel: digits cover
// well under half of an MNIST image.
func background(img dataset.Image) float64 {
	p := append([]uint8(nil), img.Pix...)
	sort.Slice(p, func(i, j int) bool { return p[i] < p[j] })
	return float64(p[len(p)/2])
}

// inkArea counts bright (stroke) pixels: dilation grows it, erosion shrinks it.
func inkArea(img dataset.Image) float64 {
	n := 0
	for _, v := range img.Pix {
		if v > 127 {
			n++
		}
	}
	return float64(n)
}
