package experiment

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/goinv/goinv/stdlib/invariance"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/train"
)

func TestMethodNames(t *testing.T) {
	for name, want := range map[string]train.Method{"erm": train.ERM, "DRS": train.DRS, "ldam-drw": train.LDAMDRW, "focal": train.Focal} {
		if got, err := Method(name); err != nil || got != want {
			t.Errorf("Method(%q) = %q, %v", name, got, err)
		}
	}
	if _, err := Method("sgd"); err == nil || !strings.Contains(err.Error(), "want one of ERM, RS, DRS, RW, DRW, LDAM, LDAM-DRW, Focal") {
		t.Errorf("unknown method: err = %v, want the valid names listed", err)
	}
}

// TestRunChecksMethodsBeforeTraining: with a train-backed trainer, a misspelt method
// listed second failed only when its turn came, after the first had trained (minutes
// at the notebook's settings). A trainer of one's own may use names train does not
// know, and is trusted with them.
func TestRunChecksMethodsBeforeTraining(t *testing.T) {
	builds := 0
	cfg := config("", &fakeTrainer{})
	cfg.Methods = []string{"ERM", "DSR"}
	cfg.Trainer = FitTrainer(func(int64) (*nn.Model, error) {
		builds++
		return nil, errors.New("no model in this test")
	}, train.Config{})
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), `unknown training method "DSR" (want one of ERM, RS, DRS`) {
		t.Errorf("misspelt method: err = %v", err)
	}
	if builds != 0 {
		t.Errorf("%d models built before the error", builds)
	}
	cfg.Trainer = SmallCNNTrainer(nn.Arch{Conv1: 2, Conv2: 2}, train.Config{Quiet: true})
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `"DSR"`) {
		t.Errorf("SmallCNNTrainer, misspelt method: err = %v", err)
	}

	own := &fakeTrainer{}
	cfg = config("", own)
	cfg.Methods = []string{"ERM", "GIT"}
	cfg.Instances = 1
	if _, err := Run(context.Background(), cfg); err != nil || !own.sawMethods["GIT"] {
		t.Errorf("own trainer with method GIT: err = %v, methods seen %v", err, own.sawMethods)
	}
}

// TestRunChecksMethodsFromCell: the trainer a cell builds reaches Run through the
// interpreter, and is still recognised as train-backed.
func TestRunChecksMethodsFromCell(t *testing.T) {
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	err := i.Use(interp.Exports{
		"github.com/goinv/goinv/stdlib/experiment/experiment": {
			"Config": reflect.ValueOf((*Config)(nil)), "Run": reflect.ValueOf(Run), "FitTrainer": reflect.ValueOf(FitTrainer),
		},
		"github.com/goinv/goinv/stdlib/nn/nn":       {"Model": reflect.ValueOf((*nn.Model)(nil))},
		"github.com/goinv/goinv/stdlib/train/train": {"Config": reflect.ValueOf((*train.Config)(nil))},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = i.Eval(`
import (
	"context"
	"errors"

	"github.com/goinv/goinv/stdlib/experiment"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/train"
)

var builds int

func run(methods ...string) error {
	tr := experiment.FitTrainer(func(seed int64) (*nn.Model, error) {
		builds++
		return nil, errors.New("no model in this test")
	}, train.Config{Quiet: true})
	_, err := experiment.Run(context.Background(), experiment.Config{Methods: methods, Quiet: true, Trainer: tr})
	return err
}
`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := i.Eval(`run("ERM", "DSR")`)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := v.Interface().(error); e == nil || !strings.Contains(e.Error(), `unknown training method "DSR"`) {
		t.Errorf("a misspelt method from a cell: err = %v", e)
	}
	if v, err := i.Eval("builds"); err != nil || v.Int() != 0 {
		t.Errorf("%v models built before the error (%v)", v, err)
	}
}

// The real trainer end to end on a tiny problem: a SmallCNN learns the synthetic
// classes well above chance within a few epochs.
func TestSmallCNNTrainer(t *testing.T) {
	cfg := Config{
		Train: synthetic("syn", 3, 100, 1), Test: synthetic("syn", 3, 30, 2),
		Profile:    longtail.Counts(90, 60, 30),
		Transforms: []string{"background"},
		Methods:    []string{"ERM", "DRS"},
		Instances:  1,
		EKLD:       invariance.Options{Images: 5, Transforms: 3},
		Trainer:    SmallCNNTrainer(nn.Arch{Conv1: 4, Conv2: 8}, train.Config{Epochs: 8, BatchSize: 16, LR: 0.05, Quiet: true}),
		Quiet:      true,
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 6 {
		t.Fatalf("%d rows", len(res.Rows))
	}
	for _, s := range res.Summaries() {
		if s.BalancedAccuracy < 0.6 {
			t.Errorf("%s/%s: balanced accuracy %.2f after training", s.Transform, s.Method, s.BalancedAccuracy)
		}
	}
}
