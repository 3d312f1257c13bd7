package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"sync"

	"github.com/goinv/goinv/stdlib/dataset"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Arch describes a model's architecture; it is what checkpoints store to rebuild it.
type Arch struct {
	// Name is "smallcnn", "resnet" or, for Custom models, the name given to Custom.
	Name string `json:"name"`
	// SmallCNN: channels of the two 3×3 convolutions (default 16, 32) and the width of
	// an optional hidden fully connected layer (0: none).
	Conv1  int `json:"conv1,omitempty"`
	Conv2  int `json:"conv2,omitempty"`
	Hidden int `json:"hidden,omitempty"`
	// ResNet: depth 6n+2 (20, 32, 44, 56) and the width of the first stage (16).
	Depth int `json:"depth,omitempty"`
	Width int `json:"width,omitempty"`
	// Head is "linear" (default) or "cosine": a normalised head whose logits are
	// CosineScale (default 30) times the cosine of features and class weights (LDAM).
	Head        string  `json:"head,omitempty"`
	CosineScale float64 `json:"cosine_scale,omitempty"`
	// Seed seeds the weight initialisation.
	Seed int64 `json:"seed"`
}

// Param is one tensor of a model: a learned weight or a running statistic.
type Param struct {
	Name      string
	Shape     []int
	Data      []float32 // the tensor's values, row-major; updated in place by training
	Trainable bool      // false for running statistics
	value     *tensor.Dense
}

// Model is a float32 image classifier built as a gorgonia graph from custom ops. Its
// parameters are created on first use (Init, or train.Fit from the training set) and
// shared by every graph built from it: one per training batch size, and cached ones for
// inference. Model implements Classifier.
type Model struct {
	Arch    Arch
	Classes []string
	C, H, W int // input shape
	// Meta holds extra checkpoint metadata, such as the training configuration that
	// train.Fit records.
	Meta map[string]string

	build  func(s *scope, x *gorgonia.Node, k int) (*gorgonia.Node, error)
	custom CustomFunc

	mu        sync.Mutex
	params    []*Param
	index     map[string]*Param
	bn        map[string]*BatchNormState
	ready     bool
	eval      map[int]*Graph
	evalBatch int
}

// NumClasses returns the number of classes (0 before Init).
func (m *Model) NumClasses() int { return len(m.Classes) }

// Params returns the model's tensors in creation order (nil before Init).
func (m *Model) Params() []*Param { return m.params }

// NumParams returns the number of learned scalars.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		if p.Trainable {
			n += len(p.Data)
		}
	}
	return n
}

// Initialized reports whether the model's parameters exist.
func (m *Model) Initialized() bool { return m.ready }

// Init fixes the input shape and classes and creates the parameters (seeded by
// Arch.Seed). Calling it again with the same shape and classes does nothing.
func (m *Model) Init(c, h, w int, classes []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ready {
		if c != m.C || h != m.H || w != m.W || len(classes) != len(m.Classes) {
			return fmt.Errorf("model %s: initialised for %d×%d×%d inputs and %d classes, not %d×%d×%d and %d",
				m.Arch.Name, m.C, m.H, m.W, len(m.Classes), c, h, w, len(classes))
		}
		return nil
	}
	if c < 1 || h < 1 || w < 1 || len(classes) < 2 {
		return fmt.Errorf("model %s: bad input %d×%d×%d or %d classes", m.Arch.Name, c, h, w, len(classes))
	}
	if m.custom == nil && m.Arch.Head != "linear" && m.Arch.Head != "cosine" {
		// Any other name used to build a linear head without a word.
		return fmt.Errorf("model %s: unknown Arch.Head %q (want \"linear\" or \"cosine\")", m.Arch.Name, m.Arch.Head)
	}
	m.C, m.H, m.W, m.Classes = c, h, w, append([]string(nil), classes...)
	m.index = map[string]*Param{}
	m.bn = map[string]*BatchNormState{}
	// Building a one-image graph creates every parameter.
	gr, err := m.newGraph(1, false, nil)
	if err != nil {
		m.params, m.index = nil, nil
		return err
	}
	// Every op keeps its output buffer, so an inference graph holds all activations:
	// size its batch to stay within evalMemory.
	var floats int
	for _, n := range gr.g.AllNodes() {
		if n.Op() != nil {
			floats += prod(n.Shape())
		}
	}
	gr.Close()
	m.evalBatch = EvalBatch
	for m.evalBatch > 8 && m.evalBatch*floats*4 > evalMemory {
		m.evalBatch /= 2
	}
	m.ready = true
	return nil
}

