// Package runner implements `goinv run`: it executes a notebook's code cells in a goinv
// session without Jupyter, writes the outputs back in nbformat 4, and can render the
// result as one self-contained HTML page.
package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goinv/goinv/kernel/ipc"
	"github.com/goinv/goinv/kernel/supervisor"
)

const usage = `usage: goinv run NOTEBOOK.ipynb [flags]

Runs the notebook's code cells in a fresh goinv session, in order, and writes the
outputs back into the notebook (or into --out). Progress goes to standard error.
The exit status is 1 if a cell failed (the run stops there unless --allow-errors).
As with nbconvert, a cell tagged raises-exception may fail without stopping the
run, and a cell tagged skip-execution is not run.

Flags:
`

// Main runs `goinv run` with the arguments after "run" and returns the exit status.
func Main(args []string) int {
	fs := flag.NewFlagSet("goinv run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "write the executed notebook here (default: overwrite NOTEBOOK)")
	html := fs.String("html", "", "also write a self-contained HTML page here")
	timeout := fs.Duration("timeout", 0, "interrupt a cell that runs longer than this (0: no limit)")
	allowErrors := fs.Bool("allow-errors", false, "keep running after a failing cell and exit 0")
	// Accept flags before and after the notebook name.
	var paths []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(paths) != 1 {
		fs.Usage()
		return 2
	}
	path := paths[0]
	nb, err := ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goinv run:", err)
		return 1
	}
	dir, _ := filepath.Abs(filepath.Dir(path))
	res, err := Run(context.Background(), nb, Options{
		Supervisor:  supervisor.Options{Dir: dir},
		Timeout:     *timeout,
		AllowErrors: *allowErrors,
		Progress:    os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "goinv run:", err)
		return 1
	}
	dest := *out
	if dest == "" {
		dest = path
	}
	if err := nb.WriteFile(dest); err != nil {
		fmt.Fprintln(os.Stderr, "goinv run:", err)
		return 1
	}
	if *html != "" {
		if err := os.WriteFile(*html, []byte(HTML(nb, filepath.Base(path))), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "goinv run:", err)
			return 1
		}
	}
	tagged := ""
	if res.Expected > 0 {
		tagged += fmt.Sprintf(", %d raised as tagged", res.Expected)
	}
	if res.Skipped > 0 {
		tagged += fmt.Sprintf(", %d skipped as tagged", res.Skipped)
	}
	fmt.Fprintf(os.Stderr, "goinv run: %d cells run, %d failed%s, %s; wrote %s\n", res.Ran, res.Failed, tagged, res.Elapsed.Round(time.Millisecond), dest)
	if res.Failed > 0 && !*allowErrors {
		return 1
	}
	return 0
}

// Notebook is an nbformat 4 notebook. Fields the runner does not know are kept.
type Notebook struct {
	raw   map[string]any
	Cells []*Cell
}

// Cell is one cell of a notebook.
type Cell struct {
	raw     map[string]any
	Type    string // "code", "markdown", "raw"
	Source  string
	Outputs []map[string]any
}

// ReadFile reads a notebook.
func ReadFile(path string) (*Notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return nb, nil
}

// Parse decodes an nbformat 4 notebook.
func Parse(b []byte) (*Notebook, error) {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("not a notebook: %w", err)
	}
	if v, _ := raw["nbformat"].(float64); v != 4 {
		return nil, fmt.Errorf("nbformat %v is not supported (want 4)", raw["nbformat"])
	}
	nb := &Notebook{raw: raw}
	cells, _ := raw["cells"].([]any)
	for _, c := range cells {
		cm, ok := c.(map[string]any)
		if !ok {
			continue
		}
		cell := &Cell{raw: cm}
		cell.Type, _ = cm["cell_type"].(string)
		cell.Source = joinText(cm["source"])
		if outs, ok := cm["outputs"].([]any); ok {
			for _, o := range outs {
				if om, ok := o.(map[string]any); ok {
					cell.Outputs = append(cell.Outputs, om)
				}
			}
		}
		nb.Cells = append(nb.Cells, cell)
	}
	return nb, nil
}

