package csvfile

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteQuotesAndOrders(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{{"1", "a,b"}, {"2", `say "hi"`}}
	if err := Write(&b, []string{"n", "text"}, len(rows), func(i int) []string { return rows[i] }); err != nil {
		t.Fatal(err)
	}
	want := "n,text\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func TestSaveNamesTheFileInErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	err := Save(path, "results", func(io.Writer) error { return errors.New("disk full") })
	if err == nil || !strings.Contains(err.Error(), "save results "+path+": disk full") {
		t.Fatalf("error %v does not name the table and the file", err)
	}
	err = Save(filepath.Join(path, "missing", "x.csv"), "results", func(io.Writer) error { return nil })
	if err == nil || !strings.HasPrefix(err.Error(), "save results: ") {
		t.Fatalf("error %v for an unwritable path", err)
	}
}