// String describes the model.
func (m *Model) String() string {
	if !m.ready {
		return fmt.Sprintf("%s (not initialised)", m.describe())
	}
	return fmt.Sprintf("%s for %d×%d×%d images, %d classes, %d parameters", m.describe(), m.C, m.H, m.W, len(m.Classes), m.NumParams())
}

func (m *Model) describe() string {
	a := m.Arch
	s := a.Name
	switch a.Name {
	case "smallcnn":
		s = fmt.Sprintf("SmallCNN(%d, %d", a.Conv1, a.Conv2)
		if a.Hidden > 0 {
			s += fmt.Sprintf(", fc %d", a.Hidden)
		}
		s += ")"
	case "resnet":
		s = fmt.Sprintf("ResNet-%d(width %d)", a.Depth, a.Width)
	}
	if a.Head == "cosine" {
		s += fmt.Sprintf(" with cosine head ×%g", a.CosineScale)
	}
	return s
}

// scope is what a model's build function uses to get parameters and layers.
type scope struct {
	m     *Model
	g     *gorgonia.ExprGraph
	train bool
	rng   *rand.Rand
	nodes map[string]*gorgonia.Node // parameter nodes of this graph, by name
}

// param returns the node of the named parameter, creating it with init on first use.
func (s *scope) param(name string, shape []int, trainable bool, init func(rng *rand.Rand, d []float32)) (*gorgonia.Node, error) {
	p, ok := s.m.index[name]
	if !ok {
		if s.m.ready {
			return nil, fmt.Errorf("model %s: unknown parameter %q", s.m.Arch.Name, name)
		}
		d := make([]float32, prod(shape))
		if init != nil {
			init(s.rng, d)
		}
		p = &Param{Name: name, Shape: append([]int(nil), shape...), Data: d, Trainable: trainable,
			value: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))}
		s.m.params = append(s.m.params, p)
		s.m.index[name] = p
	} else if !sameShape(p.value.Shape(), shape) {
		return nil, fmt.Errorf("model %s: parameter %q has shape %v, want %v", s.m.Arch.Name, name, p.Shape, shape)
	}
	node := gorgonia.NewTensor(s.g, tensor.Float32, len(shape), gorgonia.WithShape(shape...),
		gorgonia.WithName(name), gorgonia.WithValue(p.value))
	s.nodes[name] = node
	return node, nil
}

// kaiming fills d with N(0, 2/fanIn), He et al.'s initialisation for ReLU networks.
func kaiming(fanIn int) func(*rand.Rand, []float32) {
	std := math.Sqrt(2 / float64(fanIn))
	return func(r *rand.Rand, d []float32) {
		for i := range d {
			d[i] = float32(r.NormFloat64() * std)
		}
	}
}

// uniform fills d with U(−b, b), b = 1/sqrt(fanIn), PyTorch's default for linear layers.
func uniform(fanIn int) func(*rand.Rand, []float32) {
	b := 1 / math.Sqrt(float64(fanIn))
	return func(r *rand.Rand, d []float32) {
		for i := range d {
			d[i] = float32((2*r.Float64() - 1) * b)
		}
	}
}

func fill(v float32) func(*rand.Rand, []float32) {
	return func(_ *rand.Rand, d []float32) {
		for i := range d {
			d[i] = v
		}
	}
}

// conv adds a bias-free convolution with k×k filters.
func (s *scope) conv(name string, x *gorgonia.Node, out, k, pad, stride int) (*gorgonia.Node, error) {
	in := x.Shape()[1]
	w, err := s.param(name+".weight", []int{out, in, k, k}, true, kaiming(in*k*k))
	if err != nil {
		return nil, err
	}
	return Conv2d(x, w, pad, stride)
}

// bias adds a learned per-channel bias.
func (s *scope) bias(name string, x *gorgonia.Node, fanIn int) (*gorgonia.Node, error) {
	b, err := s.param(name+".bias", []int{x.Shape()[1]}, true, uniform(fanIn))
	if err != nil {
		return nil, err
	}
	return AddBias(x, b)
}

// batchNorm adds a batch-norm layer, followed by a ReLU if relu is set; its running
// statistics are model parameters too (not trained), named like PyTorch's.
func (s *scope) batchNorm(name string, x *gorgonia.Node, relu bool) (*gorgonia.Node, error) {
	return s.batchNormAdd(name, x, nil, relu)
}

