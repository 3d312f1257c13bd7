// Package csvfile writes the toolkit's tidy tables as CSV files: one header row, one
// record per row, and errors that name the file.
package csvfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
)

// Write writes header and then record(i) for i in [0, n) as CSV to w.
func Write(w io.Writer, header []string, n int, record func(i int) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range n {
		if err := cw.Write(record(i)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Save creates the file at path and fills it with write; what names the table in
// errors ("save eKLD table results.csv: …").
func Save(path, what string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save %s: %w", what, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("save %s %s: %w", what, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s %s: %w", what, path, err)
	}
	return nil
}
