package executor

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"io"
	"sync"
)

//go:generate go run ./gendoc

// docIndexJSON maps import paths to the gzip-compressed JSON documentation of one
// package (see gendoc).
//
//go:embed docindex.json
var docIndexJSON []byte

var (
	docIndexOnce sync.Once
	docIndex     map[string][]byte
	docCacheMu   sync.Mutex
	docCache     = map[string]*pkgDoc{}
)

// embeddedDoc returns the documentation of an import path from the index compiled into
// the binary, or nil.
func embeddedDoc(p string) *pkgDoc {
	docIndexOnce.Do(func() {
		if err := json.Unmarshal(docIndexJSON, &docIndex); err != nil {
			docIndex = nil
		}
	})
	docCacheMu.Lock()
	defer docCacheMu.Unlock()
	if d, ok := docCache[p]; ok {
		return d
	}
	chunk, ok := docIndex[p]
	if !ok {
		return nil
	}
	var d *pkgDoc
	if zr, err := gzip.NewReader(bytes.NewReader(chunk)); err == nil {
		if raw, err := io.ReadAll(zr); err == nil {
			var pd pkgDoc
			if json.Unmarshal(raw, &pd) == nil {
				d = &pd
			}
		}
	}
	docCache[p] = d
	return d
}