// batchNormAdd is batchNorm, then (when short is not nil) adding short and a ReLU, in
// one op.
func (s *scope) batchNormAdd(name string, x, short *gorgonia.Node, relu bool) (*gorgonia.Node, error) {
	c := x.Shape()[1]
	gamma, err := s.param(name+".weight", []int{c}, true, fill(1))
	if err != nil {
		return nil, err
	}
	beta, err := s.param(name+".bias", []int{c}, true, fill(0))
	if err != nil {
		return nil, err
	}
	if _, err := s.param(name+".running_mean", []int{c}, false, fill(0)); err != nil {
		return nil, err
	}
	if _, err := s.param(name+".running_var", []int{c}, false, fill(1)); err != nil {
		return nil, err
	}
	st := s.m.bn[name]
	if st == nil {
		st = &BatchNormState{Mean: s.m.index[name+".running_mean"].Data, Var: s.m.index[name+".running_var"].Data}
		s.m.bn[name] = st
	}
	return batchNorm(x, gamma, beta, short, st, s.train, relu)
}

// head adds the classifier: linear with bias, or scaled cosine.
func (s *scope) head(name string, x *gorgonia.Node, k int) (*gorgonia.Node, error) {
	d := prod(x.Shape()[1:])
	if s.m.Arch.Head == "cosine" {
		if len(x.Shape()) != 2 {
			return nil, fmt.Errorf("cosine head needs N×D features, got %v", x.Shape())
		}
		w, err := s.param(name+".weight", []int{k, d}, true, uniform(d))
		if err != nil {
			return nil, err
		}
		cos, err := CosineLinear(x, w)
		if err != nil {
			return nil, err
		}
		return Scale(cos, float32(s.m.Arch.CosineScale))
	}
	w, err := s.param(name+".weight", []int{k, d}, true, uniform(d))
	if err != nil {
		return nil, err
	}
	y, err := Linear(x, w)
	if err != nil {
		return nil, err
	}
	return s.bias(name, y, d)
}

// Graph is one compiled graph of a model for a fixed batch size: inference, or training
// with a loss and the gradients of every trainable parameter.
type Graph struct {
	N      int
	m      *Model
	g      *gorgonia.ExprGraph
	x      *gorgonia.Node
	xval   []float32
	logits *gorgonia.Node
	loss   *gorgonia.Node
	grads  gorgonia.Nodes
	params []*Param // trainable, aligned with grads
	ex     *executor
}

func (m *Model) newGraph(n int, train bool, loss *Loss) (*Graph, error) {
	g := gorgonia.NewGraph()
	xval := make([]float32, n*m.C*m.H*m.W)
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(n, m.C, m.H, m.W), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(n, m.C, m.H, m.W), tensor.WithBacking(xval))))
	s := &scope{m: m, g: g, train: train, rng: rand.New(rand.NewSource(m.Arch.Seed)),
		nodes: map[string]*gorgonia.Node{}}
	var logits *gorgonia.Node
	var err error
	if m.custom != nil {
		logits, err = m.buildCustom(s, x)
	} else {
		logits, err = m.build(s, x, len(m.Classes))
	}
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", m.Arch.Name, err)
	}
	if ls := logits.Shape(); len(ls) != 2 || ls[0] != n || ls[1] != len(m.Classes) {
		return nil, fmt.Errorf("build %s: logits have shape %v, want [%d %d]", m.Arch.Name, ls, n, len(m.Classes))
	}
	gr := &Graph{N: n, m: m, g: g, x: x, xval: xval, logits: logits}
	if train {
		if gr.loss, err = CrossEntropy(logits, loss); err != nil {
			return nil, err
		}
		var wrt gorgonia.Nodes
		for _, p := range m.params {
			if !p.Trainable {
				continue
			}
			node := s.nodes[p.Name]
			if node == nil {
				return nil, fmt.Errorf("build %s: parameter %s is not in the graph", m.Arch.Name, p.Name)
			}
			wrt = append(wrt, node)
			gr.params = append(gr.params, p)
		}
		if gr.grads, err = gorgonia.Grad(gr.loss, wrt...); err != nil {
			return nil, fmt.Errorf("gradients of %s: %w", m.Arch.Name, err)
		}
	}
	if gr.ex, err = newExecutor(g); err != nil {
		return nil, fmt.Errorf("build %s: %w", m.Arch.Name, err)
	}
	return gr, nil
}

