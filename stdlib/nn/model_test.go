package nn

import (
	"context"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/safetensors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randomBatch(n, c, h, w int, seed int64) dataset.Batch {
	r := rand.New(rand.NewSource(seed))
	b := dataset.Batch{N: n, C: c, H: h, W: w, X: make([]float32, n*c*h*w), Labels: make([]int, n)}
	for i := range b.X {
		b.X[i] = r.Float32()
	}
	return b
}

var tenClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

func TestLogitsBatchingIsConsistent(t *testing.T) {
	m := SmallCNN(Arch{Seed: 3})
	if err := m.Init(1, 12, 12, tenClasses); err != nil {
		t.Fatal(err)
	}
	b := randomBatch(EvalBatch+7, 1, 12, 12, 1) // two chunks, the last one padded to 8
	all, err := m.Logits(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	one := dataset.Batch{N: 1, C: 1, H: 12, W: 12, X: b.X[(EvalBatch+3)*144 : (EvalBatch+4)*144]}
	z, err := m.Logits(context.Background(), one)
	if err != nil {
		t.Fatal(err)
	}
	for j := range z {
		if d := math.Abs(float64(z[j] - all[(EvalBatch+3)*10+j])); d > 1e-5 {
			t.Fatalf("logit %d: alone %g, in batch %g", j, z[j], all[(EvalBatch+3)*10+j])
		}
	}
}

// trainSteps runs a few SGD steps so that weights and batch-norm statistics move.
func trainSteps(t *testing.T, m *Model, b dataset.Batch, steps int) {
	loss := &Loss{Labels: make([]int, b.N)}
	for i := range loss.Labels {
		loss.Labels[i] = i % 10
	}
	gr, err := m.TrainGraph(b.N, loss)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	for s := 0; s < steps; s++ {
		if err := gr.Run(b.X); err != nil {
			t.Fatal(err)
		}
		for i, g := range gr.Grads() {
			w := gr.Params()[i].Data
			for j := range w {
				w[j] -= 0.01 * g[j]
			}
		}
	}
}

func TestCheckpointRoundTripBitIdentical(t *testing.T) {
	dir := t.TempDir()
	for _, m := range []*Model{SmallCNN(Arch{Seed: 1, Hidden: 12}), ResNet20(2)} {
		c, hw := 1, 12
		if m.Arch.Name == "resnet" {
			c, hw = 3, 8
		}
		if err := m.Init(c, hw, hw, tenClasses); err != nil {
			t.Fatal(err)
		}
		b := randomBatch(20, c, hw, hw, 5)
		trainSteps(t, m, b, 3)
		m.Meta = map[string]string{"train_config": `{"method":"ERM"}`}
		path := filepath.Join(dir, m.Arch.Name+".safetensors")
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		l, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if l.Meta["train_config"] != `{"method":"ERM"}` || l.Arch != m.Arch {
			t.Errorf("%s: loaded arch %+v meta %v", m.Arch.Name, l.Arch, l.Meta)
		}
		z1, err := m.Logits(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		z2, err := l.Logits(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range z1 {
			if math.Float32bits(z1[i]) != math.Float32bits(z2[i]) {
				t.Fatalf("%s: logit %d differs after reload: %v vs %v", m.Arch.Name, i, z1[i], z2[i])
			}
		}
	}
}

// TestCheckpointReadableByPython reads a model checkpoint with a numpy reader written
// from the published safetensors format (the python safetensors package is not
// installed here) and checks names, shapes, metadata and values.
func TestCheckpointReadableByPython(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("no /usr/bin/python3 with numpy")
	}
	m := SmallCNN(Arch{Seed: 4})
	if err := m.Init(1, 8, 8, tenClasses); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	script := `
import json, struct, sys
import numpy as np
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
h = json.loads(data[8:8+n]); body = data[8+n:]
meta = h.pop("__metadata__")
arch = json.loads(meta["arch"])
total = 0
for name in sorted(h):
    e = h[name]; lo, hi = e["data_offsets"]
    a = np.frombuffer(body[lo:hi], dtype="<f4").reshape(e["shape"])
    total += a.size
print(arch["name"], json.loads(meta["input"]), len(json.loads(meta["classes"])), total,
      "%.6f" % float(np.frombuffer(body[h["conv1.weight"]["data_offsets"][0]:h["conv1.weight"]["data_offsets"][1]], "<f4").astype(np.float64).sum()))
`
	sp := filepath.Join(dir, "r.py")
	os.WriteFile(sp, []byte(script), 0o644)
	out, err := exec.Command(py, sp, path).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var sum float64
	for _, v := range m.index["conv1.weight"].Data {
		sum += float64(v)
	}
	n := 0
	for _, p := range m.Params() {
		n += len(p.Data)
	}
	want := strings.Join([]string{"smallcnn", "[1, 8, 8]", "10", itoa(n), ftoa(sum)}, " ")
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("python read %q, want %q", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

func TestCustomModel(t *testing.T) {
	calls := 0
	m := Custom("mlp", func(g *gorgonia.ExprGraph, x *gorgonia.Node, k int) (*gorgonia.Node, gorgonia.Nodes, error) {
		calls++
		d := x.Shape()[1] * x.Shape()[2] * x.Shape()[3]
		w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(k, d), gorgonia.WithName("w"),
			gorgonia.WithInit(gorgonia.GlorotU(1)))
		b := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(k), gorgonia.WithName("b"), gorgonia.WithInit(gorgonia.Zeroes()))
		y, err := Linear(x, w)
		if err != nil {
			return nil, nil, err
		}
		y, err = AddBias(y, b)
		return y, gorgonia.Nodes{w, b}, err
	})
	if err := m.Init(1, 4, 4, tenClasses[:3]); err != nil {
		t.Fatal(err)
	}
	b := randomBatch(6, 1, 4, 4, 9)
	before, _ := m.Logits(context.Background(), b)
	loss := &Loss{Labels: []int{0, 1, 2, 0, 1, 2}}
	gr, err := m.TrainGraph(6, loss)
	if err != nil {
		t.Fatal(err)
	}
	var first, last float32
	for s := 0; s < 50; s++ {
		if err := gr.Run(b.X); err != nil {
			t.Fatal(err)
		}
		if s == 0 {
			first = gr.Loss()
		}
		last = gr.Loss()
		for i, g := range gr.Grads() {
			w := gr.Params()[i].Data
			for j := range w {
				w[j] -= 0.5 * g[j]
			}
		}
	}
	if !(last < first/2) {
		t.Errorf("custom model loss %g → %g: should fall", first, last)
	}
	after, _ := m.Logits(context.Background(), b)
	if after[0] == before[0] {
		t.Error("inference graph does not see the trained weights")
	}
	if calls < 3 {
		t.Errorf("build called %d times", calls)
	}
}

// TestUnknownHeadRejected: a misspelt head used to give a linear head silently.
func TestUnknownHeadRejected(t *testing.T) {
	m := SmallCNN(Arch{Head: "cosin"})
	err := m.Init(1, 8, 8, []string{"a", "b"})
	if err == nil || !strings.Contains(err.Error(), `"cosin"`) {
		t.Fatalf("Init with head %q: err = %v, want an unknown-head error", "cosin", err)
	}
	if m.Initialized() {
		t.Error("model initialised despite the error")
	}
	for _, head := range []string{"", "linear", "cosine"} {
		if err := SmallCNN(Arch{Head: head}).Init(1, 8, 8, []string{"a", "b"}); err != nil {
			t.Errorf("head %q: %v", head, err)
		}
	}
}

// TestLoadWeightsOtherArchitecture: weights of another architecture are refused with
// both architectures named and nn.Load suggested, before the model is initialised; a
// cosine-head (LDAM) checkpoint into a linear-head model of the same shapes used to
// load without an error.
func TestLoadWeightsOtherArchitecture(t *testing.T) {
	dir := t.TempDir()
	save := func(m *Model, name string) string {
		if err := m.Init(1, 8, 8, tenClasses); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	resnet := save(ResNet20(1), "resnet.safetensors")
	cosine := save(SmallCNN(Arch{Seed: 1, Head: "cosine"}), "cosine.safetensors")
	linear := save(SmallCNN(Arch{Seed: 1}), "linear.safetensors")
	for _, tc := range []struct {
		path, want string
	}{
		{resnet, "the checkpoint holds a ResNet-20(width 16), this model is a SmallCNN(16, 32)"},
		{cosine, "the checkpoint holds a SmallCNN(16, 32) with cosine head ×30, this model is a SmallCNN(16, 32)"},
	} {
		m := SmallCNN(Arch{Seed: 2})
		err := m.LoadWeights(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nn.Load") {
			t.Errorf("LoadWeights(%s): err = %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
		if m.Initialized() {
			t.Errorf("LoadWeights(%s) failed but left the model initialised", filepath.Base(tc.path))
		}
	}
	// Another seed is the same architecture.
	if err := SmallCNN(Arch{Seed: 7}).LoadWeights(linear); err != nil {
		t.Errorf("same architecture, other seed: %v", err)
	}
}

// TestLoadOtherKindOfCheckpoint: a generator's file given to Load failed on its missing
// "arch" metadata ("unexpected end of JSON input").
func TestLoadOtherKindOfCheckpoint(t *testing.T) {
	f := &safetensors.File{Metadata: map[string]string{"format": "goinv-munit-generator", "config": "{}"}}
	f.Add(safetensors.F32("gen.w", []int{1}, []float32{1}))
	path := filepath.Join(t.TempDir(), "gen.safetensors")
	if err := safetensors.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "not a classifier checkpoint written by Save: it looks like a MUNIT generator: load it with munit.Load") {
		t.Errorf("Load of a generator: err = %v", err)
	}
}
