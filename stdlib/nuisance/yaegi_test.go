package nuisance

import (
	"bytes"
	"math/rand"
	"reflect"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/goinv/goinv/stdlib/dataset"
)

// _Transform is the wrapper yaegi needs to hand an interpreted type to compiled code
// as a Transform (the shape `yaegi extract` generates for interfaces).
type _Transform struct {
	IValue interface{}
	WApply func(src dataset.Image, rng *rand.Rand) dataset.Image
}

func (w _Transform) Apply(src dataset.Image, rng *rand.Rand) dataset.Image { return w.WApply(src, rng) }

// symbols is a small hand-written export table for the interpreter: the names the
// cell below uses.
var symbols = interp.Exports{
	"github.com/goinv/goinv/stdlib/dataset/dataset": {
		"Dataset":  reflect.ValueOf((*dataset.Dataset)(nil)),
		"Image":    reflect.ValueOf((*dataset.Image)(nil)),
		"NewImage": reflect.ValueOf(dataset.NewImage),
	},
	"github.com/goinv/goinv/stdlib/nuisance/nuisance": {
		"Transform":      reflect.ValueOf((*Transform)(nil)),
		"_Transform":     reflect.ValueOf((*_Transform)(nil)),
		"Func":           reflect.ValueOf((*Func)(nil)),
		"ApplyBaked":     reflect.ValueOf(ApplyBaked),
		"Compose":        reflect.ValueOf(Compose),
		"NewBackground":  reflect.ValueOf(NewBackground),
		"Samples":        reflect.ValueOf(Samples),
		"Background":     reflect.ValueOf((*Background)(nil)),
		"SetBackground":  reflect.ValueOf(SetBackground),
		"NewDilateErode": reflect.ValueOf(NewDilateErode),
		"Name":           reflect.ValueOf(Name),
		"Named":          reflect.ValueOf(Named),
	},
}

const cell = `
package main

import (
	"math/rand"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// invert is a user-defined nuisance written in a notebook cell.
type invert struct{ calls int }

func (t *invert) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	out := src.Clone()
	for i, p := range out.Pix {
		out.Pix[i] = 255 - p
	}
	return out
}

func Bake(ds *dataset.Dataset) (*dataset.Dataset, error) {
	return nuisance.ApplyBaked(ds, &invert{}, 1)
}

func BakeComposed(ds *dataset.Dataset) (*dataset.Dataset, error) {
	shift := nuisance.Func(func(src dataset.Image, rng *rand.Rand) dataset.Image {
		return nuisance.SetBackground(src, uint8(1+rng.Intn(9)))
	})
	// yaegi converts an interpreted value to a compiled interface on assignment and
	// on ordinary arguments, but not inside variadic arguments: name it first.
	var inv nuisance.Transform = &invert{}
	return nuisance.ApplyBaked(ds, nuisance.Compose(shift, inv), 2)
}

func (t *invert) String() string { return "invert" }

func Names() []string {
	var inv nuisance.Transform = &invert{}
	return []string{nuisance.Name(&invert{}), nuisance.Name(nuisance.Named("invert", &invert{})),
		nuisance.Name(nuisance.Compose(nuisance.Named("invert", inv), nuisance.NewBackground()))}
}
`

func TestInterpretedTransform(t *testing.T) {
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if err := i.Use(symbols); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(cell); err != nil {
		t.Fatal(err)
	}
	train, _, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	ds := train.Head(500)
	for _, name := range []string{"main.Bake", "main.BakeComposed"} {
		v, err := i.Eval(name)
		if err != nil {
			t.Fatal(err)
		}
		bake, ok := v.Interface().(func(*dataset.Dataset) (*dataset.Dataset, error))
		if !ok {
			t.Fatalf("%s has type %T", name, v.Interface())
		}
		out, err := bake(ds)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		zeros := 0
		for k, p := range ds.Pix {
			q := out.Pix[k]
			switch {
			case p != 0 && q != 255-p:
				t.Fatalf("%s: pixel %d = %d, want %d", name, k, q, 255-p)
			case p == 0 && name == "main.Bake" && q != 255:
				t.Fatalf("%s: background pixel %d = %d, want 255", name, k, q)
			case p == 0 && name == "main.BakeComposed" && (q < 246 || q > 254):
				t.Fatalf("%s: background pixel %d = %d, want 255−t with t in 1..9", name, k, q)
			}
			if p == 0 {
				zeros++
			}
		}
		if zeros == 0 || !reflect.DeepEqual(out.Labels, ds.Labels) {
			t.Fatalf("%s: labels changed or no background", name)
		}
		again, _ := bake(ds)
		if !bytes.Equal(again.Pix, out.Pix) {
			t.Errorf("%s: not reproducible", name)
		}
	}
}

// TestInterpretedTransformName: a transform declared in a cell reaches compiled code
// wrapped, so Name used to print the wrapper's type,
// "symbols._github_com_goinv_goinv_stdlib_nuisance_Transform", in split descriptions
// and figure titles even when the cell's type has a String method; Named names it.
func TestInterpretedTransformName(t *testing.T) {
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if err := i.Use(symbols); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(cell); err != nil {
		t.Fatal(err)
	}
	v, err := i.Eval("main.Names()")
	if err != nil {
		t.Fatal(err)
	}
	got := v.Interface().([]string)
	want := []string{"cell-defined transform (name it with nuisance.Named)", "invert", "Compose(invert, Background(t ~ U{0..99}))"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}
