package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fnOp is a custom gorgonia op described by closures: the forward computation on
// float32 slices and, for differentiable ops, the symbolic gradient built from further
// ops. Every layer below except the convolution is one of these.
type fnOp struct {
	opBase
	arity int
	typ   hm.Type
	shape tensor.Shape
	do    func(op *fnOp, in [][]float32, shapes []tensor.Shape) (gorgonia.Value, error)
	diff  func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error)
	wrt   []bool
}

func (op *fnOp) Arity() int    { return op.arity }
func (op *fnOp) Type() hm.Type { return op.typ }
func (op *fnOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *fnOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, shapes, err := inputs(op.name, op.arity, vs)
	if err != nil {
		return nil, err
	}
	return op.do(op, in, shapes)
}
func (op *fnOp) DiffWRT(n int) []bool {
	if op.wrt != nil {
		return op.wrt
	}
	return make([]bool, n)
}
func (op *fnOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.diff == nil {
		return nil, fmt.Errorf("%s is not differentiable", op.name)
	}
	return op.diff(in, out, grad)
}

// tensorOut returns the op's reusable output of shape op.shape and its data.
func (op *fnOp) tensorOut() (*tensor.Dense, []float32) {
	t := op.output(op.shape...)
	return t, t.Data().([]float32)
}

// apply builds an fnOp node. outRank is the rank of the result (0 for a scalar).
func apply(name string, shape tensor.Shape, wrt []bool,
	do func(op *fnOp, in [][]float32, shapes []tensor.Shape) (gorgonia.Value, error),
	diff func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error),
	args ...*gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkFloat32(name, args...); err != nil {
		return nil, err
	}
	ranks := make([]int, len(args))
	for i, a := range args {
		ranks[i] = a.Dims()
	}
	op := &fnOp{opBase: newOpBase(name), arity: len(args), typ: fnType(len(shape), ranks...),
		shape: shape, do: do, diff: diff, wrt: wrt}
	n, err := gorgonia.ApplyOp(op, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}