// joinText reads nbformat's multiline strings (a string or a list of strings).
func joinText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, s := range x {
			if str, ok := s.(string); ok {
				b.WriteString(str)
			}
		}
		return b.String()
	}
	return ""
}

// splitLines writes a multiline string the way Jupyter does: a list of lines, each
// keeping its newline.
func splitLines(s string) []string {
	if s == "" {
		return []string{}
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Marshal encodes the notebook with the cells' current outputs.
func (nb *Notebook) Marshal() ([]byte, error) {
	cells := make([]any, 0, len(nb.Cells))
	for _, c := range nb.Cells {
		c.raw["source"] = splitLines(c.Source)
		if c.Type == "code" {
			outs := make([]any, 0, len(c.Outputs))
			for _, o := range c.Outputs {
				outs = append(outs, jupyterOutput(o))
			}
			c.raw["outputs"] = outs
			if _, ok := c.raw["execution_count"]; !ok {
				c.raw["execution_count"] = nil
			}
			if _, ok := c.raw["metadata"]; !ok {
				c.raw["metadata"] = map[string]any{}
			}
		}
		cells = append(cells, c.raw)
	}
	nb.raw["cells"] = cells
	// As Jupyter writes notebooks: one-space indent, keys sorted, <, > and &
	// as they are (encoding/json would write \u003c in HTML outputs and code).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb.raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jupyterOutput converts multiline text fields to line lists, as nbformat files do.
func jupyterOutput(o map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range o {
		out[k] = v
	}
	if t, ok := out["text"].(string); ok {
		out["text"] = splitLines(t)
	}
	if data, ok := out["data"].(map[string]any); ok {
		d := map[string]any{}
		for mime, v := range data {
			if s, ok := v.(string); ok && (strings.HasPrefix(mime, "text/") || mime == "image/svg+xml") {
				d[mime] = splitLines(s)
			} else {
				d[mime] = v
			}
		}
		out["data"] = d
	}
	return out
}

// WriteFile writes the notebook.
func (nb *Notebook) WriteFile(path string) error {
	b, err := nb.Marshal()
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Options configure Run.
type Options struct {
	// Supervisor starts the executor; the zero value runs `goinv executor`.
	Supervisor supervisor.Options
	// Timeout interrupts a cell that runs longer; zero means no limit.
	Timeout time.Duration
	// AllowErrors keeps running after a failing cell.
	AllowErrors bool
	// Progress receives one line per cell; nil means none.
	Progress io.Writer
}

// Result sums up a run.
type Result struct {
	Ran, Failed int
	// Expected counts the errors of cells tagged raises-exception, which are not
	// failures; Skipped the cells tagged skip-execution.
	Expected, Skipped int
	Elapsed           time.Duration
}

// The cell tags nbclient (and so `jupyter nbconvert --execute`) honours: a cell
// that is meant to fail, for a lesson on errors, and one that is not to be run.
const (
	tagRaisesException = "raises-exception"
	tagSkipExecution   = "skip-execution"
)

// hasTag reports whether the cell's metadata lists tag.
func (c *Cell) hasTag(tag string) bool {
	md, _ := c.raw["metadata"].(map[string]any)
	tags, _ := md["tags"].([]any)
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Run executes the notebook's code cells in a fresh session and stores their outputs.
func Run(ctx context.Context, nb *Notebook, opts Options) (Result, error) {
	start := time.Now()
	var res Result
	sess, err := supervisor.Start(opts.Supervisor)
	if err != nil {
		return res, fmt.Errorf("start session: %w", err)
	}
	defer sess.Close()
	var code []*Cell
	for _, c := range nb.Cells {
		if c.Type == "code" {
			code = append(code, c)
		}
	}
	displays := map[string][]map[string]any{} // display_id → outputs showing it
	count := 0
	for i, c := range code {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if strings.TrimSpace(c.Source) == "" {
			c.Outputs = nil
			c.raw["execution_count"] = nil
			continue
		}
		if c.hasTag(tagSkipExecution) {
			res.Skipped++
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "[%d/%d] %s  →  skipped (tagged %s)\n", i+1, len(code), firstLine(c.Source), tagSkipExecution)
			}
			continue
		}
		count++
		c.raw["execution_count"] = count
		rec := &recorder{cell: c, displays: displays, count: count, sess: sess}
		c.Outputs = nil
		t0 := time.Now()
		var timer *time.Timer
		if opts.Timeout > 0 {
			timer = time.AfterFunc(opts.Timeout, sess.Interrupt)
		}
		reply, err := sess.Execute(ipc.Request{Code: c.Source, StoreHistory: true, ExecutionCount: count}, rec.outputs())
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return res, fmt.Errorf("cell %d: %w", i+1, err)
		}
		rec.flush()
		res.Ran++
		status, _ := reply["status"].(string)
		line := fmt.Sprintf("[%d/%d] %s", i+1, len(code), firstLine(c.Source))
		if status != "ok" {
			expected := c.hasTag(tagRaisesException)
			if expected {
				res.Expected++
			} else {
				res.Failed++
			}
			ename, _ := reply["ename"].(string)
			evalue, _ := reply["evalue"].(string)
			// A reply decoded from the executor's JSON holds []any; one the supervisor
			// makes itself (a lost session) holds []string.
			tb := []any{}
			switch t := reply["traceback"].(type) {
			case []any:
				tb = t
			case []string:
				for _, l := range t {
					tb = append(tb, l)
				}
			}
			c.Outputs = append(c.Outputs, map[string]any{"output_type": "error", "ename": ename, "evalue": evalue, "traceback": tb})
			if opts.Progress != nil {
				note := ""
				if expected {
					note = ", as its tag " + tagRaisesException + " expects"
				}
				fmt.Fprintf(opts.Progress, "%s  →  %s: %s (%s%s)\n", line, ename, evalue, time.Since(t0).Round(time.Millisecond), note)
			}
			if !opts.AllowErrors && !expected {
				break
			}
			continue
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%s  →  ok (%s)\n", line, time.Since(t0).Round(time.Millisecond))
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len([]rune(s)) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return s
}

// recorder turns one cell's streams and events into nbformat outputs.
type recorder struct {
	cell      *Cell
	displays  map[string][]map[string]any
	count     int
	sess      *supervisor.Session
	clearNext bool // clear_output(wait=true): clear when the next output arrives
}

func (r *recorder) outputs() supervisor.Outputs {
	return supervisor.Outputs{Stream: r.stream, Event: r.event}
}

func (r *recorder) add(o map[string]any) {
	if r.clearNext {
		r.cell.Outputs = nil
		r.clearNext = false
	}
	r.cell.Outputs = append(r.cell.Outputs, o)
}

func (r *recorder) stream(name, text string) {
	if r.clearNext {
		r.cell.Outputs = nil
		r.clearNext = false
	}
	if n := len(r.cell.Outputs); n > 0 {
		last := r.cell.Outputs[n-1]
		if last["output_type"] == "stream" && last["name"] == name {
			last["text"] = last["text"].(string) + text
			return
		}
	}
	r.add(map[string]any{"output_type": "stream", "name": name, "text": text})
}

func (r *recorder) event(ev ipc.Event) {
	md := ev.Metadata
	if md == nil {
		md = map[string]any{}
	}
	switch ev.Kind {
	case ipc.EventDisplay:
		if ev.Update {
			for _, o := range r.displays[ev.DisplayID] {
				o["data"] = ev.Data
				o["metadata"] = md
			}
			return
		}
		o := map[string]any{"output_type": "display_data", "data": ev.Data, "metadata": md}
		if ev.DisplayID != "" {
			r.displays[ev.DisplayID] = append(r.displays[ev.DisplayID], o)
		}
		r.add(o)
	case ipc.EventExecuteResult:
		r.add(map[string]any{"output_type": "execute_result", "execution_count": r.count, "data": ev.Data, "metadata": md})
	case ipc.EventClearOutput:
		if ev.Wait {
			r.clearNext = true
		} else {
			r.cell.Outputs = nil
		}
	case ipc.EventInputRequest:
		// No one can type: answer with an empty line, as a closed terminal would.
		r.stream("stderr", "goinv run: the cell asked for input; answering with an empty line\n")
		r.sess.InputReply("")
	}
}

// flush drops a pending clear: nothing arrived after clear_output(wait=true).
func (r *recorder) flush() { r.clearNext = false }
