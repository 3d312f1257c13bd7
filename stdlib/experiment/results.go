package experiment

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/goinv/goinv/stdlib/internal/csvfile"
	"github.com/goinv/goinv/stdlib/invariance"
	"github.com/goinv/goinv/stdlib/plots"
)

// Row is one class of one run: the tidy table's unit.
type Row struct {
	Transform    string  // nuisance name
	Method       string  // training method
	Instance     int     // long-tail instance (class order)
	Class        int     // label
	TrainSize    int     // training images of the class in this instance
	EKLD         float64 // eKLD of the class, nats
	Consistency  float64 // fraction of (x, x') pairs with the same argmax
	TestAccuracy float64 // accuracy on the class's images of the (transformed) test set
}

// Columns are the CSV columns, in order.
var Columns = []string{"transform", "method", "instance", "class", "train_size", "ekld", "consistency", "test_accuracy"}

func (r Row) record() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{r.Transform, r.Method, strconv.Itoa(r.Instance), strconv.Itoa(r.Class), strconv.Itoa(r.TrainSize),
		f(r.EKLD), f(r.Consistency), f(r.TestAccuracy)}
}

func parseRow(rec []string) (Row, error) {
	if len(rec) != len(Columns) {
		return Row{}, fmt.Errorf("%d fields, want %d", len(rec), len(Columns))
	}
	var r Row
	var err error
	r.Transform, r.Method = rec[0], rec[1]
	ints := []*int{&r.Instance, &r.Class, &r.TrainSize}
	for i, p := range ints {
		if *p, err = strconv.Atoi(rec[2+i]); err != nil {
			return Row{}, fmt.Errorf("column %s: %w", Columns[2+i], err)
		}
	}
	floats := []*float64{&r.EKLD, &r.Consistency, &r.TestAccuracy}
	for i, p := range floats {
		if *p, err = strconv.ParseFloat(rec[5+i], 64); err != nil {
			return Row{}, fmt.Errorf("column %s: %w", Columns[5+i], err)
		}
	}
	return r, nil
}

// Results is the tidy table of an experiment, one Row per (transform, method,
// instance, class), with summaries and figures derived from it.
type Results struct {
	Rows []Row
	// Complete is false when the experiment was interrupted or failed before every run
	// finished; the rows then hold the finished runs only.
	Complete bool
	// Skipped counts the runs found finished in the results file and not redone.
	Skipped int
	// Runs records the runs done by this call (not the skipped ones), in order.
	Runs []RunInfo
}

// WriteCSV writes the rows as CSV with the header Columns.
func (res *Results) WriteCSV(w io.Writer) error {
	return csvfile.Write(w, Columns, len(res.Rows), func(i int) []string { return res.Rows[i].record() })
}

// SaveCSV writes the rows to the file at path.
func (res *Results) SaveCSV(path string) error {
	return csvfile.Save(path, "results", res.WriteCSV)
}

