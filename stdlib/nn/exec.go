package nn

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// executor runs a gorgonia graph in topological order, like gorgonia's TapeMachine, but
// keeps every node's value from one run to the next: stock gorgonia ops that can write
// into a preallocated value (UsePreallocDoer, e.g. the additions gorgonia.Grad inserts
// to sum the gradients of a node used twice, as in residual blocks) reuse it instead of
// allocating a fresh tensor per step. This package's ops reuse their own buffers.
type executor struct {
	nodes []*gorgonia.Node
	args  [][]int // positions of each node's children
	vals  []gorgonia.Value
	pos   map[*gorgonia.Node]int
	in    []gorgonia.Value
	// add marks gorgonia's elementwise additions of two float32 tensors of the
	// node's shape: gorgonia.Grad inserts them to sum the gradients of a node used
	// twice (every residual block's input). They run as a parallel vector kernel
	// here; gorgonia's own loop is serial and scalar.
	add []bool
}

func newExecutor(g *gorgonia.ExprGraph) (*executor, error) {
	sorted, err := gorgonia.Sort(g)
	if err != nil {
		return nil, fmt.Errorf("sort graph: %w", err)
	}
	e := &executor{pos: map[*gorgonia.Node]int{}}
	for i := len(sorted) - 1; i >= 0; i-- { // Sort puts the roots first
		n := sorted[i]
		e.pos[n] = len(e.nodes)
		e.nodes = append(e.nodes, n)
	}
	e.args = make([][]int, len(e.nodes))
	for i, n := range e.nodes {
		for it := g.From(n.ID()); it.Next(); { // the children, in argument order
			c := it.Node().(*gorgonia.Node)
			p, ok := e.pos[c]
			if !ok || p >= i {
				return nil, fmt.Errorf("graph is not topologically ordered at %v", n)
			}
			e.args[i] = append(e.args[i], p)
		}
	}
	e.vals = make([]gorgonia.Value, len(e.nodes))
	e.add = make([]bool, len(e.nodes))
	for i, n := range e.nodes {
		op := n.Op()
		if op == nil || len(e.args[i]) != 2 || n.Dtype() != tensor.Float32 || fmt.Sprintf("%T", op) != "gorgonia.elemBinOp" || op.String() != "+ false" {
			continue
		}
		a, b := e.nodes[e.args[i][0]], e.nodes[e.args[i][1]]
		e.add[i] = a.Shape().Eq(n.Shape()) && b.Shape().Eq(n.Shape())
	}
	return e, nil
}

func (e *executor) run() error {
	for i, n := range e.nodes {
		op := n.Op()
		if op == nil { // an input: its bound value
			v := n.Value()
			if v == nil {
				return fmt.Errorf("input %s has no value", n.Name())
			}
			e.vals[i] = v
			continue
		}
		e.in = e.in[:0]
		for _, a := range e.args[i] {
			e.in = append(e.in, e.vals[a])
		}
		if e.add[i] {
			if v, ok := e.addOp(i, n); ok {
				e.vals[i] = v
				continue
			}
		}
		var v gorgonia.Value
		var err error
		if labelOps {
			// CPU profiles attribute time to op kinds (goroutines started by the op
			// inherit the label): go tool pprof -tags.
			pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("op", opKind(op))))
		}
		_, ours := op.(interface{ flopCount() int64 })
		pd, canReuse := op.(gorgonia.UsePreallocDoer)
		if prev := e.vals[i]; !ours && canReuse && prev != nil && sameValueShape(prev, n.Shape()) {
			if v, err = pd.UsePreallocDo(prev, e.in...); err != nil {
				v, err = op.Do(e.in...)
			}
		} else {
			v, err = op.Do(e.in...)
		}
		if err != nil {
			return fmt.Errorf("%v: %w", op, err)
		}
		e.vals[i] = v
	}
	return nil
}

// addOp computes an addition marked in e.add into the node's previous value (or a
// new one); ok is false when the inputs are not dense float32 tensors.
func (e *executor) addOp(i int, n *gorgonia.Node) (gorgonia.Value, bool) {
	a, ok1 := e.in[0].(*tensor.Dense)
	b, ok2 := e.in[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, false
	}
	ad, ok1 := a.Data().([]float32)
	bd, ok2 := b.Data().([]float32)
	if !ok1 || !ok2 || len(ad) != len(bd) || len(ad) != n.Shape().TotalSize() {
		return nil, false
	}
	out, ok := e.vals[i].(*tensor.Dense)
	if !ok || !out.Shape().Eq(n.Shape()) || out == a || out == b {
		out = tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(make([]float32, len(ad))))
	}
	y := out.Data().([]float32)
	parallelFor(len(y), func(_, lo, hi int) { addKernel(ad[lo:hi], bd[lo:hi], y[lo:hi]) })
	return out, true
}

// labelOps is set by GOINV_NN_PROFILE_OPS=1: label profiles by op kind.
var labelOps = os.Getenv("GOINV_NN_PROFILE_OPS") == "1"

func opKind(op gorgonia.Op) string {
	if o, ok := op.(interface{ String() string }); ok {
		return o.String()
	}
	return fmt.Sprintf("%T", op)
}

func sameValueShape(v gorgonia.Value, s tensor.Shape) bool {
	t, ok := v.(*tensor.Dense)
	return ok && t.Shape().Eq(s)
}

// value returns the value of n from the last run.
func (e *executor) value(n *gorgonia.Node) gorgonia.Value {
	if p, ok := e.pos[n]; ok {
		return e.vals[p]
	}
	return nil
}
