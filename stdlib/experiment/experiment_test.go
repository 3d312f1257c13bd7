package experiment

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/invariance"
	"github.com/goinv/goinv/stdlib/longtail"
	"github.com/goinv/goinv/stdlib/nn"
	"github.com/goinv/goinv/stdlib/nuisance"
)

func synthetic(name string, k, n int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	d := &dataset.Dataset{Name: name, C: 1, H: 6, W: 6}
	for c := 0; c < k; c++ {
		d.Classes = append(d.Classes, string(rune('a'+c)))
	}
	for i := 0; i < k*n; i++ {
		c := i % k
		for j := 0; j < 36; j++ {
			v := 0
			if j%k == c && rng.Intn(3) > 0 {
				v = 150 + rng.Intn(100)
			}
			d.Pix = append(d.Pix, uint8(v))
		}
		d.Labels = append(d.Labels, c)
	}
	return d
}

// linear is a deterministic stand-in for a trained model.
type linear struct {
	k int
	w []float32
}

func (m *linear) NumClasses() int { return m.k }
func (m *linear) Logits(_ context.Context, b dataset.Batch) ([]float32, error) {
	size := b.C * b.H * b.W
	out := make([]float32, b.N*m.k)
	for i := 0; i < b.N; i++ {
		for c := 0; c < m.k; c++ {
			var s float32
			for j := 0; j < size; j++ {
				s += m.w[c*size+j] * b.X[i*size+j]
			}
			out[i*m.k+c] = s
		}
	}
	return out, nil
}

type fakeTrainer struct {
	calls      int
	cancelAt   int
	cancel     context.CancelFunc
	sawMethods map[string]bool
}

func (f *fakeTrainer) train(ctx context.Context, method string, s *longtail.Split, seed int64) (nn.Classifier, error) {
	f.calls++
	if f.sawMethods == nil {
		f.sawMethods = map[string]bool{}
	}
	f.sawMethods[method] = true
	if f.cancelAt > 0 && f.calls == f.cancelAt {
		f.cancel()
		return nil, ctx.Err()
	}
	h := fnv.New64a()
	h.Write([]byte(method))
	rng := rand.New(rand.NewSource(seed ^ int64(h.Sum64())))
	k, size := s.NumClasses(), s.Train.ImageSize()
	m := &linear{k: k, w: make([]float32, k*size)}
	// Weights follow the class templates (so accuracy is high), plus noise.
	for c := 0; c < k; c++ {
		for j := 0; j < size; j++ {
			if j%k == c {
				m.w[c*size+j] = 1
			}
			m.w[c*size+j] += float32(rng.NormFloat64()) * 0.3
		}
	}
	return m, nil
}

func config(path string, tr *fakeTrainer) Config {
	return Config{
		Train: synthetic("syn", 3, 100, 1), Test: synthetic("syn", 3, 20, 2),
		Profile:    longtail.Counts(60, 20, 5),
		Transforms: []string{"background", "rotation"},
		Methods:    []string{"ERM", "DRS"},
		Instances:  2,
		Seed:       7,
		EKLD:       invariance.Options{Images: 5, Transforms: 4},
		Trainer:    tr.train, TrainerName: "fake",
		ResultsPath: path,
		Quiet:       true,
	}
}

func TestRunCollectsTidyTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r", "inv.csv")
	tr := &fakeTrainer{}
	res, err := Run(context.Background(), config(path, tr))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || len(res.Rows) != 2*2*2*3 || tr.calls != 8 || len(res.Runs) != 8 {
		t.Fatalf("complete %v, %d rows, %d trainings, %d runs", res.Complete, len(res.Rows), tr.calls, len(res.Runs))
	}
	for _, r := range res.Rows {
		if r.TrainSize != 60 && r.TrainSize != 20 && r.TrainSize != 5 {
			t.Errorf("train size %d", r.TrainSize)
		}
		if !(r.EKLD > 0) || r.Consistency < 0 || r.Consistency > 1 || r.TestAccuracy < 0 || r.TestAccuracy > 1 {
			t.Errorf("row %+v", r)
		}
	}
	// Instances shuffle which class is large.
	sizeOf := map[[2]int]int{}
	for _, r := range res.Select("background", "ERM") {
		sizeOf[[2]int{r.Instance, r.Class}] = r.TrainSize
	}
	same := true
	for c := 0; c < 3; c++ {
		same = same && sizeOf[[2]int{0, c}] == sizeOf[[2]int{1, c}]
	}
	if same {
		t.Error("both instances give every class the same size")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "transform,method,instance,class,train_size,ekld,consistency,test_accuracy\n") {
		t.Errorf("header: %q", strings.SplitN(string(data), "\n", 2)[0])
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Rows) != len(res.Rows) || loaded.Rows[5] != res.Rows[5] {
		t.Errorf("file does not hold the results")
	}
	ss := res.Summaries()
	if len(ss) != 4 || ss[0].Instances != 2 || ss[0].Points != 6 {
		t.Fatalf("summaries %+v", ss)
	}
	if !strings.Contains(res.String(), "Spearman") || !strings.Contains(res.HTML(), "<img") {
		t.Error("String/HTML lack the summary or the figures")
	}
	if _, err := os.Stat(path + ".runs.jsonl"); err != nil {
		t.Error(err)
	}
}

func TestRunResumesAfterInterrupt(t *testing.T) {
	dir := t.TempDir()
	// Reference: one uninterrupted run.
	ref, err := Run(context.Background(), config(filepath.Join(dir, "ref.csv"), &fakeTrainer{}))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inv.csv")
	ctx, cancel := context.WithCancel(context.Background())
	tr := &fakeTrainer{cancelAt: 4, cancel: cancel}
	part, err := Run(ctx, config(path, tr))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want Canceled", err)
	}
	if part.Complete || len(part.Rows) != 3*3 {
		t.Fatalf("partial: complete %v, %d rows", part.Complete, len(part.Rows))
	}
	tr2 := &fakeTrainer{}
	res, err := Run(context.Background(), config(path, tr2))
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 3 || tr2.calls != 5 {
		t.Errorf("resume skipped %d runs and trained %d models, want 3 and 5", res.Skipped, tr2.calls)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "ref.csv"))
	b, _ := os.ReadFile(path)
	if !bytes.Equal(a, b) {
		t.Errorf("interrupted and resumed results differ from an uninterrupted run:\n%s\n---\n%s", a, b)
	}
	if len(res.Rows) != len(ref.Rows) {
		t.Errorf("%d rows after resume, want %d", len(res.Rows), len(ref.Rows))
	}
	// Nothing left to do.
	tr3 := &fakeTrainer{}
	if _, err := Run(context.Background(), config(path, tr3)); err != nil || tr3.calls != 0 {
		t.Errorf("third call: err %v, %d trainings", err, tr3.calls)
	}
}

func TestRunRedoesCutShortRunAndRefusesOtherSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.csv")
	if _, err := Run(context.Background(), config(path, &fakeTrainer{})); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	// Drop the last two class rows: the last run is now cut short.
	os.WriteFile(path, []byte(strings.Join(lines[:len(lines)-3], "")), 0o644)
	tr := &fakeTrainer{}
	res, err := Run(context.Background(), config(path, tr))
	if err != nil {
		t.Fatal(err)
	}
	if tr.calls != 1 || len(res.Rows) != 24 {
		t.Errorf("%d trainings, %d rows; want 1 and 24", tr.calls, len(res.Rows))
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, data) {
		t.Error("file after redoing the cut-short run differs from the original")
	}
	// A crash in the middle of writing a line: the run it belongs to is run again.
	os.WriteFile(path, data[:len(data)-7], 0o644)
	tr = &fakeTrainer{}
	if res, err := Run(context.Background(), config(path, tr)); err != nil || tr.calls != 1 || len(res.Rows) != 24 {
		t.Errorf("after a cut line: err %v, %d trainings; want the last run again", err, tr.calls)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("file after redoing the run with a cut line differs from the original")
	}
	os.WriteFile(path, []byte("name,size\nx,1\n"), 0o644)
	if _, err := Run(context.Background(), config(path, &fakeTrainer{})); err == nil || !strings.Contains(err.Error(), "choose another ResultsPath, or delete it") {
		t.Errorf("a results path holding another CSV: err %v", err)
	}
	os.WriteFile(path, data, 0o644)
	cfg := config(path, &fakeTrainer{})
	cfg.EKLD.Transforms = 9
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("resume with other settings: err %v", err)
	}
}

