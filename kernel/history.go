package kernel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// History keeps executed cells in a JSONL file, one {"session", "line", "source",
// "output"} object per line, so history_request sees earlier kernel sessions too.
// Each kernel process is a new session numbered one above the highest on file.
//
// Memory stays small however long the file grows: the kernel keeps an index of the
// file (each entry's offset, session and line: 16 bytes an entry), not the cells.
// A tail or range request reads the entries it returns; a search reads the file
// through. The file is indexed in the background (a long history takes milliseconds
// to scan, which would otherwise delay the kernel's first kernel_info_reply); every
// method waits for that to finish.
type History struct {
	ready   chan struct{} // closed when the file has been indexed
	err     error         // why the file could not be used, once ready
	mu      sync.Mutex
	path    string
	session int
	index   []histIndex    // every entry on file, in file order
	mem     []HistoryEntry // this session's entries, when the file cannot be used
	f       *os.File       // opened for appending and reading
}

// histIndex locates one entry of the file.
type histIndex struct {
	off           int64
	session, line int32
}

// HistoryEntry is one executed cell.
type HistoryEntry struct {
	Session int    `json:"session"`
	Line    int    `json:"line"`
	Source  string `json:"source"`
	Output  string `json:"output,omitempty"`
}

// DefaultHistoryPath is $GOINV_HISTORY, or goinv/history.jsonl in the Jupyter data
// directory ($JUPYTER_DATA_DIR, or $XDG_DATA_HOME/jupyter, or ~/.local/share/jupyter).
func DefaultHistoryPath() string {
	if p := os.Getenv("GOINV_HISTORY"); p != "" {
		return p
	}
	dir := os.Getenv("JUPYTER_DATA_DIR")
	if dir == "" {
		if x := os.Getenv("XDG_DATA_HOME"); x != "" {
			dir = filepath.Join(x, "jupyter")
		} else if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".local", "share", "jupyter")
		} else {
			dir = os.TempDir()
		}
	}
	return filepath.Join(dir, "goinv", "history.jsonl")
}

// OpenHistory indexes the history file at path (creating it if needed) and starts
// a new session.
func OpenHistory(path string) (*History, error) {
	h := LoadHistory(path)
	<-h.ready
	if h.err != nil {
		return nil, h.err
	}
	return h, nil
}

// LoadHistory is OpenHistory without the wait: it returns at once and indexes the
// file in the background. If the file cannot be used, the history keeps this
// session's cells in memory only and Err says why.
func LoadHistory(path string) *History {
	h := &History{path: path, ready: make(chan struct{})}
	go func() {
		defer close(h.ready)
		h.err = h.load()
	}()
	return h
}

// Err waits for the history file to be indexed and reports why it cannot be used, if so.
func (h *History) Err() error {
	h.wait()
	return h.err
}

func (h *History) wait() {
	if h.ready != nil {
		<-h.ready
	}
}

// Close closes the history file.
func (h *History) Close() error {
	h.wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		return nil
	}
	err := h.f.Close()
	h.f = nil
	return err
}

func (h *History) load() error {
	h.session = 1 // also when the file cannot be read
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	// Only the session and line of each entry are decoded: the sources stay on disk.
	r := bufio.NewReaderSize(f, 64<<10)
	var off int64
	session := 0
	torn := false
	for {
		line, err := readLine(r)
		if len(line) > 0 {
			var e struct {
				Session int `json:"session"`
				Line    int `json:"line"`
			}
			torn = line[len(line)-1] != '\n'
			if !torn && json.Unmarshal(line, &e) == nil && e.Session > 0 {
				h.index = append(h.index, histIndex{off: off, session: int32(e.Session), line: int32(e.Line)})
				session = max(session, e.Session)
			}
			off += int64(len(line))
		}
		if err != nil {
			break
		}
	}
	h.session = session + 1
	if torn {
		// A torn last line (a kernel killed mid-write): end it, so that the next
		// entry starts a line of its own.
		f.Write([]byte("\n"))
	}
	h.f = f
	return nil
}

// readLine returns the next line of r with its newline (without one at the end of
// the file), however long.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	long := append([]byte(nil), line...)
	for err == bufio.ErrBufferFull {
		line, err = r.ReadSlice('\n')
		long = append(long, line...)
	}
	return long, err
}

// entryAt returns up to n bytes of the file from off (other kernels' appends only
// add after the end, so what the index locates does not move).
func (h *History) entryAt(off int64, n int) []byte {
	if h.f == nil {
		return nil
	}
	b := make([]byte, n)
	k, _ := h.f.ReadAt(b, off)
	return b[:k]
}

// read decodes the entry at x, nil if it cannot be read.
func (h *History) read(x histIndex) *HistoryEntry {
	b := h.entryAt(x.off, 512)
	for {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[:i]
			break
		}
		more := h.entryAt(x.off+int64(len(b)), 2*len(b))
		if len(more) == 0 {
			break
		}
		b = append(b, more...)
	}
	var e HistoryEntry
	if json.Unmarshal(b, &e) != nil {
		return nil
	}
	return &e
}

