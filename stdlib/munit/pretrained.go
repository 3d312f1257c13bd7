package munit

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// The ready-made generators: MUNIT trained on MNIST-LT (exponential profile, n_max
// 2000, ρ = 100, instance 0, seed 0) with one nuisance baked into the training
// images. pretrained/README.md gives the command that reproduces each file.
//
//go:embed pretrained/*.safetensors
var pretrainedFS embed.FS

// PretrainedNames lists the nuisances with a ready-made generator.
func PretrainedNames() []string {
	ents, _ := fs.ReadDir(pretrainedFS, "pretrained")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "mnist-lt-"); ok && strings.HasSuffix(n, ".safetensors") {
			names = append(names, strings.TrimSuffix(n, ".safetensors"))
		}
	}
	sort.Strings(names)
	return names
}

// Pretrained returns the ready-made MNIST-LT generator of a nuisance: "background"
// or "dilation" (PretrainedNames lists them), so a notebook can use GIT without
// training a generator first.
func Pretrained(nuisance string) (*Generator, error) {
	switch nuisance {
	case "bg":
		nuisance = "background"
	case "dilation/erosion", "dilate_erode", "thickness", "erosion":
		nuisance = "dilation"
	}
	path := "pretrained/mnist-lt-" + nuisance + ".safetensors"
	f, err := pretrainedFS.Open(path)
	if err != nil {
		return nil, fmt.Errorf("munit: no pretrained generator for %q (have %s)", nuisance, strings.Join(PretrainedNames(), ", "))
	}
	defer f.Close()
	return LoadReader(f, path)
}
