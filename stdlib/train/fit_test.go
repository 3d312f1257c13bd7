package train

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/nn"
)

// mnistSubset returns n training and m test images of the embedded MNIST.
func mnistSubset(t testing.TB, n, m int) (*dataset.Dataset, *dataset.Dataset) {
	t.Helper()
	tr, te, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	a, err := tr.Subset(r.Perm(tr.Len())[:n])
	if err != nil {
		t.Fatal(err)
	}
	b, err := te.Subset(r.Perm(te.Len())[:m])
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func accuracy(t testing.TB, m *nn.Model, d *dataset.Dataset) float64 {
	idx := make([]int, d.Len())
	for i := range idx {
		idx[i] = i
	}
	b := d.Batch(idx)
	pred, err := m.Predict(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i, p := range pred {
		if p == b.Labels[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(pred))
}

func TestFitSmallCNNLearnsMNIST(t *testing.T) {
	tr, te := mnistSubset(t, 2048, 1000)
	m := nn.SmallCNN(nn.Arch{Seed: 1})
	res, err := Fit(context.Background(), m, tr, Config{Epochs: 3, BatchSize: 64, LR: 0.05, Schedule: "constant", Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if acc := accuracy(t, m, te); acc < 0.85 {
		t.Errorf("test accuracy %.3f after 3 epochs on 2048 images, want ≥ 0.85", acc)
	}
	if len(res.History) != 3 || res.History[2].Loss >= res.History[0].Loss {
		t.Errorf("history %+v: loss should fall", res.History)
	}
}

func TestFitInterrupt(t *testing.T) {
	tr, _ := mnistSubset(t, 1024, 10)
	m := nn.SmallCNN(nn.Arch{Seed: 2})
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Epochs: 5, BatchSize: 32, Quiet: true, Sampler: &cancelAfter{n: 2, cancel: cancel, labels: tr.Labels}}
	res, err := Fit(ctx, m, tr, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The context is cancelled when epoch 3 starts: two full epochs, no step of the third.
	if res == nil || !res.Interrupted || len(res.History) != 2 || res.History[1].Partial {
		t.Fatalf("result %+v: want an interrupted run with two finished epochs", res)
	}
	if _, err := m.Logits(context.Background(), tr.Batch([]int{0, 1, 2})); err != nil {
		t.Errorf("interrupted model unusable: %v", err)
	}
}

// cancelAfter is a uniform sampler that cancels the context when epoch n starts.
type cancelAfter struct {
	n      int
	cancel func()
	labels []int
}

func (c *cancelAfter) Epoch(epoch int, r *rand.Rand) []int {
	if epoch == c.n {
		c.cancel()
	}
	return r.Perm(len(c.labels))
}

// fixedOrder is a sampler returning the same indices every epoch.
type fixedOrder []int

func (f fixedOrder) Epoch(int, *rand.Rand) []int { return f }

// TestFitSamplerOutOfRange: a sampler (possibly written in a cell) returning an index
// outside the training set gets an error naming it; it panicked in batch assembly.
func TestFitSamplerOutOfRange(t *testing.T) {
	tr, _ := mnistSubset(t, 40, 10)
	for _, bad := range []int{tr.Len(), -1} {
		_, err := Fit(context.Background(), nn.SmallCNN(nn.Arch{Seed: 1}), tr, Config{Epochs: 1, BatchSize: 8, Quiet: true, Sampler: fixedOrder{0, 1, bad}})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("index %d at position 2 of epoch 0", bad)) {
			t.Errorf("index %d: err = %v", bad, err)
		}
	}
}
