package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Meta is what a results file was produced with; a resume must match it.
type Meta struct {
	Dataset        string `json:"dataset"`
	Profile        string `json:"profile"`
	Seed           int64  `json:"seed"`
	EKLDImages     int    `json:"ekld_images"`
	EKLDTransforms int    `json:"ekld_transforms"`
	TestPerClass   int    `json:"test_per_class,omitempty"`
	Trainer        string `json:"trainer"`
}

func meta(c *Config) Meta {
	return Meta{Dataset: c.Train.Name, Profile: fmt.Sprint(c.Profile), Seed: c.Seed,
		EKLDImages: c.EKLD.Images, EKLDTransforms: c.EKLD.Transforms, TestPerClass: c.TestPerClass, Trainer: c.TrainerName}
}

// store is the results CSV a Run appends to.
type store struct {
	path string
	rows []Row // the finished runs found on open
}

// openStore reads the finished runs of path, drops rows of runs that were cut short
// (fewer than k classes: a crash mid-write) and checks or writes the meta sidecar.
func openStore(path string, m Meta, k int) (*store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("experiment: results directory: %w", err)
		}
	}
	metaPath := path + ".meta.json"
	want, _ := json.MarshalIndent(m, "", "  ")
	st := &store{path: path}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.WriteFile(metaPath, append(want, '\n'), 0o644); err != nil {
			return nil, fmt.Errorf("experiment: %w", err)
		}
		return st, writeHeader(path)
	case err != nil:
		return nil, fmt.Errorf("experiment: open results: %w", err)
	}
	// A crash in the middle of an append leaves a last line without its end: it is
	// dropped with the rest of its run, which is then cut short and run again.
	cut := len(data) > 0 && data[len(data)-1] != '\n'
	if cut {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
	}
	rows, err := ReadCSV(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("experiment: results file %s: %w: it is not (or no longer) a results file of Run; choose another ResultsPath, or delete it to start over", path, err)
	}
	if got, err := os.ReadFile(metaPath); err == nil {
		if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
			return nil, fmt.Errorf("experiment: %s was produced with other settings:\n%s\nnow:\n%s\nchoose another ResultsPath or delete the file to start over", path, got, want)
		}
	} else if len(rows) > 0 {
		return nil, fmt.Errorf("experiment: %s has results but no %s to say how they were made; delete it or choose another ResultsPath", path, metaPath)
	} else if err := os.WriteFile(metaPath, append(want, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	count := map[RunKey]int{}
	for _, r := range rows {
		count[RunKey{r.Transform, r.Method, r.Instance}]++
	}
	clean := !cut
	for _, r := range rows {
		if count[RunKey{r.Transform, r.Method, r.Instance}] == k {
			st.rows = append(st.rows, r)
		} else {
			clean = false
		}
	}
	if !clean || len(rows) == 0 {
		// Rewrite without the cut-short runs so that appending stays consistent.
		res := &Results{Rows: st.rows}
		if err := res.SaveCSV(path); err != nil {
			return nil, fmt.Errorf("experiment: %w", err)
		}
	}
	return st, nil
}

func writeHeader(path string) error {
	res := &Results{}
	if err := res.SaveCSV(path); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return nil
}

// append adds the rows of one finished run and its timing, synced to disk so that a
// crash right after cannot lose a run that was reported as finished.
func (st *store) append(rows []Row, info RunInfo) error {
	var buf bytes.Buffer
	tmp := &Results{Rows: rows}
	if err := tmp.WriteCSV(&buf); err != nil {
		return err
	}
	data := buf.Bytes()
	data = data[bytes.IndexByte(data, '\n')+1:] // without the header
	if err := appendSync(st.path, data); err != nil {
		return fmt.Errorf("experiment: save run %s: %w", info.RunKey, err)
	}
	line, _ := json.Marshal(info)
	if err := appendSync(st.path+".runs.jsonl", append(line, '\n')); err != nil {
		return fmt.Errorf("experiment: save run %s: %w", info.RunKey, err)
	}
	return nil
}

func appendSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
