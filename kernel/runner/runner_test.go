package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinv/goinv/kernel/executor"
	"github.com/goinv/goinv/kernel/supervisor"
)

func TestMain(m *testing.M) {
	if os.Getenv("GOINV_TEST_EXECUTOR") == "1" {
		os.Exit(executor.Main())
	}
	os.Exit(m.Run())
}

func testOptions() Options {
	return Options{Supervisor: supervisor.Options{
		Path: os.Args[0],
		Args: []string{"-test.run=^$"},
		Env:  append(os.Environ(), "GOINV_TEST_EXECUTOR=1"),
	}}
}

func notebook(t *testing.T, cells ...[2]string) *Notebook {
	t.Helper()
	var cs []any
	for _, c := range cells {
		cs = append(cs, map[string]any{"cell_type": c[0], "source": c[1], "metadata": map[string]any{}})
	}
	b, _ := json.Marshal(map[string]any{"nbformat": 4, "nbformat_minor": 5, "metadata": map[string]any{"kernelspec": map[string]any{"name": "goinv"}}, "cells": cs})
	nb, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return nb
}

func TestRunNotebook(t *testing.T) {
	nb := notebook(t,
		[2]string{"markdown", "# Title\n\nSome *text* with `code`."},
		[2]string{"code", "x := 20\nfmt.Println(\"hello\")\nfmt.Println(\"world\")\nx + 1"},
		[2]string{"code", "h := display.HTML(\"<b>one</b>\")\nh.Update(\"<b>two</b>\")"},
		[2]string{"code", "import \"image\"\nimg := image.NewGray(image.Rect(0, 0, 8, 8))\nimg"},
		[2]string{"code", "display.Markdown(\"first\")\ndisplay.ClearWait()\ndisplay.Markdown(\"second\")"},
		[2]string{"code", "panic(\"bad cell\")"},
		[2]string{"code", "x"},
	)
	opts := testOptions()
	res, err := Run(context.Background(), nb, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 5 || res.Failed != 1 {
		t.Errorf("ran %d failed %d, want 5 and 1 (stop at the error)", res.Ran, res.Failed)
	}
	c := nb.Cells[1]
	if len(c.Outputs) != 2 || c.Outputs[0]["text"] != "hello\nworld\n" {
		t.Fatalf("streams not merged: %v", c.Outputs)
	}
	if d := c.Outputs[1]["data"].(map[string]any); c.Outputs[1]["output_type"] != "execute_result" || d["text/plain"] != "21" {
		t.Errorf("execute_result %v", c.Outputs[1])
	}
	if o := nb.Cells[2].Outputs; len(o) != 1 || o[0]["data"].(map[string]any)["text/html"] != "<b>two</b>" {
		t.Errorf("update_display_data not applied in place: %v", o)
	}
	if o := nb.Cells[3].Outputs; len(o) != 1 || o[0]["data"].(map[string]any)["image/png"] == nil {
		t.Errorf("image result: %v", o)
	}
	if o := nb.Cells[4].Outputs; len(o) != 1 || o[0]["data"].(map[string]any)["text/markdown"] != "second" {
		t.Errorf("clear_output(wait): %v", o)
	}
	if o := nb.Cells[5].Outputs; len(o) != 1 || o[0]["output_type"] != "error" || o[0]["ename"] != "Panic" {
		t.Errorf("error output: %v", o)
	}
	if len(nb.Cells[6].Outputs) != 0 {
		t.Errorf("cell after the error ran")
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "out.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Cells[1].Source != nb.Cells[1].Source || len(back.Cells[1].Outputs) != 2 {
		t.Errorf("round trip lost data")
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"execution_count": 1`) || !strings.Contains(string(raw), `"hello\n"`) {
		t.Errorf("nbformat layout: %s", raw)
	}
	page := HTML(nb, "test")
	for _, want := range []string{"<h1>Title</h1>", "<em>text</em>", "<code>code</code>", "hello\nworld", "<b>two</b>", "data:image/png;base64,", "bad cell"} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestAllowErrors(t *testing.T) {
	nb := notebook(t, [2]string{"code", "undefinedName + 1"}, [2]string{"code", "1 + 1"})
	opts := testOptions()
	opts.AllowErrors = true
	res, err := Run(context.Background(), nb, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 2 || res.Failed != 1 {
		t.Errorf("ran %d failed %d", res.Ran, res.Failed)
	}
	if o := nb.Cells[1].Outputs; len(o) != 1 || o[0]["data"].(map[string]any)["text/plain"] != "2" {
		t.Errorf("cell after error: %v", o)
	}
}

func TestTimeout(t *testing.T) {
	nb := notebook(t, [2]string{"code", "n := 0\nfor { n++ }"})
	opts := testOptions()
	opts.Timeout = 300e6
	res, err := Run(context.Background(), nb, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 1 || nb.Cells[0].Outputs[0]["ename"] != "Interrupted" {
		t.Errorf("timeout: %+v %v", res, nb.Cells[0].Outputs)
	}
}

func TestMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"## Two":                          "<h2>Two</h2>",
		"- a\n- b":                        "<ul>\n<li>a</li>\n<li>b</li>\n</ul>",
		"1. x\n2. y":                      "<ol>",
		"```go\nx := 1 < 2\n```":          "<pre><code>x := 1 &lt; 2</code></pre>",
		"see [go](https://go.dev)":        `<a href="https://go.dev">go</a>`,
		"**bold** and _it_":               "<strong>bold</strong> and <em>it</em>",
		"`a*b*c`":                         "<code>a*b*c</code>",
		"| a | b |\n|---|---|\n| 1 | 2 |": "<td>1</td><td>2</td>",
		"> quoted":                        "<blockquote><p>quoted</p>",
		"<script>":                        "&lt;script&gt;",
	} {
		if got := Markdown(in); !strings.Contains(got, want) {
			t.Errorf("Markdown(%q) = %q, want it to contain %q", in, got, want)
		}
	}
}

// A crash's error (made by the supervisor, not decoded from the executor's JSON)
// keeps its traceback: frontends show the traceback, not evalue.
func TestCrashKeepsTraceback(t *testing.T) {
	nb := notebook(t, [2]string{"code", "import \"os\"\nos.Exit(3)"}, [2]string{"code", "1 + 1"})
	opts := testOptions()
	opts.AllowErrors = true
	if _, err := Run(context.Background(), nb, opts); err != nil {
		t.Fatal(err)
	}
	o := nb.Cells[0].Outputs
	if len(o) != 1 || o[0]["ename"] != "SessionLost" {
		t.Fatalf("crash output: %v", o)
	}
	tb, _ := o[0]["traceback"].([]any)
	if len(tb) == 0 || !strings.Contains(fmt.Sprint(tb...), "exit status 3") {
		t.Errorf("traceback %v does not say what happened", o[0]["traceback"])
	}
}

// Cell tags as nbclient reads them: raises-exception lets a cell fail without
// stopping the run, skip-execution leaves a cell alone.
func TestCellTags(t *testing.T) {
	nb := notebook(t,
		[2]string{"code", "x := 1"},
		[2]string{"code", "panic(\"meant to fail\")"},
		[2]string{"code", "x = 99"},
		[2]string{"code", "x + 1"},
		[2]string{"code", "panic(\"not meant to fail\")"},
		[2]string{"code", "x + 2"},
	)
	tag := func(i int, tag string) {
		nb.Cells[i].raw["metadata"] = map[string]any{"tags": []any{"other", tag}}
	}
	tag(1, tagRaisesException)
	tag(2, tagSkipExecution)
	res, err := Run(context.Background(), nb, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 4 || res.Failed != 1 || res.Expected != 1 || res.Skipped != 1 {
		t.Errorf("result %+v, want 4 run, 1 failed, 1 expected, 1 skipped", res)
	}
	if len(nb.Cells[1].Outputs) != 1 || nb.Cells[1].Outputs[0]["output_type"] != "error" {
		t.Errorf("the tagged cell's error is not kept: %v", nb.Cells[1].Outputs)
	}
	if d, _ := nb.Cells[3].Outputs[0]["data"].(map[string]any); d["text/plain"] != "2" {
		t.Errorf("x + 1 after a skipped x = 99: %v", nb.Cells[3].Outputs)
	}
	if len(nb.Cells[5].Outputs) != 0 {
		t.Errorf("the run went on after an untagged failure: %v", nb.Cells[5].Outputs)
	}
}

// goinv run writes a notebook as Jupyter does: HTML and code characters as they are.
func TestMarshalKeepsHTMLCharacters(t *testing.T) {
	nb := notebook(t, [2]string{"code", "p := &x\nfmt.Println(a < b && c > d)"})
	nb.Cells[0].Outputs = []map[string]any{{"output_type": "display_data", "data": map[string]any{"text/html": "<b>bold</b>"}, "metadata": map[string]any{}}}
	b, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"p := &x\n"`, `a < b && c > d`, `"<b>bold</b>"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("notebook lacks %s:\n%s", want, b)
		}
	}
	if _, err := Parse(b); err != nil {
		t.Errorf("does not parse back: %v", err)
	}
}
