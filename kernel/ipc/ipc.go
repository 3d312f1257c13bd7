// Package ipc is the wire between the supervisor (the process that speaks Jupyter) and
// the executor (the process that runs user code with yaegi).
//
// The supervisor starts the executor with three pipes besides stdin:
//
//	fd 1, fd 2  the executor's stdout and stderr: everything any code prints, verbatim
//	fd 3        requests, supervisor → executor
//	fd 4        events, executor → supervisor
//
// Requests and events are frames: a 4-byte big-endian length followed by that many
// bytes of JSON. Every request carries an ID; every event that answers it carries the
// same ID, and exactly one event of kind "reply" ends each request. Events with ID 0
// belong to no request (for example a display published by a goroutine after its cell
// ended): the supervisor attributes them to the most recent execute request.
//
// Ordering: the executor writes its output to fd 1/2 before it writes an event that
// must follow that output, so a supervisor that drains the bytes waiting in fd 1/2
// before handling each event puts earlier output before the event. Output printed
// right after a display needs more: without it, the supervisor could read that later
// text in the same drain and send it first. So when the supervisor starts the
// executor with $GOINV_IPC_ACK=1 (AckEnv), display and clear_output events carry a
// sequence number (Event.Seq) and the code that published them waits until the
// supervisor answers with an "ack" request of that Seq, which it sends after draining
// fd 1/2 and before reading anything more: whatever the cell prints after a display
// is still in the pipe then, and comes after it.
package ipc

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// Request kinds.
const (
	KindExecute    = "execute"     // run Code as a cell
	KindComplete   = "complete"    // completions at Cursor
	KindInspect    = "inspect"     // documentation at Cursor
	KindIsComplete = "is_complete" // is Code a complete cell?
	KindInputReply = "input_reply" // Value answers the pending input_request
	KindInterrupt  = "interrupt"   // cancel the running cell's context (no reply)
	KindShutdown   = "shutdown"    // exit cleanly after replying
	KindAck        = "ack"         // Seq: the event of that number was taken in order (no reply)
)

// Event kinds.
const (
	EventReady         = "ready"          // sent once when the executor can take requests
	EventDisplay       = "display"        // display_data, or update_display_data if Update
	EventClearOutput   = "clear_output"   // clear_output
	EventExecuteResult = "execute_result" // the value of the cell's last expression
	EventInputRequest  = "input_request"  // the cell reads stdin: ask the frontend
	EventReply         = "reply"          // the final answer to a request
)

// Request is a frame from the supervisor to the executor.
type Request struct {
	ID   uint64 `json:"id"`
	Kind string `json:"kind"`

	Code            string            `json:"code,omitempty"`
	Cursor          int               `json:"cursor,omitempty"` // in Unicode code points, as Jupyter counts
	DetailLevel     int               `json:"detail_level,omitempty"`
	Silent          bool              `json:"silent,omitempty"`
	StoreHistory    bool              `json:"store_history,omitempty"`
	AllowStdin      bool              `json:"allow_stdin,omitempty"`
	UserExpressions map[string]string `json:"user_expressions,omitempty"`
	ExecutionCount  int               `json:"execution_count,omitempty"`
	Value           string            `json:"value,omitempty"` // input_reply
	Seq             uint64            `json:"seq,omitempty"`   // ack
}

// Event is a frame from the executor to the supervisor.
type Event struct {
	ID   uint64 `json:"id"`
	Kind string `json:"kind"`

	// display, execute_result
	Data      map[string]any `json:"data,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	DisplayID string         `json:"display_id,omitempty"`
	Update    bool           `json:"update,omitempty"`
	// clear_output
	Wait bool `json:"wait,omitempty"`
	// input_request
	Prompt   string `json:"prompt,omitempty"`
	Password bool   `json:"password,omitempty"`
	// Seq, when not zero, asks for an "ack" request with the same Seq (see AckEnv).
	Seq uint64 `json:"seq,omitempty"`

	// reply: Content is the Jupyter reply content for the request's kind
	// (execute_reply, complete_reply, inspect_reply, is_complete_reply), ready to send.
	// For a failed execute it holds status "error", ename, evalue and traceback.
	Content map[string]any `json:"content,omitempty"`
}

// AckEnv is the environment variable that, set to "1" in the executor's environment,
// makes it wait for an ack after each display and clear_output event.
const AckEnv = "GOINV_IPC_ACK"

// CrashFDEnv names the executor's file descriptor for its crash report: the executor
// hands it to runtime/debug.SetCrashOutput, so that when the Go runtime kills it (a
// panic in a goroutine, a stack overflow) the supervisor can read the report's start —
// the panic value and the goroutine — which stderr's tail no longer holds after a long
// trace.
const CrashFDEnv = "GOINV_CRASH_FD"

// MaxFrame bounds a frame's size so that a corrupt length cannot exhaust memory.
const MaxFrame = 1 << 30

// WriteFrame writes v as one length-prefixed JSON frame.
func WriteFrame(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ipc: encode frame: %w", err)
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	_, err = w.Write(buf) // one write: frames from concurrent writers must not interleave
	return err
}

// AppendFrame appends v to buf as one length-prefixed JSON frame.
func AppendFrame(buf []byte, v any) ([]byte, error) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	w := appendWriter{buf}
	enc := json.NewEncoder(&w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return buf[:start], fmt.Errorf("ipc: encode frame: %w", err)
	}
	buf = w.b[:len(w.b)-1] // Encode ends the value with a newline
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-4))
	return buf, nil
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// ReadFrame reads one frame into v.
func ReadFrame(r io.Reader, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrame {
		return fmt.Errorf("ipc: frame of %d bytes exceeds the %d-byte limit", n, MaxFrame)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return fmt.Errorf("ipc: truncated frame: %w", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("ipc: decode frame: %w", err)
	}
	return nil
}