// scan reads the indexed entries in one pass through the file and returns those
// keep accepts.
func (h *History) scan(keep func(*HistoryEntry) bool) []HistoryEntry {
	if h.f == nil || len(h.index) == 0 {
		return nil
	}
	r := bufio.NewReaderSize(io.NewSectionReader(h.f, 0, 1<<62), 64<<10)
	var out []HistoryEntry
	var off int64
	j := 0
	for j < len(h.index) {
		line, err := readLine(r)
		at := off
		off += int64(len(line))
		for j < len(h.index) && h.index[j].off < at {
			j++ // an entry the file no longer holds as indexed
		}
		if j < len(h.index) && h.index[j].off == at {
			j++
			var e HistoryEntry
			if json.Unmarshal(line, &e) == nil && keep(&e) {
				out = append(out, e)
			}
		}
		if err != nil {
			break
		}
	}
	return out
}

// Session is this kernel's session number.
func (h *History) Session() int {
	h.wait()
	return h.session
}

// Add records cell line of this session.
func (h *History) Add(line int, source, output string) {
	h.wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	e := HistoryEntry{Session: h.session, Line: line, Source: source, Output: output}
	if h.f == nil {
		h.mem = append(h.mem, e)
		return
	}
	b, _ := json.Marshal(e)
	b = append(b, '\n')
	if _, err := h.f.Write(b); err != nil {
		h.mem = append(h.mem, e)
		return
	}
	// O_APPEND wrote b at the end of the file, wherever other kernels' lines had
	// moved it: the offset after the write locates it.
	if end, err := h.f.Seek(0, io.SeekCurrent); err == nil {
		h.index = append(h.index, histIndex{off: end - int64(len(b)), session: int32(h.session), line: int32(line)})
	}
}

// HistoryQuery is a history_request's content.
type HistoryQuery struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"`
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           int    `json:"stop"`
	N              int    `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
}

// Query returns the entries q asks for, oldest first.
func (h *History) Query(q HistoryQuery) []HistoryEntry {
	h.wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	// The entries in file order: the index's, then those kept in memory.
	n := len(h.index) + len(h.mem)
	at := func(i int) *HistoryEntry {
		if i >= len(h.index) {
			return &h.mem[i-len(h.index)]
		}
		return h.read(h.index[i])
	}
	var out []HistoryEntry
	switch q.HistAccessType {
	case "tail":
		from := 0
		if q.N > 0 && n > q.N {
			from = n - q.N
		}
		for i := from; i < n; i++ {
			if e := at(i); e != nil {
				out = append(out, *e)
			}
		}
	case "range":
		s := q.Session
		if s <= 0 {
			s += h.session // 0 is this session, -1 the one before
		}
		for i := 0; i < n; i++ {
			session, line := h.session, 0
			if i < len(h.index) {
				session, line = int(h.index[i].session), int(h.index[i].line)
			} else {
				line = h.mem[i-len(h.index)].Line
			}
			if session == s && line >= q.Start && (q.Stop <= 0 || line < q.Stop) {
				if e := at(i); e != nil {
					out = append(out, *e)
				}
			}
		}
	case "search":
		re := globRegexp(q.Pattern)
		out = h.scan(func(e *HistoryEntry) bool { return re.MatchString(e.Source) })
		for i := range h.mem {
			if re.MatchString(h.mem[i].Source) {
				out = append(out, h.mem[i])
			}
		}
		if q.Unique {
			seen := map[string]bool{}
			var u []HistoryEntry
			for i := len(out) - 1; i >= 0; i-- { // keep the latest of each source
				if !seen[out[i].Source] {
					seen[out[i].Source] = true
					u = append(u, out[i])
				}
			}
			for i, j := 0, len(u)-1; i < j; i, j = i+1, j-1 {
				u[i], u[j] = u[j], u[i]
			}
			out = u
		}
		if q.N > 0 && len(out) > q.N {
			out = out[len(out)-q.N:]
		}
	}
	return out
}

// globRegexp turns a glob (*, ?, [...]) matched against a whole cell into a regexp.
func globRegexp(p string) *regexp.Regexp {
	if p == "" {
		p = "*"
	}
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			if j := strings.IndexByte(p[i+1:], ']'); j >= 0 {
				class := p[i+1 : i+1+j]
				if strings.HasPrefix(class, "!") {
					class = "^" + class[1:]
				}
				b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
				i += j + 1
			} else {
				b.WriteString(`\[`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return regexp.MustCompile(`^` + regexp.QuoteMeta(p) + `$`)
	}
	return re
}

func (k *Kernel) history(s *routerSocket, mu *sync.Mutex, m *Message) {
	var q HistoryQuery
	decode(m, &q)
	entries := k.hist.Query(q)
	items := make([]any, 0, len(entries))
	for _, e := range entries {
		if q.Output {
			var out any
			if e.Output != "" {
				out = e.Output
			}
			items = append(items, []any{e.Session, e.Line, []any{e.Source, out}})
		} else {
			items = append(items, []any{e.Session, e.Line, e.Source})
		}
	}
	k.reply(s, mu, m, "history_reply", map[string]any{"status": "ok", "history": items})
}
