package executor

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// docFor returns the declaration and doc comment of name in the package at import
// path p (name "" asks for the package doc), from the embedded index when it has the
// package, else from the sources on this machine (GOROOT, the module cache).
func docFor(p, name string) (sig, text string) {
	if sig, text, ok := indexDoc(p, name); ok {
		return sig, text
	}
	pd := sourceDoc(p)
	if pd == nil {
		return "", ""
	}
	if name == "" {
		return "", pd.Doc
	}
	return pd.lookup(name)
}

type pkgDoc struct {
	Doc   string               `json:"doc"`
	Decls map[string][2]string `json:"decls"` // name → declaration, doc
}

func (d *pkgDoc) lookup(name string) (string, string) {
	e := d.Decls[name]
	return e[0], e[1]
}

var (
	srcDocMu sync.Mutex
	srcDocs  = map[string]*pkgDoc{}
)

func sourceDoc(p string) *pkgDoc {
	srcDocMu.Lock()
	defer srcDocMu.Unlock()
	if d, ok := srcDocs[p]; ok {
		return d
	}
	d := loadSourceDoc(sourceDir(p))
	srcDocs[p] = d
	return d
}

func sourceDir(p string) string {
	root := runtime.GOROOT()
	if root == "" {
		if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		}
	}
	if dir := filepath.Join(root, "src", p); root != "" && isDir(dir) {
		return dir
	}
	return ""
}

func isDir(d string) bool {
	st, err := os.Stat(d)
	return err == nil && st.IsDir()
}

// loadSourceDoc parses a package directory with go/doc.
func loadSourceDoc(dir string) *pkgDoc {
	if dir == "" {
		return nil
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil || len(pkgs) == 0 {
		return nil
	}
	var files []*ast.File
	for name, pkg := range pkgs {
		if strings.HasSuffix(name, "_test") || name == "main" && len(pkgs) > 1 {
			continue
		}
		for _, f := range pkg.Files {
			files = append(files, f)
		}
	}
	importPath := dir
	dp, err := doc.NewFromFiles(fset, files, importPath, doc.PreserveAST)
	if err != nil {
		return nil
	}
	return fromDocPackage(fset, dp)
}

func fromDocPackage(fset *token.FileSet, dp *doc.Package) *pkgDoc {
	d := &pkgDoc{Doc: dp.Doc, Decls: map[string][2]string{}}
	pr := func(n any) string {
		var b strings.Builder
		cfg := printer.Config{Mode: printer.UseSpaces, Tabwidth: 4}
		cfg.Fprint(&b, fset, n)
		return b.String()
	}
	addFunc := func(f *doc.Func, recv string) {
		decl := *f.Decl
		decl.Body = nil
		decl.Doc = nil
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
			if len(text) > 4000 {
				text = text[:4000] + "\n…"
			}
			for _, n := range v.Names {
				d.Decls[n] = [2]string{text, v.Doc}
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
		text := pr(&decl)
		if len(text) > 4000 {
			text = text[:4000] + "\n…"
		}
		d.Decls[t.Name] = [2]string{text, t.Doc}
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

// indexDoc looks name up in the embedded index (see docindex.go).
func indexDoc(p, name string) (sig, text string, ok bool) {
	d := embeddedDoc(p)
	if d == nil {
		return "", "", false
	}
	if name == "" {
		return "", d.Doc, true
	}
	e, ok := d.Decls[name]
	return e[0], e[1], ok
}
