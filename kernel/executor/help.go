package executor

import (
	"fmt"
	"go/ast"
	"go/parser"
	"strings"
	"unicode"
)

// helpTarget reports whether code is an IPython-style help request, a single line
// "?NAME", "NAME?" (or with "??"), and returns the NAME part. Go has no "?" operator,
// so no Go cell can be mistaken for one.
func helpTarget(code string) (target string, ok bool) {
	t := strings.TrimSpace(code)
	if t == "" || strings.ContainsAny(t, "\r\n") {
		return "", false
	}
	switch {
	case strings.HasPrefix(t, "?"):
		t = strings.TrimLeft(t, "?")
	case strings.HasSuffix(t, "?"):
		t = strings.TrimRight(t, "?")
	default:
		return "", false
	}
	return strings.TrimSpace(t), true
}

// splitName splits "name" or "qual.name" into its parts; ok is false for anything
// else (an expression, a literal, a deeper selector).
func splitName(target string) (qual, name string, ok bool) {
	parts := strings.Split(target, ".")
	if len(parts) > 2 {
		return "", "", false
	}
	for _, p := range parts {
		if !isIdent(p) {
			return "", "", false
		}
	}
	if len(parts) == 2 {
		return parts[0], parts[1], true
	}
	return "", parts[0], true
}

// isNameChain reports whether e is a name or a selector of one (`p.Inner.Age`),
// through indexes and dereferences (`ps[0].Name`, `(*pp).Age`): what help
// describes.
func isNameChain(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return isNameChain(x.X)
	case *ast.IndexExpr:
		return isNameChain(x.X)
	case *ast.StarExpr:
		return isNameChain(x.X)
	case *ast.ParenExpr:
		return isNameChain(x.X)
	}
	return false
}

func parseOrNil(src string) ast.Expr {
	e, _ := parser.ParseExpr(src)
	return e
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !isIdentRune(r) || (i == 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// help answers a help request with the text inspect (Shift-Tab) would show for the
// same name, so that the two never disagree.
func (s *session) help(target string) (string, *cellError) {
	if e, err := parser.ParseExpr(target); err == nil && isNameChain(e) {
		if text := s.describeExpr(s.typer(), e); text != "" {
			return text, nil
		}
	}
	qual, name, ok := splitName(target)
	if !ok {
		msg := fmt.Sprintf("help needs a name such as fmt.Println, strings, a session variable or cfg.Epochs, not %q", target)
		switch {
		case target == "":
			msg = "help needs a name: ?fmt.Println or fmt.Println?"
		case isNameChain(parseOrNil(target)):
			msg = fmt.Sprintf("%s not found (Tab after a dot lists the members of what comes before it)", target)
		}
		return "", &cellError{ename: "NameError", evalue: msg, traceback: []string{"NameError: " + msg}}
	}
	var msg string
	switch {
	case qual == "":
		msg = fmt.Sprintf("%s not found: it is not a package, a builtin or a name defined in this session", name)
	default:
		if _, isPkg := s.packagePath(qual); isPkg {
			msg = fmt.Sprintf("%s.%s not found: package %s has no exported name %s", qual, name, qual, name)
		} else if _, isVar := s.globals()[qual]; isVar {
			msg = fmt.Sprintf("%s.%s not found: %s has no field or method %s", qual, name, qual, name)
		} else {
			msg = fmt.Sprintf("%s.%s not found: %s is not a package or a variable of this session", qual, name, qual)
		}
	}
	msg += " (Tab after a dot lists the members of what comes before it; %help lists the magics)"
	return "", &cellError{ename: "NameError", evalue: msg, traceback: []string{"NameError: " + msg}}
}
