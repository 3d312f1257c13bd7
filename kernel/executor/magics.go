package executor

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goinv/goinv/stdlib/display"
)

const magicHelp = `goinv cells are Go: imports, declarations and statements in any order; the value
of the last expression is shown. Lines at the start of a cell may be magics:

  %help                 this text
  ?name  or  name?      page the signature and documentation of name (fmt.Println,
                        strings, longtail.NewSplit, a session variable), as Shift-Tab shows
  %reset                start a fresh session (all variables, funcs and types are dropped)
  %env                  list the environment
  %env NAME             show one variable
  %env NAME=VALUE       set a variable (seen by os.Getenv and by commands)
  %cd DIR               change the working directory (%cd alone shows it)
  %time                 run the rest of the cell and report its wall time
  %timeit CODE          time CODE (or the rest of the cell) in loops, as IPython's %timeit:
                        mean ± std. dev. per loop over 7 runs of at least 0.2 s each;
                        -n LOOPS and -r RUNS (before CODE) set the loops and runs
  %whos                 list the session's variables, constants, funcs and types
  !command              run a shell command, streaming its output
  %%writefile FILE      write the rest of the cell to FILE (first line of the cell only)
  %%html, %%markdown, %%latex, %%svg
                        show the rest of the cell as HTML, Markdown, LaTeX or SVG
  %%bash, %%sh [ARGS]   run the rest of the cell as a shell script, streaming its output

Declaring again: a func, var, const, type or method may be declared again in a
later cell. Calls compiled earlier run the newest func. A method declared again
with the same signature (alone, without its type) replaces the body for every value
of the type, made before or after, also through interfaces. A type declared again is
a new type: values made before keep the old type and its methods, and funcs declared
before still take the old type. To change a method's signature, declare its type
again together with its methods.

A panic's traceback lists, innermost first, each running statement of cell code with
its line and column (in this cell, or in cell [N] that declared the func) and the
compiled functions (toolkit, standard library) in between. Variables are kept.

Rich output: display.HTML, Markdown, Latex, JSON, PNG, JPEG, SVG, Image, Plot, and
display.NewProgress for progress bars. Interrupt stops the running cell and keeps the
variables; cell.Context() is the running cell's context for long toolkit calls.
`

// magics runs the magic lines at the start of code. It returns the Go code left to run,
// or handled = true when the cell is done.
func (s *session) magics(ctx context.Context, code string) (rest string, cerr *cellError, handled bool) {
	trimmed := strings.TrimLeft(code, " \t\r\n")
	if strings.HasPrefix(trimmed, "%%writefile") {
		first, body, _ := strings.Cut(trimmed, "\n")
		name := strings.TrimSpace(strings.TrimPrefix(first, "%%writefile"))
		if name == "" {
			return "", &cellError{ename: "MagicError", evalue: "%%writefile needs a file name", traceback: []string{"MagicError: %%writefile needs a file name"}}, true
		}
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			return "", magicError(err), true
		}
		fmt.Printf("wrote %d bytes to %s\n", len(body), name)
		return "", nil, true
	}
	if first, body, _ := strings.Cut(trimmed, "\n"); strings.HasPrefix(first, "%%") {
		if cerr, ok := s.cellMagic(ctx, strings.TrimSpace(first), body); ok {
			return "", cerr, true
		}
	}
	// Process magic lines one at a time; the first non-magic line starts the Go code.
	lines := strings.Split(code, "\n")
	for n, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "%") && !strings.HasPrefix(t, "!") {
			// Keep the line count so positions in errors still match the cell.
			return strings.Repeat("\n", n) + strings.Join(lines[n:], "\n"), nil, false
		}
		blankFrom := func() string { return strings.Repeat("\n", n+1) + strings.Join(lines[n+1:], "\n") }
		switch {
		case strings.HasPrefix(t, "!"):
			if err := s.shell(ctx, strings.TrimPrefix(t, "!")); err != nil {
				return "", err, true
			}
		case t == "%help":
			io.WriteString(os.Stdout, magicHelp)
		case t == "%reset":
			if err := s.reset(); err != nil {
				return "", magicError(err), true
			}
			fmt.Println("session reset: all variables, funcs and types are gone")
		case t == "%env" || strings.HasPrefix(t, "%env "):
			arg := strings.TrimSpace(strings.TrimPrefix(t, "%env"))
			switch {
			case arg == "":
				env := os.Environ()
				sort.Strings(env)
				for _, e := range env {
					fmt.Println(e)
				}
			case strings.Contains(arg, "="):
				k, v, _ := strings.Cut(arg, "=")
				k, v = strings.TrimSpace(k), strings.TrimSpace(v)
				if err := os.Setenv(k, v); err != nil {
					return "", magicError(err), true
				}
				fmt.Printf("env: %s=%s\n", k, v)
			default:
				fmt.Println(os.Getenv(arg))
			}
		case t == "%cd" || strings.HasPrefix(t, "%cd "):
			dir := strings.TrimSpace(strings.TrimPrefix(t, "%cd"))
			if dir != "" {
				if strings.HasPrefix(dir, "~") {
					home, _ := os.UserHomeDir()
					dir = filepath.Join(home, dir[1:])
				}
				if err := os.Chdir(dir); err != nil {
					return "", magicError(err), true
				}
			}
			wd, _ := os.Getwd()
			fmt.Println(wd)
		case t == "%time" || strings.HasPrefix(t, "%time "):
			restCode := blankFrom()
			if inline := strings.TrimSpace(strings.TrimPrefix(t, "%time")); inline != "" {
				restCode = strings.Repeat("\n", n) + inline + "\n" + strings.Join(lines[n+1:], "\n")
			}
			start := time.Now()
			cerr := s.runCell(ctx, restCode)
			fmt.Fprintln(os.Stderr, timeCell(time.Since(start)))
			return "", cerr, true
		case t == "%timeit" || strings.HasPrefix(t, "%timeit "):
			inline, loops, runs, err := timeitOptions(strings.TrimPrefix(t, "%timeit"))
			if err != nil {
				return "", magicError(err), true
			}
			restCode := blankFrom()
			if inline != "" {
				restCode = strings.Repeat("\n", n) + inline + "\n" + strings.Join(lines[n+1:], "\n")
			}
			return "", s.timeit(ctx, restCode, loops, runs), true
		case t == "%whos":
			s.whos()
		default:
			msg := fmt.Sprintf("unknown magic %s (try %%help)", strings.Fields(t)[0])
			return "", &cellError{ename: "MagicError", evalue: msg, traceback: []string{"MagicError: " + msg}}, true
		}
		if n == len(lines)-1 {
			return "", nil, true
		}
	}
	return "", nil, true
}