// ReadCSV reads rows written by WriteCSV (or by a Run's results file).
func ReadCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if strings.Join(recs[0], ",") != strings.Join(Columns, ",") {
		return nil, fmt.Errorf("header %q, want %q", strings.Join(recs[0], ","), strings.Join(Columns, ","))
	}
	rows := make([]Row, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		row, err := parseRow(rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+2, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Load reads a results CSV into a Results (for summaries and figures of a finished
// experiment without rerunning it).
func Load(path string) (*Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load results: %w", err)
	}
	defer f.Close()
	rows, err := ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("load results %s: %w", path, err)
	}
	return &Results{Rows: rows, Complete: true}, nil
}

// Transforms returns the transforms in the rows, in order of first appearance.
func (res *Results) Transforms() []string {
	return uniq(res.Rows, func(r Row) string { return r.Transform })
}

// Methods returns the methods in the rows, in order of first appearance.
func (res *Results) Methods() []string {
	return uniq(res.Rows, func(r Row) string { return r.Method })
}

func uniq(rows []Row, key func(Row) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rows {
		if k := key(r); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Select returns the rows of one transform and method (either "" matches all).
func (res *Results) Select(transform, method string) []Row {
	var out []Row
	for _, r := range res.Rows {
		if (transform == "" || r.Transform == transform) && (method == "" || r.Method == method) {
			out = append(out, r)
		}
	}
	return out
}

// Series returns one invariance.Series per method for a transform, pooled over
// instances: the input of the paper's figure.
func (res *Results) Series(transform string) []invariance.Series {
	var out []invariance.Series
	for _, m := range res.Methods() {
		rows := res.Select(transform, m)
		if len(rows) == 0 {
			continue
		}
		s := invariance.Series{Name: m}
		for _, r := range rows {
			s.TrainSize = append(s.TrainSize, float64(r.TrainSize))
			s.EKLD = append(s.EKLD, r.EKLD)
		}
		out = append(out, s)
	}
	return out
}

// Figure draws eKLD against training class size for one transform, one series per
// method pooled over instances, with Spearman's ρ in the legend.
func (res *Results) Figure(transform string) *plots.Figure {
	series := res.Series(transform)
	if len(series) == 0 {
		// An empty chart titled as if it had data hid a misspelt transform.
		if len(res.Rows) == 0 {
			return invariance.Figure(fmt.Sprintf("%s: no results (these results are empty)", transform))
		}
		return invariance.Figure(fmt.Sprintf("%s: no results (these results have %s)", transform, strings.Join(res.Transforms(), ", ")))
	}
	return invariance.Figure(fmt.Sprintf("%s: eKLD by class size", transform), series...)
}

// Figures returns Figure for every transform, in order.
func (res *Results) Figures() []*plots.Figure {
	var out []*plots.Figure
	for _, t := range res.Transforms() {
		out = append(out, res.Figure(t))
	}
	return out
}

// Summary condenses one (transform, method) over its instances.
type Summary struct {
	Transform, Method string
	Instances         int // runs pooled
	Points            int // (class, instance) points pooled
	// Spearman is the pooled Spearman ρ(training size, eKLD) over every class of every
	// instance: negative when small classes are less invariant.
	Spearman float64
	// TailEKLD and HeadEKLD are the mean eKLD of the TailHeadK smallest and largest
	// classes of each instance, pooled over instances; TailHeadRatio is their ratio.
	TailEKLD, HeadEKLD, TailHeadRatio float64
	// MeanEKLD is the mean eKLD over all points.
	MeanEKLD float64
	// BalancedAccuracy is the mean per-class test accuracy (the test set is balanced).
	BalancedAccuracy float64
	// TailAccuracy and HeadAccuracy are the mean test accuracy of the same tail and
	// head classes.
	TailAccuracy, HeadAccuracy float64
}

// TailHeadK is the number of smallest and largest classes of an instance that the
// tail/head ratio compares (the finding's "3 smallest vs 3 largest").
const TailHeadK = 3

// Meets reports whether the summary shows the paper's finding at the given thresholds:
// Spearman ≤ maxRho and tail/head ratio ≥ minRatio.
func (s Summary) Meets(maxRho, minRatio float64) bool {
	return s.Spearman <= maxRho && s.TailHeadRatio >= minRatio
}

// Summaries returns one Summary per (transform, method), in order of appearance.
func (res *Results) Summaries() Summaries {
	var out Summaries
	for _, t := range res.Transforms() {
		for _, m := range res.Methods() {
			rows := res.Select(t, m)
			if len(rows) == 0 {
				continue
			}
			out = append(out, summarize(t, m, rows))
		}
	}
	return out
}

func summarize(t, m string, rows []Row) Summary {
	s := Summary{Transform: t, Method: m, Points: len(rows)}
	byInst := map[int][]Row{}
	var insts []int
	var sizes, ekld []float64
	var accSum float64
	for _, r := range rows {
		if _, ok := byInst[r.Instance]; !ok {
			insts = append(insts, r.Instance)
		}
		byInst[r.Instance] = append(byInst[r.Instance], r)
		sizes = append(sizes, float64(r.TrainSize))
		ekld = append(ekld, r.EKLD)
		s.MeanEKLD += r.EKLD
		accSum += r.TestAccuracy
	}
	s.Instances = len(insts)
	s.MeanEKLD /= float64(len(rows))
	s.BalancedAccuracy = accSum / float64(len(rows))
	s.Spearman = invariance.Spearman(sizes, ekld)
	var nt, nh int
	for _, i := range insts {
		rs := byInst[i]
		if len(rs) < 2*TailHeadK {
			continue
		}
		sort.SliceStable(rs, func(a, b int) bool { return rs[a].TrainSize < rs[b].TrainSize })
		for k := 0; k < TailHeadK; k++ {
			s.TailEKLD += rs[k].EKLD
			s.TailAccuracy += rs[k].TestAccuracy
			s.HeadEKLD += rs[len(rs)-1-k].EKLD
			s.HeadAccuracy += rs[len(rs)-1-k].TestAccuracy
			nt++
			nh++
		}
	}
	if nt == 0 {
		s.TailEKLD, s.HeadEKLD, s.TailHeadRatio, s.TailAccuracy, s.HeadAccuracy = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return s
	}
	s.TailEKLD /= float64(nt)
	s.HeadEKLD /= float64(nh)
	s.TailAccuracy /= float64(nt)
	s.HeadAccuracy /= float64(nh)
	s.TailHeadRatio = s.TailEKLD / s.HeadEKLD
	return s
}

// Summaries is the list of per-(transform, method) summaries, rendered as a table.
type Summaries []Summary

func fmtf(v float64, format string) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

var summaryHeader = []string{"transform", "method", "instances", "Spearman ρ(size, eKLD)", "tail/head eKLD", "tail eKLD", "head eKLD", "mean eKLD", "balanced acc", "tail acc", "head acc"}

func (s Summary) cells() []string {
	return []string{s.Transform, s.Method, strconv.Itoa(s.Instances), fmtf(s.Spearman, "%.3f"), fmtf(s.TailHeadRatio, "%.2f×"),
		fmtf(s.TailEKLD, "%.4f"), fmtf(s.HeadEKLD, "%.4f"), fmtf(s.MeanEKLD, "%.4f"),
		fmtf(100*s.BalancedAccuracy, "%.1f%%"), fmtf(100*s.TailAccuracy, "%.1f%%"), fmtf(100*s.HeadAccuracy, "%.1f%%")}
}

// String renders the summaries as aligned text.
func (ss Summaries) String() string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(summaryHeader, "\t"))
	for _, s := range ss {
		fmt.Fprintln(tw, strings.Join(s.cells(), "\t"))
	}
	tw.Flush()
	return sb.String()
}

// HTML renders the summaries as an HTML table.
func (ss Summaries) HTML() string {
	var sb strings.Builder
	sb.WriteString("<table>\n<thead><tr>")
	for _, h := range summaryHeader {
		sb.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	sb.WriteString("</tr></thead>\n<tbody>\n")
	for _, s := range ss {
		sb.WriteString("<tr>")
		for _, c := range s.cells() {
			sb.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		sb.WriteString("</tr>\n")
	}
	sb.WriteString("</tbody>\n</table>\n")
	return sb.String()
}

// String summarizes the results as text: the per-(transform, method) table.
func (res *Results) String() string {
	state := "complete"
	if !res.Complete {
		state = "INTERRUPTED (finished runs only)"
	}
	return fmt.Sprintf("%d rows, %s\n%s", len(res.Rows), state, res.Summaries())
}

// HTML renders the summary table followed by one figure per transform.
func (res *Results) HTML() string {
	var sb strings.Builder
	if !res.Complete {
		sb.WriteString("<p><b>Interrupted:</b> finished runs only.</p>\n")
	}
	sb.WriteString(res.Summaries().HTML())
	for _, f := range res.Figures() {
		sb.WriteString(f.HTML())
		sb.WriteString("\n")
	}
	return sb.String()
}
