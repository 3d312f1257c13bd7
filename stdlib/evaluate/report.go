package evaluate

import (
	"fmt"
	"html"
	"math"
	"strings"
	"text/tabwriter"
)

// Report holds the accuracy figures of a classifier on a labelled set.
type Report struct {
	Classes []string // class names, indexed by label
	N       int      // images evaluated
	Correct int      // images whose argmax is their label

	// Accuracy is Correct / N.
	Accuracy float64
	// BalancedAccuracy is the mean of PerClass over the classes that have images: on a
	// balanced test set after long-tailed training it weighs every class the same.
	BalancedAccuracy float64
	// PerClass[c] is the accuracy on the images of class c (the recall of c), NaN
	// when the set has no image of c.
	PerClass []float64
	// Support[c] is the number of images of class c.
	Support []int
	// Confusion counts true (rows) against predicted (columns) classes.
	Confusion *Confusion
}

// className returns the name of class c, or its number when there are no names.
func className(names []string, c int) string {
	if c < len(names) && names[c] != "" {
		return names[c]
	}
	return fmt.Sprint(c)
}

// String renders the report as a plain-text table.
func (r *Report) String() string {
	var sb strings.Builder
	sb.WriteString(r.summary())
	sb.WriteByte('\n')
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\timages\taccuracy\t")
	for c := range r.PerClass {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", className(r.Classes, c), r.Support[c], pct(r.PerClass[c]))
	}
	tw.Flush()
	return sb.String()
}

// HTML renders the report as an HTML table.
func (r *Report) HTML() string {
	var sb strings.Builder
	if r.N == 0 {
		fmt.Fprintf(&sb, "<p>%s</p>\n", r.summary())
	} else {
		fmt.Fprintf(&sb, "<p>accuracy <b>%.2f%%</b> (%d/%d) · balanced accuracy <b>%.2f%%</b></p>\n", 100*r.Accuracy, r.Correct, r.N, 100*r.BalancedAccuracy)
	}
	sb.WriteString("<table>\n<thead><tr><th>class</th><th>images</th><th>accuracy</th></tr></thead>\n<tbody>\n")
	for c := range r.PerClass {
		fmt.Fprintf(&sb, "<tr><td>%s</td><td>%d</td><td>%s</td></tr>\n", html.EscapeString(className(r.Classes, c)), r.Support[c], pct(r.PerClass[c]))
	}
	sb.WriteString("</tbody>\n</table>\n")
	return sb.String()
}

// summary is the report's first line. With no image evaluated it says so: "accuracy
// 0.00% (0/0)" read as a model that is always wrong.
func (r *Report) summary() string {
	if r.N == 0 {
		return "no images evaluated: the dataset is empty"
	}
	return fmt.Sprintf("accuracy %.2f%% (%d/%d) · balanced accuracy %.2f%%", 100*r.Accuracy, r.Correct, r.N, 100*r.BalancedAccuracy)
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f%%", 100*v)
}

// Confusion is a confusion matrix: Counts[t][p] is the number of images of true class t
// predicted as class p.
type Confusion struct {
	Classes []string
	Counts  [][]int
}

// NewConfusion counts labels against predictions over k classes. It panics if the
// slices differ in length or hold a class outside [0, k), as gonum does for
// mismatched inputs.
func NewConfusion(labels, predictions []int, k int, classes []string) *Confusion {
	if len(labels) != len(predictions) {
		panic(fmt.Sprintf("evaluate: %d labels for %d predictions", len(labels), len(predictions)))
	}
	c := &Confusion{Classes: classes, Counts: make([][]int, k)}
	for i := range c.Counts {
		c.Counts[i] = make([]int, k)
	}
	for i, t := range labels {
		p := predictions[i]
		if t < 0 || t >= k || p < 0 || p >= k {
			panic(fmt.Sprintf("evaluate: label %d or prediction %d of item %d is outside [0, %d)", t, p, i, k))
		}
		c.Counts[t][p]++
	}
	return c
}

// K returns the number of classes.
func (c *Confusion) K() int { return len(c.Counts) }

// Report derives accuracy, balanced accuracy and per-class accuracy from the counts.
func (c *Confusion) Report() *Report {
	k := c.K()
	r := &Report{Classes: c.Classes, PerClass: make([]float64, k), Support: make([]int, k), Confusion: c}
	var sum float64
	var present int
	for t := 0; t < k; t++ {
		for p := 0; p < k; p++ {
			r.Support[t] += c.Counts[t][p]
		}
		r.N += r.Support[t]
		r.Correct += c.Counts[t][t]
		if r.Support[t] == 0 {
			r.PerClass[t] = math.NaN()
			continue
		}
		r.PerClass[t] = float64(c.Counts[t][t]) / float64(r.Support[t])
		sum += r.PerClass[t]
		present++
	}
	if r.N > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.N)
	}
	if present > 0 {
		r.BalancedAccuracy = sum / float64(present)
	}
	return r
}

// Normalized returns the counts divided by their row sums: row t is the distribution
// of predictions for true class t (a row without images stays 0).
func (c *Confusion) Normalized() [][]float64 {
	out := make([][]float64, c.K())
	for t, row := range c.Counts {
		out[t] = make([]float64, len(row))
		var s int
		for _, v := range row {
			s += v
		}
		if s == 0 {
			continue
		}
		for p, v := range row {
			out[t][p] = float64(v) / float64(s)
		}
	}
	return out
}

// String renders the counts as a plain-text matrix (rows: true class, columns: predicted).
func (c *Confusion) String() string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "true\\pred\t")
	for p := 0; p < c.K(); p++ {
		fmt.Fprintf(tw, "%s\t", className(c.Classes, p))
	}
	fmt.Fprintln(tw)
	for t, row := range c.Counts {
		fmt.Fprintf(tw, "%s\t", className(c.Classes, t))
		for _, v := range row {
			fmt.Fprintf(tw, "%d\t", v)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	return sb.String()
}

// HTML renders the counts as an HTML table whose cells are shaded by the row-normalized
// rate, a heatmap that needs no image.
func (c *Confusion) HTML() string {
	norm := c.Normalized()
	var sb strings.Builder
	sb.WriteString("<table>\n<thead><tr><th>true \\ predicted</th>")
	for p := 0; p < c.K(); p++ {
		fmt.Fprintf(&sb, "<th>%s</th>", html.EscapeString(className(c.Classes, p)))
	}
	sb.WriteString("</tr></thead>\n<tbody>\n")
	for t, row := range c.Counts {
		fmt.Fprintf(&sb, "<tr><th>%s</th>", html.EscapeString(className(c.Classes, t)))
		for p, v := range row {
			r, g, b := heatRGB(norm[t][p])
			fg := "#000"
			if norm[t][p] > 0.55 {
				fg = "#fff"
			}
			fmt.Fprintf(&sb, `<td style="background:rgb(%d,%d,%d);color:%s;text-align:right">%d</td>`, r, g, b, fg, v)
		}
		sb.WriteString("</tr>\n")
	}
	sb.WriteString("</tbody>\n</table>\n")
	return sb.String()
}
