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
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"

	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

	"github.com/goinv/goinv/stdlib/symbols"
)

type pkgDoc struct {
	Doc   string               `json:"doc"`
	Decls map[string][2]string `json:"decls"`
}

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
	index := map[string]*pkgDoc{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ip, dir, ok := strings.Cut(line, "\t")
		if !ok || dir == "" {
			continue
		}
		if d := load(ip, dir); d != nil {
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

// docContext is the one platform the index documents, whatever machine runs go generate,
// so that the generated file is the same everywhere.
var docContext = func() build.Context {
	c := build.Default
	c.GOOS, c.GOARCH, c.CgoEnabled = "linux", "amd64", true
	return c
}()

func load(importPath, dir string) *pkgDoc {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		if strings.HasSuffix(fi.Name(), "_test.go") {
			return false
		}
		// Only the files a linux/amd64 build compiles: other platforms' files declare
		// the same names with other signatures, and which one won would vary per run.
		ok, err := docContext.MatchFile(dir, fi.Name())
		return err == nil && ok
	}, parser.ParseComments)
	if err != nil && len(pkgs) == 0 {
		return nil
	}
	var files []*ast.File
	want := path.Base(importPath)
	for name, pkg := range pkgs {
		if strings.HasSuffix(name, "_test") || name == "main" || name == "documentation" {
			continue
		}
		if len(pkgs) > 1 && name != want {
			continue
		}
		names := make([]string, 0, len(pkg.Files))
		for name := range pkg.Files {
			names = append(names, name)
		}
		sort.Strings(names) // doc.NewFromFiles keeps the first of duplicate names
		for _, name := range names {
			files = append(files, pkg.Files[name])
		}
	}
	if len(files) == 0 {
		return nil
	}
	mode := doc.Mode(0)
	if importPath == "builtin" {
		mode = doc.AllDecls
	}
	dp, err := doc.NewFromFiles(fset, files, importPath, mode)
	if err != nil {
		return nil
	}
	d := &pkgDoc{Doc: dp.Doc, Decls: map[string][2]string{}}
	pr := func(n any) string {
		var b strings.Builder
		(&printer.Config{Mode: printer.UseSpaces, Tabwidth: 4}).Fprint(&b, fset, n)
		s := b.String()
		if len(s) > 3000 {
			s = s[:3000] + "\n…"
		}
		return s
	}
	addFunc := func(f *doc.Func, recv string) {
		decl := *f.Decl
		decl.Body, decl.Doc = nil, nil
		key := f.Name
		if recv != "" {
			key = recv + "." + f.Name
		}
		d.Decls[key] = [2]string{pr(&decl), f.Doc}
	}
	addValues := func(vs []*doc.Value) {
		for _, v := range vs {
			decl := *v.Decl
			decl.Doc = nil
			text := pr(&decl)
			for _, n := range v.Names {
				if token.IsExported(n) || importPath == "builtin" {
					d.Decls[n] = [2]string{text, v.Doc}
				}
			}
		}
	}
	for _, f := range dp.Funcs {
		addFunc(f, "")
	}
	addValues(dp.Consts)
	addValues(dp.Vars)
	for _, t := range dp.Types {
		decl := *t.Decl
		decl.Doc = nil
		d.Decls[t.Name] = [2]string{pr(&decl), t.Doc}
		for _, f := range t.Funcs {
			addFunc(f, "")
		}
		for _, m := range t.Methods {
			addFunc(m, t.Name)
		}
		addValues(t.Consts)
		addValues(t.Vars)
	}
	return d
}
