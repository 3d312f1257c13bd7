// Command gendoc writes docindex.json, the documentation the executor answers
// inspect requests from: declaration and doc comment of every exported name of the
// standard-library packages a session can import, of the goinv toolkit and of the
// numeric libraries in stdlib/symbols. It runs from `go generate ./kernel/executor`,
// so the installed binary needs no Go sources at run time.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"

	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

	"github.com/goinv/goinv/kernel/executor/internal/pkgdoc"
	"github.com/goinv/goinv/stdlib/symbols"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func run() error {
	paths := map[string]bool{"builtin": true}
	for key := range stdlib.Symbols {
		paths[path.Dir(key)] = true
	}
	for key := range unrestricted.Symbols {
		paths[path.Dir(key)] = true
	}
	for key := range symbols.Symbols {
		paths[path.Dir(key)] = true
	}
	// The generic packages, which the executor compiles from sources (generics.go).
	for _, p := range []string{"cmp", "maps", "slices"} {
		paths[p] = true
	}
	var list []string
	for p := range paths {
		list = append(list, p)
	}
	sort.Strings(list)
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{.Dir}}"}, list...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return fmt.Errorf("go list: %w", err)
	}
	index := map[string]*pkgdoc.Package{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ip, dir, ok := strings.Cut(line, "\t")
		if !ok || dir == "" {
			continue
		}
		if d := pkgdoc.Load(ip, dir); d != nil {
			index[ip] = d
		}
	}
	if len(index) < len(list)/2 {
		return fmt.Errorf("documented only %d of %d packages", len(index), len(list))
	}
	// Each package is compressed on its own so that an inspect request decodes only
	// the package it asks about.
	chunks := map[string][]byte{}
	total := 0
	for p, d := range index {
		raw, err := json.Marshal(d)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(raw)
		zw.Close()
		chunks[p] = buf.Bytes()
		total += len(raw)
	}
	enc, err := json.Marshal(chunks)
	if err != nil {
		return err
	}
	if err := os.WriteFile("docindex.json", enc, 0o644); err != nil {
		return err
	}
	os.Remove("docindex.json.gz")
	fmt.Fprintf(os.Stderr, "gendoc: %d packages, %d bytes (%d uncompressed)\n", len(index), len(enc), total)
	return nil
}
