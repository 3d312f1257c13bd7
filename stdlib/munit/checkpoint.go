package munit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"

	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/safetensors"
)

// Checkpoints are safetensors files (huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and
// byte range, then the raw little-endian data. Generator weights are stored under
// "gen.<layer>", discriminator weights under "dis.<layer>", Adam moments under
// "adam.m.<tensor>" and "adam.v.<tensor>"; the header's __metadata__ holds the
// configuration, the completed step count and the loss history as JSON strings.
// Conv weights have shape Cout×kh×kw×Cin (channels last, the layout of this package's
// first implementation, which the committed pretrained files use); the graphs compute
// with PyTorch's Cout×Cin×kh×kw, so weights and Adam moments are transposed on
// writing and reading (param.toFile, param.fromFile).
//
// Reading and writing go through package safetensors.

type stEntry struct {
	name  string
	shape []int
	data  []float32
}

func writeSafetensors(path string, entries []stEntry, meta map[string]string) error {
	f := &safetensors.File{Metadata: meta}
	for _, e := range entries {
		f.Add(safetensors.F32(e.name, e.shape, e.data))
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("munit: write %s: %w", path, err)
		}
	}
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("munit: %w", err)
	}
	return nil
}

func readSafetensors(r io.Reader, name string) (map[string]stEntry, map[string]string, error) {
	f, err := safetensors.Decode(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	out := map[string]stEntry{}
	for _, t := range f.Tensors {
		d, err := t.Float32()
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		out[t.Name] = stEntry{name: t.Name, shape: t.Shape, data: d}
	}
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	return out, f.Metadata, nil
}

// archJSON is the part of Config a checkpoint needs to rebuild the networks.
type archJSON struct {
	Channels, ImageSize, Width, ResBlocks, Downsample, StyleDownsample int
	MLPWidth, StyleDim, DisWidth, DisLayers                            int
	Seed                                                               int64
}

func archOf(c Config) archJSON {
	return archJSON{c.Channels, c.ImageSize, c.Width, c.ResBlocks, c.Downsample, c.StyleDownsample,
		c.MLPWidth, c.StyleDim, c.DisWidth, c.DisLayers, c.Seed}
}

func (a archJSON) config() Config {
	return Config{Channels: a.Channels, ImageSize: a.ImageSize, Width: a.Width, ResBlocks: a.ResBlocks,
		Downsample: a.Downsample, StyleDownsample: a.StyleDownsample, MLPWidth: a.MLPWidth, StyleDim: a.StyleDim,
		DisWidth: a.DisWidth, DisLayers: a.DisLayers, Seed: a.Seed}
}

func entries(prefix string, ps *paramSet, adam bool) []stEntry {
	var es []stEntry
	for _, p := range ps.list {
		es = append(es, stEntry{prefix + p.name, p.file, p.toFile(p.w)})
		if adam {
			es = append(es, stEntry{"adam.m." + prefix + p.name, p.file, p.toFile(p.m)}, stEntry{"adam.v." + prefix + p.name, p.file, p.toFile(p.v)})
		}
	}
	return es
}

func restore(prefix string, ps *paramSet, ts map[string]stEntry, adam bool, name string) error {
	for _, p := range ps.list {
		load := func(key string, dst []float32) error {
			e, ok := ts[key]
			if !ok {
				return fmt.Errorf("read %s: tensor %s missing", name, key)
			}
			if len(e.data) != len(dst) {
				return fmt.Errorf("read %s: tensor %s has %d values, the model needs %d", name, key, len(e.data), len(dst))
			}
			p.fromFile(dst, e.data)
			return nil
		}
		if err := load(prefix+p.name, p.w); err != nil {
			return err
		}
		if adam {
			if err := load("adam.m."+prefix+p.name, p.m); err != nil {
				return err
			}
			if err := load("adam.v."+prefix+p.name, p.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Save writes the generator's weights (no discriminator, no optimiser state) to a
// safetensors file: the form of the ready-made generators.
func (g *Generator) Save(path string) error {
	aj, _ := json.Marshal(archOf(g.cfg))
	return writeSafetensors(path, entries("gen.", &g.net.ps, false), map[string]string{
		"format": "goinv-munit-generator", "config": string(aj)})
}

// save writes a full training checkpoint.
func (t *trainer) save(path string) error {
	aj, _ := json.Marshal(archOf(t.cfg))
	hj, err := json.Marshal(t.hist)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	es := append(entries("gen.", &t.gen.net.ps, true), entries("dis.", &t.dis.ps, true)...)
	return writeSafetensors(path, es, map[string]string{
		"format": "goinv-munit-checkpoint", "config": string(aj), "step": strconv.Itoa(t.step), "history": string(hj)})
}

type checkpoint struct {
	gen  *Generator
	dis  *Discriminator // nil for a generator-only file
	step int
	hist *History
}

func loadCheckpoint(path string) (*checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("munit: %w", err)
	}
	defer f.Close()
	return decodeCheckpoint(f, path)
}

func decodeCheckpoint(r io.Reader, name string) (*checkpoint, error) {
	ts, meta, err := readSafetensors(r, name)
	if err != nil {
		return nil, fmt.Errorf("munit: %w", err)
	}
	var aj archJSON
	if _, ok := meta["config"]; !ok {
		what := "it has no generator configuration in its metadata"
		if _, ok := meta[nn.MetaArch]; ok {
			what = "it is a classifier checkpoint: load it with nn.Load"
		}
		return nil, fmt.Errorf("munit: read %s: not a MUNIT generator: %s", name, what)
	}
	if err := json.Unmarshal([]byte(meta["config"]), &aj); err != nil {
		return nil, fmt.Errorf("munit: read %s: no generator configuration in the metadata: %w", name, err)
	}
	gen, err := NewGenerator(aj.config())
	if err != nil {
		return nil, fmt.Errorf("munit: read %s: %w", name, err)
	}
	full := meta["format"] == "goinv-munit-checkpoint"
	if err := restore("gen.", &gen.net.ps, ts, full, name); err != nil {
		return nil, fmt.Errorf("munit: %w", err)
	}
	ck := &checkpoint{gen: gen, hist: &History{}}
	if !full {
		return ck, nil
	}
	ck.dis = newDiscriminator(gen.cfg, rand.New(rand.NewSource(0)))
	if err := restore("dis.", &ck.dis.ps, ts, true, name); err != nil {
		return nil, fmt.Errorf("munit: %w", err)
	}
	if ck.step, err = strconv.Atoi(meta["step"]); err != nil {
		return nil, fmt.Errorf("munit: read %s: step: %w", name, err)
	}
	if err := json.Unmarshal([]byte(meta["history"]), ck.hist); err != nil {
		return nil, fmt.Errorf("munit: read %s: history: %w", name, err)
	}
	ck.hist.truncate(ck.step)
	ck.hist.Interrupted = false
	return ck, nil
}

// Load reads a generator from a safetensors file written by Save or by Train's
// checkpoints.
func Load(path string) (*Generator, error) {
	ck, err := loadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return ck.gen, nil
}

// LoadReader is Load for any reader (an embedded file, a download); name is used in
// error messages.
func LoadReader(r io.Reader, name string) (*Generator, error) {
	ck, err := decodeCheckpoint(r, name)
	if err != nil {
		return nil, err
	}
	return ck.gen, nil
}

var errNoGenerator = errors.New("munit: the generator is nil: train one (munit.Train), load one (munit.Load) or take a pretrained one (munit.Pretrained)")
