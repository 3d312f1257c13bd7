package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func sources(es []HistoryEntry) string {
	var b []string
	for _, e := range es {
		b = append(b, fmt.Sprintf("%d/%d:%s=%s", e.Session, e.Line, e.Source, e.Output))
	}
	return strings.Join(b, " ")
}

// TestHistoryAcrossSessions checks tail, range and search over entries of earlier
// kernel sessions (read from the file on demand) and of this one.
func TestHistoryAcrossSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	h1, err := OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	h1.Add(1, "x := 1", "")
	h1.Add(2, "x + 1", "2")
	h1.Add(3, "fmt.Println(\"a\\nb\")", "")
	h1.Close()
	// A line torn by a killed kernel, and a line that is not JSON, are skipped.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("junk\n{\"session\":1,\"line\":4,\"sou")
	f.Close()

	h2, err := OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if h2.Session() != 2 {
		t.Fatalf("session %d, want 2", h2.Session())
	}
	h2.Add(1, "y := x * 10", "")
	h2.Add(2, "x + 1", "2")
	for _, c := range []struct {
		q    HistoryQuery
		want string
	}{
		{HistoryQuery{HistAccessType: "tail", N: 3}, `1/3:fmt.Println("a\nb")= 2/1:y := x * 10= 2/2:x + 1=2`},
		{HistoryQuery{HistAccessType: "tail"}, `1/1:x := 1= 1/2:x + 1=2 1/3:fmt.Println("a\nb")= 2/1:y := x * 10= 2/2:x + 1=2`},
		{HistoryQuery{HistAccessType: "range", Session: -1, Start: 2, Stop: 3}, `1/2:x + 1=2`},
		{HistoryQuery{HistAccessType: "range", Session: 0, Start: 1}, `2/1:y := x * 10= 2/2:x + 1=2`},
		{HistoryQuery{HistAccessType: "range", Session: 1, Start: 3}, `1/3:fmt.Println("a\nb")=`},
		{HistoryQuery{HistAccessType: "search", Pattern: "x*"}, `1/1:x := 1= 1/2:x + 1=2 2/2:x + 1=2`},
		{HistoryQuery{HistAccessType: "search", Pattern: "x*", Unique: true}, `1/1:x := 1= 2/2:x + 1=2`},
		{HistoryQuery{HistAccessType: "search", Pattern: "*", N: 2}, `2/1:y := x * 10= 2/2:x + 1=2`},
		{HistoryQuery{HistAccessType: "search", Pattern: "*Print?n*"}, `1/3:fmt.Println("a\nb")=`},
	} {
		if got := sources(h2.Query(c.q)); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.q, got, c.want)
		}
	}
	// The torn line was ended: the entries written after it are whole.
	h2.Close()
	h3, _ := OpenHistory(path)
	defer h3.Close()
	if got := sources(h3.Query(HistoryQuery{HistAccessType: "range", Session: 2})); got != `2/1:y := x * 10= 2/2:x + 1=2` {
		t.Errorf("session 2 after reopening: %s", got)
	}
}

// TestHistoryUnwritable keeps the session's cells in memory when the file cannot be
// created.
func TestHistoryUnwritable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o600)
	h := LoadHistory(filepath.Join(dir, "file", "h.jsonl")) // a directory that is a file
	if h.Err() == nil {
		t.Fatal("no error for an unusable path")
	}
	h.Add(1, "a", "")
	h.Add(2, "b", "")
	if got := sources(h.Query(HistoryQuery{HistAccessType: "tail", N: 1})); got != "1/2:b=" {
		t.Errorf("tail %s", got)
	}
	if got := sources(h.Query(HistoryQuery{HistAccessType: "search", Pattern: "a"})); got != "1/1:a=" {
		t.Errorf("search %s", got)
	}
}

// TestHistoryMemory checks that a long history file is indexed, not loaded: the
// heap after opening 5 MB of history holds a small fraction of it.
func TestHistoryMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	f, _ := os.Create(path)
	src := strings.Repeat("v := someFunction(argument) // a longish cell ", 2)
	n := 0
	for s := 1; n < 5<<20; s++ {
		for l := 1; l <= 100; l++ {
			k, _ := fmt.Fprintf(f, "{\"session\":%d,\"line\":%d,\"source\":%q,\"output\":\"42\"}\n", s, l, src)
			n += k
		}
	}
	f.Close()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	h, err := OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	grew := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("%d bytes of history: heap +%d bytes", n, grew)
	if grew > int64(n)/5 {
		t.Errorf("opening %d bytes of history grew the heap by %d bytes", n, grew)
	}
	if got := h.Query(HistoryQuery{HistAccessType: "tail", N: 1}); len(got) != 1 || got[0].Source != src || got[0].Line != 100 {
		t.Errorf("tail %+v", got)
	}
}
