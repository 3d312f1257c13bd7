package runner

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
)

const pageStyle = `body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
.cell{margin:1em 0}
.prompt{color:#999;font-family:monospace;font-size:12px}
pre{tab-size:4;background:#f6f8fa;padding:.6em .8em;border-radius:4px;overflow-x:auto;font-size:13px;margin:.3em 0}
pre.source{border-left:3px solid #4a90d9}
pre.stderr{background:#fdf2f2}
pre.error{background:#fbe3e3;color:#8a1f11}
.output img,.output svg{max-width:100%;height:auto}
.markdown code{background:#f0f0f0;padding:0 .2em;border-radius:3px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}`

// HTML renders an executed notebook as one self-contained page: pictures are inline
// data: URIs, markdown cells are converted, outputs show their richest form.
func HTML(nb *Notebook, title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style></head><body>\n", html.EscapeString(title), pageStyle)
	for _, c := range nb.Cells {
		switch c.Type {
		case "markdown":
			fmt.Fprintf(&b, "<div class=\"cell markdown\">%s</div>\n", Markdown(c.Source))
		case "code":
			n := ""
			if v, ok := c.raw["execution_count"].(int); ok {
				n = fmt.Sprint(v)
			} else if v, ok := c.raw["execution_count"].(float64); ok {
				n = fmt.Sprint(int(v))
			}
			fmt.Fprintf(&b, "<div class=\"cell code\"><div class=\"prompt\">In [%s]:</div><pre class=\"source\">%s</pre>\n", n, html.EscapeString(c.Source))
			for _, o := range c.Outputs {
				b.WriteString("<div class=\"output\">")
				b.WriteString(outputHTML(o))
				b.WriteString("</div>\n")
			}
			b.WriteString("</div>\n")
		default:
			fmt.Fprintf(&b, "<div class=\"cell raw\"><pre>%s</pre></div>\n", html.EscapeString(c.Source))
		}
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func outputHTML(o map[string]any) string {
	switch o["output_type"] {
	case "stream":
		name, _ := o["name"].(string)
		return fmt.Sprintf("<pre class=%q>%s</pre>", name, html.EscapeString(ansi.ReplaceAllString(joinText(o["text"]), "")))
	case "error":
		var lines []string
		if tb, ok := o["traceback"].([]any); ok {
			for _, l := range tb {
				lines = append(lines, fmt.Sprint(l))
			}
		}
		if len(lines) == 0 {
			lines = []string{fmt.Sprintf("%v: %v", o["ename"], o["evalue"])}
		}
		return fmt.Sprintf("<pre class=\"error\">%s</pre>", html.EscapeString(ansi.ReplaceAllString(strings.Join(lines, "\n"), "")))
	case "display_data", "execute_result":
		data, _ := o["data"].(map[string]any)
		return bundleHTML(data)
	}
	return ""
}

// bundleHTML picks the richest representation a browser shows without scripts.
func bundleHTML(data map[string]any) string {
	text := func(k string) (string, bool) {
		v, ok := data[k]
		if !ok {
			return "", false
		}
		return joinText(v), true
	}
	if s, ok := text("text/html"); ok {
		return s
	}
	if s, ok := text("image/svg+xml"); ok {
		return s
	}
	for _, mime := range []string{"image/png", "image/jpeg", "image/gif"} {
		if s, ok := text(mime); ok {
			return fmt.Sprintf("<img src=\"data:%s;base64,%s\">", mime, strings.ReplaceAll(s, "\n", ""))
		}
	}
	if s, ok := text("text/markdown"); ok {
		return Markdown(s)
	}
	if s, ok := text("text/latex"); ok {
		return fmt.Sprintf("<pre class=\"latex\">%s</pre>", html.EscapeString(s))
	}
	if v, ok := data["application/json"]; ok {
		j, _ := json.MarshalIndent(v, "", "  ")
		return fmt.Sprintf("<pre class=\"json\">%s</pre>", html.EscapeString(string(j)))
	}
	if s, ok := text("text/plain"); ok {
		return fmt.Sprintf("<pre>%s</pre>", html.EscapeString(ansi.ReplaceAllString(s, "")))
	}
	return ""
}

// Markdown converts the common subset of Markdown notebooks use to HTML: headings,
// paragraphs, emphasis, inline code, fenced code blocks, lists, block quotes, links,
// images, horizontal rules and simple tables. Math is left as written.
func Markdown(src string) string {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var b strings.Builder
	var para []string
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inline(strings.Join(para, "\n")) + "</p>\n")
			para = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~"):
			flushPara()
			fence := t[:3]
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), fence); i++ {
				code = append(code, lines[i])
			}
			b.WriteString("<pre><code>" + html.EscapeString(strings.Join(code, "\n")) + "</code></pre>\n")
		case t == "":
			flushPara()
		case strings.HasPrefix(t, "#"):
			flushPara()
			level := len(t) - len(strings.TrimLeft(t, "#"))
			if level > 6 {
				level = 6
			}
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", level, inline(strings.TrimSpace(t[level:])), level)
		case t == "---" || t == "***" || t == "___":
			flushPara()
			b.WriteString("<hr>\n")
		case strings.HasPrefix(t, ">"):
			flushPara()
			var quote []string
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), ">"); i++ {
				quote = append(quote, strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(lines[i]), ">"), " "))
			}
			i--
			b.WriteString("<blockquote>" + Markdown(strings.Join(quote, "\n")) + "</blockquote>\n")
		case listItem.MatchString(line):
			flushPara()
			ordered := orderedItem.MatchString(line)
			tag := "ul"
			if ordered {
				tag = "ol"
			}
			b.WriteString("<" + tag + ">\n")
			for ; i < len(lines) && listItem.MatchString(lines[i]); i++ {
				item := listItem.ReplaceAllString(lines[i], "")
				// continuation lines
				for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") && !listItem.MatchString(lines[i+1]) {
					i++
					item += " " + strings.TrimSpace(lines[i])
				}
				b.WriteString("<li>" + inline(item) + "</li>\n")
			}
			i--
			b.WriteString("</" + tag + ">\n")
		case strings.HasPrefix(t, "|") && i+1 < len(lines) && tableSep.MatchString(strings.TrimSpace(lines[i+1])):
			flushPara()
			b.WriteString("<table>\n<tr>")
			for _, c := range tableCells(t) {
				b.WriteString("<th>" + inline(c) + "</th>")
			}
			b.WriteString("</tr>\n")
			for i += 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				b.WriteString("<tr>")
				for _, c := range tableCells(strings.TrimSpace(lines[i])) {
					b.WriteString("<td>" + inline(c) + "</td>")
				}
				b.WriteString("</tr>\n")
			}
			i--
			b.WriteString("</table>\n")
		default:
			para = append(para, t)
		}
	}
	flushPara()
	return b.String()
}

