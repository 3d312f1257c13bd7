package cell

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// edit replaces src[pos:end] with text. Insertions have pos == end. Among edits at the
// same position, lower order comes first in the output.
type edit struct {
	pos, end int
	text     string
	order    int
}

// Source is generated code together with the map from its byte offsets back to the
// user's cell as written.
type Source struct {
	// Code is what the interpreter evaluates.
	Code string

	// Prefix is the number of bytes before the user's text in the input the edits
	// were made on (the wrapper yaegi or we put around the cell).
	prefix int
	// in is that input; cell is the user's cell.
	cell  string
	edits []edit
	// out is the whole edited text; the interpreter reports positions in it (for
	// statements, yaegi puts back the wrapper that Code lacks).
	out string
}

// apply builds the output of the edits on in.
func apply(in string, edits []edit) (string, []edit) {
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].pos != edits[j].pos {
			return edits[i].pos < edits[j].pos
		}
		return edits[i].order < edits[j].order
	})
	var b strings.Builder
	last := 0
	kept := edits[:0]
	for _, e := range edits {
		if e.pos < last { // overlapping edit: drop it rather than corrupt the source
			continue
		}
		b.WriteString(in[last:e.pos])
		b.WriteString(e.text)
		last = e.end
		kept = append(kept, e)
	}
	b.WriteString(in[last:])
	return b.String(), kept
}

// inOffset maps an offset in the edited output to an offset in the input.
func (s *Source) inOffset(out int) int {
	delta := 0 // in - out
	for _, e := range s.edits {
		opos := e.pos - delta
		if out < opos {
			break
		}
		if out < opos+len(e.text) {
			return e.pos // inside inserted text: blame the edit's position
		}
		delta += (e.end - e.pos) - len(e.text)
	}
	return out + delta
}

// CellPos maps a 1-based line and column reported by the interpreter for Code back to
// a 1-based line and column (in Unicode code points) in the user's cell. ok is false when
// the position lies in text the pre-pass added.
func (s *Source) CellPos(line, col int) (cline, ccol int, ok bool) {
	if s == nil {
		return 0, 0, false
	}
	off := lineColOffset(s.out, line, col)
	if off < 0 {
		return 0, 0, false
	}
	in := s.inOffset(off) - s.prefix
	if in < 0 || in > len(s.cell) {
		return 0, 0, false
	}
	cline, ccol = offsetLineCol(s.cell, in)
	return cline, ccol, true
}

// lineColOffset converts a 1-based line and byte column to a byte offset in code.
func lineColOffset(code string, line, col int) int {
	if line < 1 || col < 1 {
		return -1
	}
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(code[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	off += col - 1
	if off > len(code) {
		off = len(code)
	}
	return off
}

// offsetLineCol returns the 1-based line and code-point column of byte offset off in s.
func offsetLineCol(s string, off int) (int, int) {
	line, start := 1, 0
	for i := 0; i < off && i < len(s); i++ {
		if s[i] == '\n' {
			line++
			start = i + 1
		}
	}
	if off > len(s) {
		off = len(s)
	}
	return line, utf8.RuneCountInString(s[start:off]) + 1
}

// CellOffset maps a position reported by the interpreter to a byte offset in the cell.
func (s *Source) CellOffset(line, col int) (int, bool) {
	if s == nil {
		return 0, false
	}
	off := lineColOffset(s.out, line, col)
	if off < 0 {
		return 0, false
	}
	in := s.inOffset(off) - s.prefix
	if in < 0 || in > len(s.cell) {
		return 0, false
	}
	return in, true
}
