package executor

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/goinv/goinv/kernel/internal/jsonscan"
	"github.com/goinv/goinv/kernel/ipc"
)

// readRequest reads one request frame (see package ipc) from r into q.
//
// It is ipc.ReadFrame without its two costs per request: a new buffer for the
// body (a frame that fits r's buffer is decoded where it lies) and
// encoding/json's reflection (the members are picked out with jsonscan, which
// took the decode of a `1 + 1` request from about 6% of the executor's CPU per
// cell, perf through the kernel, to well under 1%). Anything it does not know
// how to decode exactly as encoding/json would — a key in other case, a member
// of another type — goes to encoding/json, so the result is the same.
func readRequest(r *bufio.Reader, q *ipc.Request) error {
	hdr, err := r.Peek(4)
	if err != nil {
		if err == io.EOF && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	n := int(binary.BigEndian.Uint32(hdr))
	r.Discard(4)
	if n > ipc.MaxFrame {
		return fmt.Errorf("ipc: frame of %d bytes exceeds the %d-byte limit", n, ipc.MaxFrame)
	}
	var body []byte
	if n <= r.Size() {
		if body, err = r.Peek(n); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("ipc: truncated frame: %w", err)
		}
		defer r.Discard(n)
	} else {
		body = make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return fmt.Errorf("ipc: truncated frame: %w", err)
		}
	}
	if err := decodeRequest(body, q); err != nil {
		return fmt.Errorf("ipc: decode frame: %w", err)
	}
	return nil
}

// decodeRequest decodes a request's JSON into q as json.Unmarshal does.
func decodeRequest(b []byte, q *ipc.Request) error {
	d, err := jsonscan.Decode(b, func(d *ipc.Request, key string, v []byte) (ok bool) {
		if jsonscan.IsNull(v) {
			return true // json.Unmarshal leaves the field as it is
		}
		switch key {
		case "id":
			d.ID, ok = jsonscan.Uint(v)
		case "kind":
			d.Kind, ok = jsonscan.String(v)
		case "code":
			d.Code, ok = jsonscan.String(v)
		case "value":
			d.Value, ok = jsonscan.String(v)
		case "seq":
			d.Seq, ok = jsonscan.Uint(v)
		case "cursor":
			d.Cursor, ok = intOf(v)
		case "detail_level":
			d.DetailLevel, ok = intOf(v)
		case "execution_count":
			d.ExecutionCount, ok = intOf(v)
		case "silent":
			d.Silent, ok = jsonscan.Bool(v)
		case "store_history":
			d.StoreHistory, ok = jsonscan.Bool(v)
		case "allow_stdin":
			d.AllowStdin, ok = jsonscan.Bool(v)
		case "user_expressions":
			ok = json.Unmarshal(v, &d.UserExpressions) == nil
		}
		return ok
	})
	*q = d
	return err
}

// intOf decodes a JSON integer that fits an int.
func intOf(v []byte) (int, bool) {
	n, ok := jsonscan.Int(v)
	return int(n), ok && int64(int(n)) == n
}
