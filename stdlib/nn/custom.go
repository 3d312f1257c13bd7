package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CustomFunc builds a classifier in g: from the image batch x (N×C×H×W, float32 in
// [0, 1]) it returns the N×numClasses logits and the learned parameters (nodes created
// with gorgonia.NewTensor/NewMatrix and an initial value, e.g. gorgonia.WithInit). It
// may use this package's layers (Conv2d, MaxPool2d, ReLU, Linear, AddBias, ...) and
// gorgonia's own ops. It is called once per graph (per batch size and for inference):
// it must create the same parameters, in the same order, every time.
type CustomFunc func(g *gorgonia.ExprGraph, x *gorgonia.Node, numClasses int) (logits *gorgonia.Node, params gorgonia.Nodes, err error)

// Custom returns a model built by build, trained and evaluated like the built-in ones.
// The values build gives its parameters on the first call are the initial weights;
// later graphs share them.
func Custom(name string, build CustomFunc) *Model {
	if name == "" {
		name = "custom"
	}
	return &Model{Arch: Arch{Name: name, Head: "custom"}, custom: build}
}

func (m *Model) buildCustom(s *scope, x *gorgonia.Node) (*gorgonia.Node, error) {
	logits, params, err := m.custom(s.g, x, len(m.Classes))
	if err != nil {
		return nil, err
	}
	if logits == nil {
		return nil, fmt.Errorf("custom model returned nil logits")
	}
	if !m.ready {
		for i, p := range params {
			t, ok := p.Value().(*tensor.Dense)
			if !ok || t.Dtype() != tensor.Float32 {
				return nil, fmt.Errorf("parameter %d (%s) needs a float32 tensor value, has %T", i, p.Name(), p.Value())
			}
			name := p.Name()
			if _, dup := m.index[name]; dup || name == "" {
				name = fmt.Sprintf("param%d", i)
			}
			d := t.Data().([]float32)
			m.params = append(m.params, &Param{Name: name, Shape: append([]int(nil), t.Shape()...), Data: d, Trainable: true, value: t})
			m.index[name] = m.params[len(m.params)-1]
		}
		for i, p := range params {
			s.nodes[m.params[i].Name] = p
		}
		return logits, nil
	}
	if len(params) != len(m.params) {
		return nil, fmt.Errorf("custom model returned %d parameters, first build had %d", len(params), len(m.params))
	}
	for i, p := range params {
		if !sameShape(p.Shape(), m.params[i].Shape) {
			return nil, fmt.Errorf("parameter %d (%s) has shape %v, first build had %v", i, p.Name(), p.Shape(), m.params[i].Shape)
		}
		if err := gorgonia.Let(p, m.params[i].value); err != nil {
			return nil, fmt.Errorf("share parameter %s: %w", m.params[i].Name, err)
		}
	}
	for i, p := range params {
		s.nodes[m.params[i].Name] = p
	}
	return logits, nil
}
