// Package pkgdoc extracts the declarations and doc comments of a Go package, for
// the inspect requests of the goinv executor. The generator of the embedded index
// (kernel/executor/gendoc) and the executor's fallback for packages missing from
// the index use the same code, so both answer with the same text.
package pkgdoc

import (
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path"
	"sort"
	"strings"
)

// Package is the documentation of one package, as stored in the index.
type Package struct {
	Doc   string               `json:"doc"`
	Decls map[string][2]string `json:"decls"` // name or Type.Method → declaration, doc comment
}

// Lookup returns the declaration and doc comment of a name ("" when unknown).
func (d *Package) Lookup(name string) (decl, text string) {
	e := d.Decls[name]
	return e[0], e[1]
}

// MaxDecl is the length at which a printed declaration is cut (a long const block or
// struct would flood the inspect pane).
const MaxDecl = 3000

// Context is the one platform the documentation describes, whatever machine runs
// the extraction, so that the generated index is the same everywhere.
var Context = func() build.Context {
	c := build.Default
	c.GOOS, c.GOARCH, c.CgoEnabled = "linux", "amd64", true
	return c
}()

// Load parses the package at import path importPath in dir and returns its
// documentation, or nil if dir holds no such package.
func Load(importPath, dir string) *Package {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		if strings.HasSuffix(fi.Name(), "_test.go") {
			return false
		}
		// Only the files a linux/amd64 build compiles: other platforms' files declare
		// the same names with other signatures, and which one won would vary per run.
		ok, err := Context.MatchFile(dir, fi.Name())
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
	return fromDoc(fset, dp, importPath == "builtin")
}

// fromDoc flattens a go/doc package: every exported func, method, type, const and
// var (every name for builtin) with its declaration, body removed, and doc comment.
func fromDoc(fset *token.FileSet, dp *doc.Package, all bool) *Package {
	d := &Package{Doc: dp.Doc, Decls: map[string][2]string{}}
	pr := func(n any) string {
		var b strings.Builder
		(&printer.Config{Mode: printer.UseSpaces, Tabwidth: 4}).Fprint(&b, fset, n)
		s := b.String()
		if len(s) > MaxDecl {
			s = s[:MaxDecl] + "\n…"
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
				if token.IsExported(n) || all {
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
