package nn

import (
	"encoding/json"
	"fmt"

	"github.com/goinv/goinv/stdlib/safetensors"
)

// Checkpoint metadata keys written by Save.
const (
	MetaFormat  = "format"  // "goinv-nn/1"
	MetaArch    = "arch"    // JSON of Arch
	MetaClasses = "classes" // JSON array of class names
	MetaInput   = "input"   // JSON [C, H, W]
)

const checkpointFormat = "goinv-nn/1"

// Save writes the model's tensors (weights and batch-norm running statistics, named
// like PyTorch's state_dict) and its description to a safetensors file at path. The
// metadata holds the architecture, classes and input shape as JSON strings, plus
// every entry of m.Meta (train.Fit records its configuration under "train_config").
func (m *Model) Save(path string) error {
	f, err := m.Checkpoint()
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, f)
}

// Checkpoint returns the safetensors content Save writes.
func (m *Model) Checkpoint() (*safetensors.File, error) {
	if !m.ready {
		return nil, fmt.Errorf("nn: save %s: model not initialised", m.Arch.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	arch, _ := json.Marshal(m.Arch)
	classes, _ := json.Marshal(m.Classes)
	input, _ := json.Marshal([]int{m.C, m.H, m.W})
	f := &safetensors.File{Metadata: map[string]string{}}
	for k, v := range m.Meta {
		f.Metadata[k] = v
	}
	f.Metadata[MetaFormat] = checkpointFormat
	f.Metadata[MetaArch] = string(arch)
	f.Metadata[MetaClasses] = string(classes)
	f.Metadata[MetaInput] = string(input)
	for _, p := range m.params {
		f.Add(safetensors.F32(p.Name, p.Shape, p.Data))
	}
	return f, nil
}

// Load reads a checkpoint written by Save and rebuilds the model: built-in
// architectures only (for a Custom model, build it again and call LoadWeights).
func Load(path string) (*Model, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a Arch
	if _, ok := f.Metadata[MetaArch]; !ok {
		what := "its metadata has no " + MetaArch
		if _, ok := f.Metadata["config"]; ok {
			what = "it looks like a MUNIT generator: load it with munit.Load"
		}
		return nil, fmt.Errorf("nn: load %s: not a classifier checkpoint written by Save: %s", path, what)
	}
	if err := json.Unmarshal([]byte(f.Metadata[MetaArch]), &a); err != nil {
		return nil, fmt.Errorf("nn: load %s: metadata %q: %w", path, MetaArch, err)
	}
	var m *Model
	switch a.Name {
	case "smallcnn":
		m = SmallCNN(a)
	case "resnet":
		if m, err = ResNet(a); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("nn: load %s: architecture %q is not built in; build it with Custom and call LoadWeights", path, a.Name)
	}
	m.Arch = a
	if err := m.loadFile(f); err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	return m, nil
}

// LoadWeights reads the checkpoint at path into m, which must have the same
// architecture. An uninitialised m is initialised from the checkpoint's input shape and
// classes.
func (m *Model) LoadWeights(path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	if err := m.loadFile(f); err != nil {
		return fmt.Errorf("nn: load %s: %w", path, err)
	}
	return nil
}

func (m *Model) loadFile(f *safetensors.File) error {
	var classes []string
	var input []int
	if err := json.Unmarshal([]byte(f.Metadata[MetaClasses]), &classes); err != nil {
		return fmt.Errorf("metadata %q: %w", MetaClasses, err)
	}
	if err := json.Unmarshal([]byte(f.Metadata[MetaInput]), &input); err != nil || len(input) != 3 {
		return fmt.Errorf("metadata %q: want [C, H, W], got %q", MetaInput, f.Metadata[MetaInput])
	}
	// Compare architectures before Init: loading a ResNet's checkpoint into a SmallCNN
	// used to fail on the first missing tensor ("tensor not found: conv1.bias"), and an
	// LDAM (cosine-head) checkpoint loaded into a linear-head model of the same shapes
	// without an error, giving logits on another scale.
	var ck Arch
	if err := json.Unmarshal([]byte(f.Metadata[MetaArch]), &ck); err == nil && !sameArch(ck, m.Arch) {
		return fmt.Errorf("the checkpoint holds a %s, this model is a %s: nn.Load(path) rebuilds the checkpoint's model",
			(&Model{Arch: ck}).describe(), m.describe())
	}
	if err := m.Init(input[0], input[1], input[2], classes); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.params {
		d, shape, err := f.Float32Of(p.Name)
		if err != nil {
			return err
		}
		if !sameShape(shape, p.Shape) {
			return fmt.Errorf("tensor %s has shape %v, model expects %v", p.Name, shape, p.Shape)
		}
		copy(p.Data, d)
	}
	m.Meta = map[string]string{}
	for k, v := range f.Metadata {
		switch k {
		case MetaFormat, MetaArch, MetaClasses, MetaInput:
		default:
			m.Meta[k] = v
		}
	}
	return nil
}

// sameArch reports whether a and b build the same network: the seed only chose the
// initial weights, and a head's scale matters only for a cosine head.
func sameArch(a, b Arch) bool {
	a.Seed, b.Seed = 0, 0
	if a.Head != "cosine" {
		a.CosineScale = 0
	}
	if b.Head != "cosine" {
		b.CosineScale = 0
	}
	return a == b
}