var (
	listItem    = regexp.MustCompile(`^\s{0,3}(?:[-*+]|\d+[.)])\s+`)
	orderedItem = regexp.MustCompile(`^\s{0,3}\d+[.)]\s+`)
	tableSep    = regexp.MustCompile(`^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$`)
	codeSpan    = regexp.MustCompile("`([^`]+)`")
	image       = regexp.MustCompile(`!\[([^\]]*)\]\(([^)\s]+)\)`)
	link        = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	bold        = regexp.MustCompile(`\*\*([^*]+)\*\*|__([^_]+)__`)
	italic      = regexp.MustCompile(`\*([^*]+)\*|\b_([^_]+)_\b`)
)

func tableCells(row string) []string {
	row = strings.Trim(row, "|")
	cells := strings.Split(row, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// inline converts inline Markdown; code spans are protected from the other rules.
func inline(s string) string {
	var spans []string
	s = codeSpan.ReplaceAllStringFunc(s, func(m string) string {
		spans = append(spans, "<code>"+html.EscapeString(m[1:len(m)-1])+"</code>")
		return fmt.Sprintf("\x00%d\x00", len(spans)-1)
	})
	s = html.EscapeString(s)
	s = image.ReplaceAllString(s, `<img alt="$1" src="$2">`)
	s = link.ReplaceAllString(s, `<a href="$2">$1</a>`)
	s = bold.ReplaceAllString(s, "<strong>$1$2</strong>")
	s = italic.ReplaceAllString(s, "<em>$1$2</em>")
	for i, sp := range spans {
		s = strings.Replace(s, fmt.Sprintf("\x00%d\x00", i), sp, 1)
	}
	return s
}
