package experiment

import (
	"context"
	"testing"

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
	if _, err := Method("sgd"); err == nil {
		t.Error("unknown method accepted")
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