// TrainGraph compiles a training graph for batches of n images with the given loss
// (whose Labels the caller sets before every Run).
func (m *Model) TrainGraph(n int, loss *Loss) (*Graph, error) {
	if !m.ready {
		return nil, errors.New("nn: model not initialised (call Init)")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.newGraph(n, true, loss)
}

// Run computes the graph on x (N×C×H×W values, copied into the graph's input).
func (gr *Graph) Run(x []float32) error {
	if len(x) != len(gr.xval) {
		return fmt.Errorf("nn: batch has %d values, graph expects %d", len(x), len(gr.xval))
	}
	copy(gr.xval, x)
	return gr.ex.run()
}

// Logits returns the N×K logits of the last Run (a view, overwritten by the next Run).
func (gr *Graph) Logits() []float32 { return gr.ex.value(gr.logits).Data().([]float32) }

// Loss returns the loss of the last Run of a training graph.
func (gr *Graph) Loss() float32 {
	return float32(*gr.ex.value(gr.loss).(*gorgonia.F32))
}

// Params returns the trainable parameters, aligned with Grads.
func (gr *Graph) Params() []*Param { return gr.params }

// Grads returns the gradients of the last Run, aligned with Params (views).
func (gr *Graph) Grads() [][]float32 {
	out := make([][]float32, len(gr.grads))
	for i, g := range gr.grads {
		out[i] = gr.ex.value(g).Data().([]float32)
	}
	return out
}

// Close releases the graph's values.
func (gr *Graph) Close() { gr.ex.vals = nil }

// EvalBatch is the largest batch of the inference graphs Logits uses; models whose
// activations would take more than 64 MB at that size use a smaller power of two.
const EvalBatch = 256

const evalMemory = 64 << 20

// Logits returns the class scores of every image in b (N×K, row-major), running the
// inference graph (batch-norm with running statistics) in chunks of at most EvalBatch
// images (a smaller batch is padded to the next power of two). It checks ctx between
// chunks. The logits of an image do not depend on the other images of the batch.
func (m *Model) Logits(ctx context.Context, b dataset.Batch) ([]float32, error) {
	if !m.ready {
		return nil, errors.New("nn: model not initialised (train it or call Init)")
	}
	if b.C != m.C || b.H != m.H || b.W != m.W {
		return nil, fmt.Errorf("nn: %s expects %d×%d×%d images, batch has %d×%d×%d", m.Arch.Name, m.C, m.H, m.W, b.C, b.H, b.W)
	}
	if len(b.X) != b.N*b.C*b.H*b.W {
		return nil, fmt.Errorf("nn: batch of %d images has %d values", b.N, len(b.X))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, size := len(m.Classes), m.C*m.H*m.W
	out := make([]float32, b.N*k)
	eb := m.evalBatch
	for lo := 0; lo < b.N; lo += eb {
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		hi := min(lo+eb, b.N)
		n := 1
		for n < hi-lo {
			n *= 2
		}
		gr, err := m.evalGraph(n)
		if err != nil {
			return nil, err
		}
		chunk := b.X[lo*size : hi*size]
		if hi-lo < n { // the last chunk: pad with zeros
			padded := make([]float32, n*size)
			copy(padded, chunk)
			chunk = padded
		}
		if err := gr.Run(chunk); err != nil {
			return nil, fmt.Errorf("nn: logits of %s: %w", m.Arch.Name, err)
		}
		copy(out[lo*k:hi*k], gr.Logits())
	}
	return out, nil
}

func (m *Model) evalGraph(n int) (*Graph, error) {
	if gr := m.eval[n]; gr != nil {
		return gr, nil
	}
	gr, err := m.newGraph(n, false, nil)
	if err != nil {
		return nil, err
	}
	if m.eval == nil {
		m.eval = map[int]*Graph{}
	}
	m.eval[n] = gr
	return gr, nil
}

// FLOPs returns the floating-point operations of one forward pass on one image,
// counting the multiply-adds of convolutions and fully connected layers (×2). A
// training step costs about three times as much (forward, and the gradients with
// respect to inputs and weights).
func (m *Model) FLOPs() (int64, error) {
	if !m.ready {
		return 0, errors.New("nn: model not initialised")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	gr, err := m.newGraph(1, false, nil)
	if err != nil {
		return 0, err
	}
	defer gr.Close()
	var total int64
	for _, n := range gr.g.AllNodes() {
		if op, ok := n.Op().(interface{ flopCount() int64 }); ok {
			total += op.flopCount()
		}
	}
	return total, nil
}

// Predict returns the arg-max class of every image in b.
func (m *Model) Predict(ctx context.Context, b dataset.Batch) ([]int, error) {
	z, err := m.Logits(ctx, b)
	if err != nil {
		return nil, err
	}
	return Argmax(z, len(m.Classes)), nil
}

// Argmax returns the index of the largest entry of every row of the n×k matrix z.
func Argmax(z []float32, k int) []int {
	out := make([]int, len(z)/k)
	for i := range out {
		row := z[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
