package symbols

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

// TestCoversToolkit checks that every toolkit package has a symbol table: a package
// added under stdlib/ without `go generate ./stdlib/symbols` fails here.
func TestCoversToolkit(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}}", "github.com/goinv/goinv/stdlib/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] == "main" || strings.Contains(f[0], "/symbols") || strings.Contains(f[0], "/internal") {
			continue
		}
		if _, ok := Symbols[f[0]+"/"+f[1]]; !ok {
			t.Errorf("no symbols for %s: run go generate ./stdlib/symbols", f[0])
		}
	}
}

func TestExternal(t *testing.T) {
	for _, p := range []string{"gorgonia.org/gorgonia", "gorgonia.org/tensor", "gonum.org/v1/plot", "gonum.org/v1/plot/plotter",
		"gonum.org/v1/plot/vg", "gonum.org/v1/plot/vg/draw", "gonum.org/v1/plot/plotutil", "gonum.org/v1/gonum/mat",
		"gonum.org/v1/gonum/stat", "gonum.org/v1/gonum/floats", "golang.org/x/image/draw"} {
		syms, ok := Symbols[p+"/"+path.Base(p)]
		if !ok || len(syms) == 0 {
			t.Errorf("no symbols for %s", p)
		}
	}
	d := Symbols["github.com/goinv/goinv/stdlib/display/display"]
	for _, name := range []string{"HTML", "Markdown", "Latex", "JSON", "PNG", "JPEG", "SVG", "Image", "Plot", "Clear", "NewProgress", "Handle", "Progress", "Sink", "SetSink"} {
		if _, ok := d[name]; !ok {
			t.Errorf("display.%s missing", name)
		}
	}
}
