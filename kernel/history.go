package kernel

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-zeromq/zmq4"
)

// History keeps executed cells in a JSONL file, one {"session", "line", "source",
// "output"} object per line, so history_request sees earlier kernel sessions too.
// Each kernel process is a new session numbered one above the highest on file.
//
// The file is read in the background (a long history takes milliseconds to parse,
// which would otherwise delay the kernel's first kernel_info_reply); every method
// waits for that read to finish.
type History struct {
	ready   chan struct{} // closed when the file has been read
	err     error         // why the file could not be used, once ready
	mu      sync.Mutex
	path    string
	session int
	entries []HistoryEntry
	f       *os.File
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

// OpenHistory reads the history file at path (creating it if needed) and starts a
// new session.
func OpenHistory(path string) (*History, error) {
	h := LoadHistory(path)
	<-h.ready
	if h.err != nil {
		return nil, h.err
	}
	return h, nil
}

// LoadHistory is OpenHistory without the wait: it returns at once and reads the
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

// Err waits for the history file to be read and reports why it cannot be used, if so.
func (h *History) Err() error {
	h.wait()
	return h.err
}

func (h *History) wait() {
	if h.ready != nil {
		<-h.ready
	}
}

func (h *History) load() error {
	h.session = 1 // also when the file cannot be read
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if f, err := os.Open(h.path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		session := 0
		for sc.Scan() {
			var e HistoryEntry
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Session > 0 {
				h.entries = append(h.entries, e)
				session = max(session, e.Session)
			}
		}
		f.Close()
		h.session = session + 1
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	h.f = f
	return nil
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
	h.entries = append(h.entries, e)
	if h.f != nil {
		b, _ := json.Marshal(e)
		h.f.Write(append(b, '\n'))
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
	all := h.entries
	var out []HistoryEntry
	switch q.HistAccessType {
	case "tail":
		out = all
		if q.N > 0 && len(out) > q.N {
			out = out[len(out)-q.N:]
		}
	case "range":
		s := q.Session
		if s <= 0 {
			s += h.session // 0 is this session, -1 the one before
		}
		for _, e := range all {
			if e.Session == s && e.Line >= q.Start && (q.Stop <= 0 || e.Line < q.Stop) {
				out = append(out, e)
			}
		}
	case "search":
		re := globRegexp(q.Pattern)
		for _, e := range all {
			if re.MatchString(e.Source) {
				out = append(out, e)
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

func (k *Kernel) history(s zmq4.Socket, mu *sync.Mutex, m *Message) {
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
