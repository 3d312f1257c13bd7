package longtail

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nuisance"
)

// _Transform is the interface wrapper yaegi needs for nuisance.Transform.
type _Transform struct {
	IValue interface{}
	WApply func(src dataset.Image, rng *rand.Rand) dataset.Image
}

func (w _Transform) Apply(src dataset.Image, rng *rand.Rand) dataset.Image { return w.WApply(src, rng) }

// TestInterpretedSplit builds a split from interpreted code with a transform type
// declared in the "cell", passed through Options.WithTransform.
func TestInterpretedSplit(t *testing.T) {
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	err := i.Use(interp.Exports{
		"github.com/goinv/goinv/stdlib/dataset/dataset": {
			"Dataset": reflect.ValueOf((*dataset.Dataset)(nil)),
			"Image":   reflect.ValueOf((*dataset.Image)(nil)),
		},
		"github.com/goinv/goinv/stdlib/nuisance/nuisance": {
			"Transform":  reflect.ValueOf((*nuisance.Transform)(nil)),
			"_Transform": reflect.ValueOf((*_Transform)(nil)),
			"Dilate":     reflect.ValueOf(nuisance.Dilate),
		},
		"github.com/goinv/goinv/stdlib/longtail/longtail": {
			"NewSplit":    reflect.ValueOf(NewSplit),
			"Options":     reflect.ValueOf((*Options)(nil)),
			"Split":       reflect.ValueOf((*Split)(nil)),
			"Exponential": reflect.ValueOf(Exponential),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = i.Eval(`
package main

import (
	"math/rand"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nuisance"
)

type thick struct{}

func (thick) Apply(src dataset.Image, rng *rand.Rand) dataset.Image { return nuisance.Dilate(src, 1+rng.Intn(3)) }

func Build(train, test *dataset.Dataset) (*longtail.Split, error) {
	return longtail.NewSplit(train, test, longtail.Exponential(500, 100), longtail.Options{Seed: 4}.WithTransform(thick{}))
}
`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := i.Eval("main.Build")
	if err != nil {
		t.Fatal(err)
	}
	build := v.Interface().(func(train, test *dataset.Dataset) (*Split, error))
	train, test := mnist(t)
	train, test = train.Head(6000), test.Head(500)
	s, err := build(train, test.Head(500))
	if err != nil {
		t.Fatal(err)
	}
	want, err := NewSplit(train, test, Exponential(500, 100), Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.TrainIndex, want.TrainIndex) {
		t.Errorf("interpreted split sampled other images")
	}
	for k, p := range s.RawTrain.Pix {
		if s.Train.Pix[k] < p {
			t.Fatalf("the interpreted dilation darkened pixel %d", k)
		}
	}
}
