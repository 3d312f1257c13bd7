package executor

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/goinv/goinv/kernel/executor/internal/pkgdoc"
)

// docFor returns the declaration and doc comment of name in the package at import
// path p (name "" asks for the package doc), from the embedded index when it has the
// package, else from the sources on this machine (GOROOT), read the way gendoc reads
// them for the index.
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
	return pd.Lookup(name)
}

type pkgDoc = pkgdoc.Package

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
	var d *pkgDoc
	if dir := sourceDir(p); dir != "" {
		d = pkgdoc.Load(p, dir)
	}
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