func TestSummaries(t *testing.T) {
	var rows []Row
	// Two instances, 6 classes: eKLD = 1/size, so ρ = −1; tail sizes 1,2,3 head 4,5,6.
	for inst := 0; inst < 2; inst++ {
		for c := 0; c < 6; c++ {
			size := (c+inst)%6 + 1
			rows = append(rows, Row{Transform: "t", Method: "m", Instance: inst, Class: c, TrainSize: size * 10, EKLD: 1 / float64(size), TestAccuracy: 0.5})
		}
	}
	s := (&Results{Rows: rows}).Summaries()
	if len(s) != 1 {
		t.Fatal(s)
	}
	tail := (1 + 0.5 + 1.0/3) / 3
	head := (0.25 + 0.2 + 1.0/6) / 3
	if math.Abs(s[0].Spearman+1) > 1e-12 || math.Abs(s[0].TailHeadRatio-tail/head) > 1e-12 || s[0].BalancedAccuracy != 0.5 {
		t.Errorf("summary %+v (want ratio %g)", s[0], tail/head)
	}
	if !s[0].Meets(-0.5, 2.9) || s[0].Meets(-0.5, 3) {
		t.Error("Meets disagrees with the ratio 2.97")
	}
	// A transform without results says so instead of drawing an empty chart titled as
	// if it had data.
	res := &Results{Rows: rows}
	if got := res.Figure("t").String(); got != `Figure("t: eKLD by class size")` {
		t.Errorf("figure of t: %s", got)
	}
	if got := res.Figure("rotaton").String(); got != `Figure("rotaton: no results (these results have t)")` {
		t.Errorf("figure of a transform without results: %s", got)
	}
	if got := (&Results{}).Figure("rotation").String(); got != `Figure("rotation: no results (these results are empty)")` {
		t.Errorf("figure of empty results: %s", got)
	}
}

// TestRunRejectsBadSettingsBeforeTraining: a negative Instances used to run the default
// 3, and a misspelt nuisance listed second failed only after the first one's runs.
func TestRunRejectsBadSettingsBeforeTraining(t *testing.T) {
	tr := &fakeTrainer{}
	c := config("", tr)
	c.Instances = -2
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "Instances = -2") {
		t.Errorf("Instances -2: err = %v", err)
	}
	c = config("", tr)
	c.Transforms = []string{"background", "rotaton"}
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), `"rotaton"`) {
		t.Errorf("misspelt nuisance: err = %v", err)
	}
	c.Custom = map[string]nuisance.Transform{"flip": nuisance.Identity{}, "blur": nuisance.Identity{}}
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), `or a key of Custom ("blur", "flip")`) {
		t.Errorf("misspelt nuisance with Custom ones: err = %v, want Custom's names listed", err)
	}
	c = config("", tr)
	c.EKLD.Transforms = -5
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "EKLD.Transforms = -5") {
		t.Errorf("negative eKLD transforms: err = %v", err)
	}
	c = config("", tr)
	c.Trainer = nil
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "Config.Trainer is nil: set it to experiment.SmallCNNTrainer") {
		t.Errorf("no trainer: err = %v, want what to set", err)
	}
	if tr.calls != 0 {
		t.Errorf("%d trainings ran before the error", tr.calls)
	}
}
