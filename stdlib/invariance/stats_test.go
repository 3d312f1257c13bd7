package invariance

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestRanksTies(t *testing.T) {
	got := Ranks([]float64{10, 20, 20, 5, 20})
	want := []float64{2, 4, 4, 1, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	}
}

func TestSpearman(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	if r := Spearman(x, []float64{2, 4, 6, 8, 100}); math.Abs(r-1) > 1e-12 {
		t.Errorf("monotone increasing: %g", r)
	}
	if r := Spearman(x, []float64{9, 7, 5, 3, -100}); math.Abs(r+1) > 1e-12 {
		t.Errorf("monotone decreasing: %g", r)
	}
	// With ties, ρ is Pearson on fractional ranks: y ranks 1, 2, 3.5, 5, 3.5.
	// scipy.stats.spearmanr([1,2,3,4,5],[5,6,7,8,7]) = 0.8207826816681233.
	if r := Spearman(x, []float64{5, 6, 7, 8, 7}); math.Abs(r-0.8207826816681233) > 1e-12 {
		t.Errorf("with ties: %.16g", r)
	}
	if r := Spearman(x, []float64{1, 1, 1, 1, 1}); !math.IsNaN(r) {
		t.Errorf("constant y: %g, want NaN", r)
	}
}

func TestTailHeadRatio(t *testing.T) {
	sizes := []float64{1000, 5, 50, 500, 10, 100}
	ekld := []float64{1, 8, 3, 2, 6, 3}
	// 3 smallest: sizes 5, 10, 50 → 8, 6, 3; 3 largest: 1000, 500, 100 → 1, 2, 3.
	if r := TailHeadRatio(sizes, ekld, 3); math.Abs(r-17.0/6) > 1e-12 {
		t.Errorf("ratio %g, want %g", r, 17.0/6)
	}
	if r := TailHeadRatio(sizes[:5], ekld[:5], 3); !math.IsNaN(r) {
		t.Errorf("too few classes: %g", r)
	}
}

func TestTableOutputsAndFigure(t *testing.T) {
	tab := &Table{Images: 2, Transforms: 3, Complete: true, Rows: []ClassResult{
		{Class: 0, Name: "zero", TrainSize: 1000, Images: 2, Pairs: 6, EKLD: 0.01, Consistency: 0.99, Accuracy: 0.98},
		{Class: 1, Name: "one", TrainSize: 100, Images: 2, Pairs: 6, EKLD: 0.05, Consistency: 0.9, Accuracy: 0.9},
		{Class: 2, Name: "two", TrainSize: 10, Images: 2, Pairs: 6, EKLD: 0.2, Consistency: 0.7, Accuracy: 0.6},
	}}
	if r := tab.Spearman(); math.Abs(r+1) > 1e-12 {
		t.Errorf("Spearman %g", r)
	}
	s := tab.String()
	for _, want := range []string{"zero", "1000", "0.2000", "70.0%", "Spearman(size, eKLD) -1.000"} {
		if !strings.Contains(s, want) {
			t.Errorf("String lacks %q:\n%s", want, s)
		}
	}
	if h := tab.HTML(); !strings.Contains(h, "<td>two</td>") {
		t.Errorf("HTML: %s", h)
	}
	var buf bytes.Buffer
	if err := tab.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || lines[0] != strings.Join(CSVHeader, ",") || !strings.HasPrefix(lines[3], "2,two,10,2,6,0.2,") {
		t.Errorf("CSV:\n%s", buf.String())
	}
	fig := Figure("test", Series{Name: "ERM", TrainSize: []float64{10, 100, 1000, 10}, EKLD: []float64{0.3, 0.1, 0.01, 0.2}},
		Series{Name: "DRS", TrainSize: []float64{10, 100, 1000}, EKLD: []float64{0.2, 0.1, 0.02}})
	png := fig.PNG()
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		if _, err := fig.Render("png"); err != nil {
			t.Fatal(err)
		}
		t.Fatalf("PNG of %d bytes", len(png))
	}
	if len(Figure("empty").PNG()) == 0 {
		t.Error("an empty figure does not render")
	}
}
