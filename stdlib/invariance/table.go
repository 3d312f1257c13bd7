package invariance

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/goinv/goinv/stdlib/internal/csvfile"
	"github.com/goinv/goinv/stdlib/plots"
)

// ClassResult is the measurement of one class.
type ClassResult struct {
	Class     int    // label
	Name      string // class name
	TrainSize int    // training images of the class; -1 when unknown
	Images    int    // test images x measured
	Pairs     int    // pairs (x, x') measured

	// EKLD is the mean over images x of the mean over transforms x' of
	// KL(p(y|x) ‖ p(y|x')), in nats.
	EKLD float64
	// EKLDSE is the standard error of EKLD over the images (transforms averaged first).
	EKLDSE float64
	// Consistency is the fraction of pairs whose argmax agree.
	Consistency float64
	// Accuracy is the fraction of transformed images x' classified as their label:
	// the accuracy under the nuisance.
	Accuracy float64
	// CleanAccuracy is the fraction of raw images x classified as their label.
	CleanAccuracy float64
}

// Table is the per-class result of EKLD, one row per class.
type Table struct {
	Rows               []ClassResult
	Images, Transforms int   // requested per class and per image
	Seed               int64 // seed of the draw
	// Complete is false when the measurement was interrupted; the rows then cover the
	// images measured so far (Images says how many per class).
	Complete bool
}

// MeanEKLD returns the unweighted mean of EKLD over the measured classes.
func (t *Table) MeanEKLD() float64 {
	var s float64
	var n int
	for _, r := range t.Rows {
		if r.Images > 0 {
			s += r.EKLD
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// sizesEKLD returns the train sizes and eKLD of the rows with a known size.
func (t *Table) sizesEKLD() (sizes, ekld []float64) {
	for _, r := range t.Rows {
		if r.Images > 0 && r.TrainSize >= 0 {
			sizes = append(sizes, float64(r.TrainSize))
			ekld = append(ekld, r.EKLD)
		}
	}
	return sizes, ekld
}

// Spearman returns Spearman's rank correlation between training size and eKLD over
// the classes (NaN without train sizes). The paper's finding is a negative value.
func (t *Table) Spearman() float64 {
	s, e := t.sizesEKLD()
	return Spearman(s, e)
}

// TailHeadRatio returns the mean eKLD of the k smallest classes divided by that of
// the k largest (see the package function TailHeadRatio).
func (t *Table) TailHeadRatio(k int) float64 {
	s, e := t.sizesEKLD()
	return TailHeadRatio(s, e, k)
}

// Figure draws eKLD against training size for this table, labelled name.
func (t *Table) Figure(name string) *plots.Figure {
	s, e := t.sizesEKLD()
	return Figure("eKLD by training class size", Series{Name: name, TrainSize: s, EKLD: e})
}

func sizeText(n int) string {
	if n < 0 {
		return "–"
	}
	return strconv.Itoa(n)
}

func num(v float64, format string) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

// String renders the table as aligned text with a summary line.
func (t *Table) String() string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\ttrain size\teKLD\t± se\tconsistency\taccuracy\t")
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, sizeText(r.TrainSize),
			num(r.EKLD, "%.4f"), num(r.EKLDSE, "%.4f"), num(100*r.Consistency, "%.1f%%"), num(100*r.Accuracy, "%.1f%%"))
	}
	tw.Flush()
	sb.WriteString(t.summary())
	return sb.String()
}

func (t *Table) summary() string {
	s := fmt.Sprintf("%d images × %d transforms per class, seed %d · mean eKLD %.4f", t.Images, t.Transforms, t.Seed, t.MeanEKLD())
	if rho := t.Spearman(); !math.IsNaN(rho) {
		s += fmt.Sprintf(" · Spearman(size, eKLD) %.3f", rho)
	}
	if !t.Complete {
		s += " · INTERRUPTED (partial)"
	}
	return s + "\n"
}

// HTML renders the table for a notebook.
func (t *Table) HTML() string {
	var sb strings.Builder
	sb.WriteString("<table>\n<thead><tr><th>class</th><th>train size</th><th>eKLD</th><th>± se</th><th>consistency</th><th>accuracy</th></tr></thead>\n<tbody>\n")
	for _, r := range t.Rows {
		fmt.Fprintf(&sb, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			html.EscapeString(r.Name), sizeText(r.TrainSize), num(r.EKLD, "%.4f"), num(r.EKLDSE, "%.4f"),
			num(100*r.Consistency, "%.1f%%"), num(100*r.Accuracy, "%.1f%%"))
	}
	sb.WriteString("</tbody>\n</table>\n<p>" + html.EscapeString(strings.TrimSpace(t.summary())) + "</p>\n")
	return sb.String()
}

// CSVHeader is the header row WriteCSV writes.
var CSVHeader = []string{"class", "name", "train_size", "images", "pairs", "ekld", "ekld_se", "consistency", "accuracy", "clean_accuracy"}

// WriteCSV writes the table as CSV with the header CSVHeader.
func (t *Table) WriteCSV(w io.Writer) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return csvfile.Write(w, CSVHeader, len(t.Rows), func(i int) []string {
		r := t.Rows[i]
		return []string{strconv.Itoa(r.Class), r.Name, strconv.Itoa(r.TrainSize), strconv.Itoa(r.Images), strconv.Itoa(r.Pairs),
			f(r.EKLD), f(r.EKLDSE), f(r.Consistency), f(r.Accuracy), f(r.CleanAccuracy)}
	})
}

// SaveCSV writes the table to the file at path.
func (t *Table) SaveCSV(path string) error {
	return csvfile.Save(path, "eKLD table", t.WriteCSV)
}
