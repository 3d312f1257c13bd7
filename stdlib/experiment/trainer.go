package experiment

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/train"
)

// methods lists train's methods so that run method names may be given in any case.
var methods = []train.Method{train.ERM, train.RS, train.DRS, train.RW, train.DRW, train.LDAM, train.LDAMDRW, train.Focal}

// Method returns the train.Method named name, ignoring case ("drs" → DRS).
func Method(name string) (train.Method, error) {
	for _, m := range methods {
		if strings.EqualFold(string(m), name) {
			return m, nil
		}
	}
	return "", fmt.Errorf("experiment: unknown training method %q (want one of %s; any case)", name, methodNames())
}

func methodNames() string {
	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// fitTrainerCode is the code pointer of the closures FitTrainer returns (reflect gives
// a func value's code, the same for every closure of one func literal, as long as
// FitTrainer is not inlined, which would copy the literal). Run recognises these
// trainers by it, and checks their method names before any training; a trainer written
// in a cell may accept names only it knows, so its names are not checked.
var fitTrainerCode = reflect.ValueOf(FitTrainer(nil, train.Config{})).Pointer()

// checkMethods returns the error of the first name in names that a trainer of
// FitTrainer (or SmallCNNTrainer, or Finding.Config) would reject when it reached it.
func checkMethods(tr Trainer, names []string) error {
	if tr == nil || reflect.ValueOf(tr).Pointer() != fitTrainerCode {
		return nil
	}
	for _, name := range names {
		if _, err := Method(name); err != nil {
			return err
		}
	}
	return nil
}

// FitTrainer returns a Trainer that builds a fresh model with newModel(seed) for every
// run and trains it on the split's training set with train.Fit and cfg, the run's
// method and seed replacing cfg.Method and cfg.Seed.
//
//go:noinline
func FitTrainer(newModel func(seed int64) (*nn.Model, error), cfg train.Config) Trainer {
	return func(ctx context.Context, method string, split *longtail.Split, seed int64) (nn.Classifier, error) {
		m, err := Method(method)
		if err != nil {
			return nil, err
		}
		model, err := newModel(seed)
		if err != nil {
			return nil, fmt.Errorf("experiment: build model: %w", err)
		}
		c := cfg
		c.Method = m
		c.Seed = seed
		res, err := train.Fit(ctx, model, split.Train, c)
		if err != nil {
			return nil, err
		}
		return res.Model, nil
	}
}

// SmallCNNTrainer returns a FitTrainer of nn.SmallCNN(arch) (arch.Seed set per run).
func SmallCNNTrainer(arch nn.Arch, cfg train.Config) Trainer {
	return FitTrainer(func(seed int64) (*nn.Model, error) {
		a := arch
		a.Seed = seed
		return nn.SmallCNN(a), nil
	}, cfg)
}
