package cell

import (
	"go/scanner"
	"go/token"
	"strings"
)

// IsComplete reports whether a cell is ready to run: "complete", "incomplete" (with the
// indent the next line should get) or "invalid", as Jupyter's is_complete_request asks.
func IsComplete(src string) (status, indent string) {
	t := strings.TrimSpace(src)
	if t == "" {
		return "complete", ""
	}
	if strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
		if strings.HasPrefix(t, "%%") || strings.HasPrefix(t, "%time") {
			// Cell magics take the rest of the cell: judge the Go part if any.
			_, rest, ok := strings.Cut(t, "\n")
			if !ok || strings.HasPrefix(t, "%%") {
				return "complete", ""
			}
			return IsComplete(rest)
		}
		return "complete", ""
	}
	fset := token.NewFileSet()
	file := fset.AddFile("cell.go", -1, len(src))
	var sc scanner.Scanner
	unterminated := false
	bad := false
	sc.Init(file, []byte(src), func(pos token.Position, msg string) {
		if strings.Contains(msg, "not terminated") {
			unterminated = true
		} else {
			bad = true
		}
	}, 0)
	depth := 0
	var last token.Token
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
			if depth < 0 {
				return "invalid", ""
			}
		}
		if !(tok == token.SEMICOLON && lit == "\n") {
			last = tok
		}
	}
	if unterminated {
		return "incomplete", ""
	}
	if bad {
		return "invalid", ""
	}
	if depth > 0 {
		return "incomplete", strings.Repeat("\t", depth)
	}
	switch {
	case last.IsOperator() && last != token.RPAREN && last != token.RBRACE && last != token.RBRACK &&
		last != token.SEMICOLON && last != token.INC && last != token.DEC:
		return "incomplete", ""
	}
	if _, err := NewSession().Prepare(src, Options{}); err != nil {
		if e, ok := err.(*Error); ok && strings.Contains(e.Msg, "EOF") {
			return "incomplete", ""
		}
		return "invalid", ""
	}
	return "complete", ""
}
