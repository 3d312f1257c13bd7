package pkgdoc

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	d := Load("strings", filepath.Join(runtime.GOROOT(), "src", "strings"))
	if d == nil {
		t.Fatal("no documentation for strings")
	}
	decl, text := d.Lookup("Repeat")
	if decl != "func Repeat(s string, count int) string" || !strings.Contains(text, "count copies") {
		t.Errorf("Repeat: %q %q", decl, text)
	}
	if decl, _ := d.Lookup("Builder.WriteString"); !strings.HasPrefix(decl, "func (b *Builder) WriteString(") {
		t.Errorf("method: %q", decl)
	}
	if _, ok := d.Decls["asciiSpace"]; ok {
		t.Error("unexported var documented")
	}
	if !strings.HasPrefix(d.Doc, "Package strings") {
		t.Errorf("package doc: %q", d.Doc)
	}
	b := Load("builtin", filepath.Join(runtime.GOROOT(), "src", "builtin"))
	if decl, _ := b.Lookup("append"); !strings.HasPrefix(decl, "func append(") {
		t.Errorf("builtin append: %q", decl)
	}
}
