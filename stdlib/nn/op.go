package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opIDs makes every op instance hash differently: gorgonia's ExprGraph merges nodes
// whose op and children hash alike, and two layers with equal shapes must stay apart.
var opIDs atomic.Uint64

// opBase holds what every custom op of this package shares: a unique identity for
// gorgonia's hashing, and a reusable output tensor so a training step allocates
// (almost) nothing once the first step has run.
type opBase struct {
	id    uint64
	name  string
	out   *tensor.Dense
	flops int64 // multiply-adds ×2 of one forward run, for FLOP counts
}

func (o *opBase) flopCount() int64 { return o.flops }

func newOpBase(name string) opBase { return opBase{id: opIDs.Add(1), name: name} }

func (o *opBase) ReturnsPtr() bool      { return false }
func (o *opBase) CallsExtern() bool     { return false }
func (o *opBase) OverwritesInput() int  { return -1 }
func (o *opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "goinv.nn.%s#%d", o.name, o.id) }
func (o *opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (o *opBase) String() string { return o.name }

// output returns the op's output tensor of the given shape, reusing the previous one
// when the shape is unchanged. The caller overwrites every element.
func (o *opBase) output(shape ...int) *tensor.Dense {
	if o.out != nil && sameShape(o.out.Shape(), shape) {
		return o.out
	}
	n := 1
	for _, s := range shape {
		n *= s
	}
	o.out = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, n)))
	return o.out
}

func sameShape(a tensor.Shape, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fnType returns the hm type of an op from tensors of the given ranks to a tensor of
// rank out (rank 0: a scalar), all of one element type.
func fnType(out int, in ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(in)+1)
	for _, d := range in {
		ts = append(ts, tensorType(d, a))
	}
	ts = append(ts, tensorType(out, a))
	return hm.NewFnType(ts...)
}

func tensorType(d int, a hm.TypeVariable) hm.Type {
	if d == 0 {
		return a
	}
	return gorgonia.TensorType{Dims: d, Of: a}
}

// data returns the float32 backing of a value, or an error naming the op.
func data(op string, v gorgonia.Value) ([]float32, tensor.Shape, error) {
	switch t := v.(type) {
	case *tensor.Dense:
		d, ok := t.Data().([]float32)
		if !ok {
			return nil, nil, fmt.Errorf("%s: want float32 values, got %v", op, t.Dtype())
		}
		return d, t.Shape(), nil
	case *gorgonia.F32:
		return []float32{float32(*t)}, tensor.ScalarShape(), nil
	}
	return nil, nil, fmt.Errorf("%s: unsupported value type %T", op, v)
}

// inputs unpacks the float32 data of all inputs.
func inputs(op string, want int, vs []gorgonia.Value) ([][]float32, []tensor.Shape, error) {
	if len(vs) != want {
		return nil, nil, fmt.Errorf("%s: got %d inputs, want %d", op, len(vs), want)
	}
	ds := make([][]float32, len(vs))
	ss := make([]tensor.Shape, len(vs))
	for i, v := range vs {
		d, s, err := data(op, v)
		if err != nil {
			return nil, nil, err
		}
		ds[i], ss[i] = d, s
	}
	return ds, ss, nil
}

// shapeOf reads the i-th DimSizer as a shape.
func shapeOf(op string, ds []gorgonia.DimSizer, i int) (tensor.Shape, error) {
	if i >= len(ds) {
		return nil, fmt.Errorf("%s: missing input shape %d", op, i)
	}
	s, ok := ds[i].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%s: input %d has no shape (%T)", op, i, ds[i])
	}
	return s, nil
}

func checkFloat32(op string, ns ...*gorgonia.Node) error {
	for _, n := range ns {
		if n.Dtype() != tensor.Float32 {
			return fmt.Errorf("%s: node %s is %v, want float32", op, n.Name(), n.Dtype())
		}
	}
	return nil
}
