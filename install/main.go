// Command install builds goinv and registers it as the Jupyter kernel "goinv".
//
//	go run ./install                 for the current user (~/.local/share/jupyter/kernels/goinv)
//	go run ./install --user          the same
//	go run ./install --sys-prefix    into sys.prefix of the Python that has Jupyter
//	go run ./install --prefix DIR    into DIR/share/jupyter/kernels/goinv
//	go run ./install --name NAME     another kernelspec name (default goinv)
//
// The directories are those `jupyter kernelspec install` uses. Two binaries are built
// into the kernelspec directory itself, so `jupyter kernelspec remove goinv` removes
// everything: goinv-kernel, the light process Jupyter starts (the protocol and the
// supervisor, up in a few milliseconds), and goinv, the full binary with the
// interpreter and the toolkit, which goinv-kernel runs as `goinv executor` for each
// session (and which also serves `goinv run` and `goinv kernel`). Running install
// again replaces the previous install.
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

//go:embed logo-svg.svg
var logoSVG []byte

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "install:", err)
		os.Exit(1)
	}
}

func run() error {
	user := flag.Bool("user", false, "install for the current user (the default)")
	sysPrefix := flag.Bool("sys-prefix", false, "install into sys.prefix of the Python that runs Jupyter")
	prefix := flag.String("prefix", "", "install into `DIR`/share/jupyter/kernels")
	name := flag.String("name", "goinv", "kernelspec `name`")
	display := flag.String("display-name", "Go (goinv)", "name shown in Jupyter")
	flag.Parse()
	n := 0
	for _, b := range []bool{*user, *sysPrefix, *prefix != ""} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("choose one of --user, --sys-prefix and --prefix")
	}
	var kernels string
	switch {
	case *prefix != "":
		abs, err := filepath.Abs(*prefix)
		if err != nil {
			return err
		}
		kernels = filepath.Join(abs, "share", "jupyter", "kernels")
	case *sysPrefix:
		p, err := pythonSysPrefix()
		if err != nil {
			return err
		}
		kernels = filepath.Join(p, "share", "jupyter", "kernels")
	default:
		kernels = filepath.Join(jupyterDataDir(), "kernels")
	}
	dir := filepath.Join(kernels, *name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}

	bin := filepath.Join(dir, "goinv")
	kbin := filepath.Join(dir, "goinv-kernel")
	if err := build(bin, "./kernel/cmd/goinv"); err != nil {
		return err
	}
	if err := build(kbin, "./kernel/cmd/goinv-kernel"); err != nil {
		return err
	}
	ver, err := exec.Command(bin, "version").Output()
	if err != nil {
		return fmt.Errorf("the built binary does not run: %s version: %w", bin, err)
	}

	spec := map[string]any{
		"argv":           []string{kbin, "-f", "{connection_file}"},
		"display_name":   *display,
		"language":       "go",
		"interrupt_mode": "message",
		"metadata":       map[string]any{"debugger": false},
	}
	b, _ := json.MarshalIndent(spec, "", "  ")
	files := map[string][]byte{"kernel.json": append(b, '\n'), "logo-svg.svg": logoSVG, "logo-32x32.png": logoPNG(32), "logo-64x64.png": logoPNG(64)}
	for f, data := range files {
		if err := writeFile(filepath.Join(dir, f), data); err != nil {
			return err
		}
	}
	fmt.Printf("installed kernelspec %q (%s) in %s\n  kernel:   %s\n  executor: %s\n  %s", *name, *display, dir, kbin, bin, ver)
	return nil
}

// build compiles the command pkg of this module into bin, atomically so that a
// running kernel keeps its binary.
func build(bin, pkg string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return fmt.Errorf("run install from inside the goinv module (go env GOMOD: %v)", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	tmp := bin + ".new"
	cmd := exec.Command("go", "build", "-o", tmp, pkg)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	fmt.Printf("install: building %s ...\n", filepath.Base(bin))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return fmt.Errorf("install binary: %w", err)
	}
	return nil
}

func writeFile(path string, data []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// jupyterDataDir is jupyter_core's jupyter_data_dir() on Linux and macOS.
func jupyterDataDir() string {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "jupyter")
	}
	if _, err := os.Stat("/System/Library"); err == nil { // macOS
		return filepath.Join(home, "Library", "Jupyter")
	}
	return filepath.Join(home, ".local", "share", "jupyter")
}

// pythonSysPrefix asks the Python that has Jupyter for sys.prefix, as
// `jupyter kernelspec install --sys-prefix` uses it.
func pythonSysPrefix() (string, error) {
	cands := []string{os.Getenv("JUPYTER_PYTHON"), "/usr/bin/python3", "python3", "python"}
	if j, err := exec.LookPath("jupyter"); err == nil {
		if b, err := os.ReadFile(j); err == nil && bytes.HasPrefix(b, []byte("#!")) {
			line := strings.SplitN(string(b[2:]), "\n", 2)[0]
			if f := strings.Fields(line); len(f) > 0 {
				cands = append([]string{f[0]}, cands...)
			}
		}
	}
	for _, py := range cands {
		if py == "" {
			continue
		}
		out, err := exec.Command(py, "-c", "import sys, jupyter_core; print(sys.prefix)").Output()
		if err == nil {
			return strings.TrimSpace(string(out)), nil
		}
	}
	return "", fmt.Errorf("--sys-prefix: no Python with jupyter_core found (set JUPYTER_PYTHON)")
}

// logoPNG draws the logo at size×size: "go" in white on Go blue.
func logoPNG(size int) []byte {
	blue := color.RGBA{0x00, 0xAD, 0xD8, 0xff}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	r := float64(size) / 5 // corner radius
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if inRounded(float64(x)+0.5, float64(y)+0.5, float64(size), r) {
				img.Set(x, y, blue)
			}
		}
	}
	// Text at 1× in basicfont, scaled up by nearest neighbour.
	txt := image.NewAlpha(image.Rect(0, 0, 16, 13))
	d := &font.Drawer{Dst: txt, Src: image.Opaque, Face: basicfont.Face7x13, Dot: fixed.P(1, 10)}
	d.DrawString("go")
	scale := size / 16
	ox, oy := (size-16*scale)/2, (size-13*scale)/2
	for y := 0; y < 13*scale; y++ {
		for x := 0; x < 16*scale; x++ {
			if txt.AlphaAt(x/scale, y/scale).A > 0 {
				img.Set(ox+x, oy+y, color.White)
			}
		}
	}
	draw.Draw(img, img.Bounds(), img, image.Point{}, draw.Src)
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func inRounded(x, y, size, r float64) bool {
	cx := clamp(x, r, size-r)
	cy := clamp(y, r, size-r)
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