// cellMagic runs the cell magics that take the rest of the cell as it is, as
// IPython's do: %%html, %%markdown, %%latex and %%svg show it, %%bash and %%sh run
// it as a script. ok is false for another magic.
func (s *session) cellMagic(ctx context.Context, first, body string) (cerr *cellError, ok bool) {
	show := map[string]func(string) *display.Handle{
		"%%html": display.HTML, "%%markdown": display.Markdown, "%%latex": display.Latex, "%%svg": display.SVG,
	}
	name, args, _ := strings.Cut(first, " ")
	if f, ok := show[name]; ok {
		f(body)
		return nil, true
	}
	switch name {
	case "%%bash", "%%sh":
		shell := "/bin/sh"
		if name == "%%bash" {
			shell = "bash"
		}
		return s.script(ctx, shell, strings.TrimSpace(args), body), true
	}
	return nil, false
}

func magicError(err error) *cellError {
	return &cellError{ename: "MagicError", evalue: err.Error(), traceback: []string{"MagicError: " + err.Error()}}
}

// shell runs a command with sh, its output going straight to the cell's streams.
func (s *session) shell(ctx context.Context, command string) *cellError {
	return s.runCommand(ctx, exec.CommandContext(ctx, "/bin/sh", "-c", command), command)
}

// script runs a script with shell (given its arguments, if any), as %%bash does.
func (s *session) script(ctx context.Context, shell, args, script string) *cellError {
	cmd := exec.CommandContext(ctx, shell, append([]string{"-s", "--"}, strings.Fields(args)...)...)
	cmd.Stdin = strings.NewReader(script)
	return s.runCommand(ctx, cmd, shell+" script")
}

// runCommand runs cmd, its output going straight to the cell's streams; what names it in
// an error.
func (s *session) runCommand(ctx context.Context, cmd *exec.Cmd, what string) *cellError {
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return &cellError{ename: "Interrupted", evalue: "the command was interrupted", traceback: []string{"Interrupted: the command was interrupted"}}
		}
		if ee, ok := err.(*exec.ExitError); ok {
			msg := fmt.Sprintf("command exited with status %d: %s", ee.ExitCode(), what)
			return &cellError{ename: "ShellError", evalue: msg, traceback: []string{"ShellError: " + msg}}
		}
		return &cellError{ename: "ShellError", evalue: err.Error(), traceback: []string{"ShellError: " + err.Error()}}
	}
	return nil
}

// magicNames are the magics completion offers, as typed at the start of a line.
var magicNames = []string{"%cd", "%env", "%help", "%reset", "%time", "%timeit", "%whos",
	"%%bash", "%%html", "%%latex", "%%markdown", "%%sh", "%%svg", "%%writefile"}

// completeMagic completes a magic's name at the start of a line (`%ti` → %time,
// %timeit; `%%ht` → %%html), and reports whether the cursor, at byte offset off,
// is in one.
func completeMagic(code string, off int) (map[string]any, bool) {
	lineStart := strings.LastIndexByte(code[:off], '\n') + 1
	word := strings.TrimLeft(code[lineStart:off], " \t")
	if !strings.HasPrefix(word, "%") || strings.ContainsAny(word, " \t") {
		return nil, false
	}
	if strings.HasPrefix(word, "%%") && strings.TrimSpace(code[:lineStart]) != "" {
		return nil, false // a cell magic is only the first line
	}
	matches := []string{}
	for _, m := range magicNames {
		if strings.HasPrefix(m, word) {
			matches = append(matches, m)
		}
	}
	start := off - len(word)
	return map[string]any{"status": "ok", "matches": matches,
		"cursor_start": runeCount(code[:start]), "cursor_end": runeCount(code[:off]), "metadata": map[string]any{}}, true
}
