package nn

import (
	"context"
	"fmt"
	"runtime/pprof"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Machine runs the part of a gorgonia graph that chosen outputs need, in topological
// order, keeping every node's value from one run to the next (like Model's executor:
// this package's ops reuse their buffers, stock ops that can write into a
// preallocated value reuse their previous one), so a run allocates (almost) nothing.
//
// Unlike gorgonia's TapeMachine it skips nodes no output depends on — such as the
// weight gradients gorgonia.Grad builds for parameters that are not differentiated,
// e.g. a frozen discriminator's inside a generator's graph — and it can run a graph
// in stages within one pass: RunTo computes what some nodes need, the caller may then
// change values the remaining nodes read (update weights shared with another graph),
// and Finish computes the rest. MUNIT's training (package munit) uses both.
//
// Input nodes read their bound value (gorgonia.Let or WithValue) at every run; write
// new inputs into those tensors in place. Values returned by Value belong to the
// machine and are overwritten by the next run. A Machine is not safe for concurrent
// use.
type Machine struct {
	nodes []*gorgonia.Node
	args  [][]int
	pos   map[*gorgonia.Node]int
	vals  []gorgonia.Value
	done  []bool
	in    []gorgonia.Value
	stack []int
	seen  []bool
}

// NewMachine prepares a machine that computes outputs (and everything they depend on)
// in g.
func NewMachine(g *gorgonia.ExprGraph, outputs ...*gorgonia.Node) (*Machine, error) {
	sorted, err := gorgonia.Sort(g)
	if err != nil {
		return nil, fmt.Errorf("nn: sort graph: %w", err)
	}
	// Sort puts the roots first: walk it backwards for a children-first order.
	all := make([]*gorgonia.Node, 0, len(sorted))
	at := map[*gorgonia.Node]int{}
	for i := len(sorted) - 1; i >= 0; i-- {
		at[sorted[i]] = len(all)
		all = append(all, sorted[i])
	}
	children := make([][]int, len(all))
	for i, n := range all {
		for it := g.From(n.ID()); it.Next(); { // the children, in argument order
			c := it.Node().(*gorgonia.Node)
			p, ok := at[c]
			if !ok || p >= i {
				return nil, fmt.Errorf("nn: graph is not topologically ordered at %v", n)
			}
			children[i] = append(children[i], p)
		}
	}
	need := make([]bool, len(all))
	var stack []int
	for _, o := range outputs {
		p, ok := at[o]
		if !ok {
			return nil, fmt.Errorf("nn: output %v is not in the graph", o)
		}
		stack = append(stack, p)
	}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if need[p] {
			continue
		}
		need[p] = true
		stack = append(stack, children[p]...)
	}
	m := &Machine{pos: map[*gorgonia.Node]int{}}
	newPos := make([]int, len(all))
	for i, n := range all {
		if !need[i] {
			continue
		}
		newPos[i] = len(m.nodes)
		m.pos[n] = len(m.nodes)
		m.nodes = append(m.nodes, n)
		args := make([]int, len(children[i]))
		for j, c := range children[i] {
			args[j] = newPos[c]
		}
		m.args = append(m.args, args)
	}
	m.vals = make([]gorgonia.Value, len(m.nodes))
	m.done = make([]bool, len(m.nodes))
	m.seen = make([]bool, len(m.nodes))
	return m, nil
}

// Len returns the number of nodes a run computes.
func (m *Machine) Len() int { return len(m.nodes) }

// Run computes all the machine's outputs afresh.
func (m *Machine) Run() error {
	m.Begin()
	return m.Finish()
}

// Begin starts a new pass: the next RunTo or Finish recomputes from the inputs.
func (m *Machine) Begin() { clear(m.done) }

// RunTo computes targets and the nodes they depend on that this pass has not computed
// yet.
func (m *Machine) RunTo(targets ...*gorgonia.Node) error {
	clear(m.seen)
	m.stack = m.stack[:0]
	for _, t := range targets {
		p, ok := m.pos[t]
		if !ok {
			return fmt.Errorf("nn: node %v is not computed by this machine", t)
		}
		m.stack = append(m.stack, p)
	}
	for len(m.stack) > 0 {
		p := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		if m.seen[p] || m.done[p] {
			continue
		}
		m.seen[p] = true
		m.stack = append(m.stack, m.args[p]...)
	}
	for i := range m.nodes {
		if m.seen[i] && !m.done[i] {
			if err := m.exec(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// Finish computes every node this pass has not computed yet.
func (m *Machine) Finish() error {
	for i := range m.nodes {
		if !m.done[i] {
			if err := m.exec(i); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Machine) exec(i int) error {
	n := m.nodes[i]
	m.done[i] = true
	op := n.Op()
	if op == nil { // an input: its bound value
		v := n.Value()
		if v == nil {
			return fmt.Errorf("nn: input %s has no value", n.Name())
		}
		m.vals[i] = v
		return nil
	}
	if labelOps {
		// CPU profiles attribute time to op kinds and output shapes (go tool pprof
		// -tags); goroutines the op starts inherit the label.
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("op", opKind(op)+" "+fmt.Sprint(n.Shape()))))
	}
	m.in = m.in[:0]
	for _, a := range m.args[i] {
		m.in = append(m.in, m.vals[a])
	}
	var v gorgonia.Value
	var err error
	pd, canReuse := op.(gorgonia.UsePreallocDoer)
	if prev, ok := m.vals[i].(*tensor.Dense); canReuse && ok && prev.Shape().Eq(n.Shape()) {
		if v, err = pd.UsePreallocDo(prev, m.in...); err != nil {
			v, err = op.Do(m.in...)
		}
	} else {
		v, err = op.Do(m.in...)
	}
	if err != nil {
		return fmt.Errorf("nn: %v: %w", op, err)
	}
	m.vals[i] = v
	return nil
}

// Value returns n's value from the current or last pass (nil if n was not computed).
func (m *Machine) Value(n *gorgonia.Node) gorgonia.Value {
	if p, ok := m.pos[n]; ok {
		return m.vals[p]
	}
	return nil
}

// Float32s returns the float32 data of n's value (a scalar as one value).
func (m *Machine) Float32s(n *gorgonia.Node) []float32 {
	d, _, err := data("machine", m.Value(n))
	if err != nil {
		return nil
	}
	return d
}
