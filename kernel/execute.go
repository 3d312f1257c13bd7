package kernel

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/goinv/goinv/kernel/internal/jsonscan"
	"github.com/goinv/goinv/kernel/ipc"
	"github.com/goinv/goinv/kernel/supervisor"
)

type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      *bool             `json:"allow_stdin"`
	StopOnError     *bool             `json:"stop_on_error"`
}

// decode fills c from an execute_request's content as json.Unmarshal would (decode
// errors leave fields as they are), reading the usual content directly: it is on
// the path of every cell. Anything unusual (a field of another type, a key this
// decoder does not know, one in another case included, a null) is left to
// json.Unmarshal.
func (c *executeRequest) decode(content []byte) {
	*c, _ = jsonscan.Decode(content, func(d *executeRequest, key string, v []byte) (ok bool) {
		switch key {
		case "code":
			d.Code, ok = jsonscan.String(v)
		case "silent":
			d.Silent, ok = jsonscan.Bool(v)
		case "store_history":
			d.StoreHistory, ok = boolPtr(v)
		case "allow_stdin":
			d.AllowStdin, ok = boolPtr(v)
		case "stop_on_error":
			d.StopOnError, ok = boolPtr(v)
		case "user_expressions":
			ok = json.Unmarshal(v, &d.UserExpressions) == nil
		}
		return ok
	})
}

// boolPtr decodes a JSON boolean into a new *bool.
func boolPtr(v []byte) (*bool, bool) {
	b, ok := jsonscan.Bool(v)
	return &b, ok
}

// execute runs an execute_request. It publishes the busy status itself (dispatch
// does for other requests): busy and execute_input go out after the request has
// been handed to the executor, while the cell runs, instead of before it: that takes
// their encoding and signing off the round trip. Nothing the cell produces is
// published before them (the output callbacks wait for them).
//
// It returns what is left to do once the idle status is out: recording the cell in
// the history (a file write is no part of the round trip, nor of the wait for idle
// that clients such as nbclient make before the next cell; it still happens before
// the shell worker takes the next request, so a history_request sees this cell).
func (k *Kernel) execute(s *routerSocket, mu *sync.Mutex, m *Message) (afterIdle func()) {
	if k.abortedBefore(m) {
		k.publish(m, "status", statusBusy)
		k.replyAborted(s, mu, m)
		return nil
	}
	var c executeRequest
	c.decode(m.Content)
	store := !c.Silent && (c.StoreHistory == nil || *c.StoreHistory)
	allowStdin := c.AllowStdin == nil || *c.AllowStdin
	stopOnError := c.StopOnError == nil || *c.StopOnError

	k.mu.Lock()
	if store {
		k.executionCount++
	}
	count := k.executionCount
	k.mu.Unlock()
	// start publishes busy and execute_input, once: when the request has reached
	// the executor, or before the first output if that comes first (an Executor
	// need not call Sent). Once.Do returns only after the first call has finished,
	// so no output can overtake them.
	var startOnce sync.Once
	start := func() {
		startOnce.Do(func() {
			busy := pubMsg{"status", statusBusy}
			if c.Silent {
				k.publish(m, busy.msgType, busy.content)
				return
			}
			k.publishAll(m, busy, pubMsg{"execute_input", map[string]any{"code": c.Code, "execution_count": count}})
		})
	}

	var result string
	out := supervisor.Outputs{
		Sent: start,
		Result: func(data, md json.RawMessage) {
			start()
			if c.Silent {
				return
			}
			result = textPlain(data)
			// Published before the reply, not after it: jupyter console shows
			// only the iopub messages that are there when the reply arrives.
			k.publish(m, "execute_result", executeResult(count, data, md))
		},
		Stream: func(name, text string) {
			start()
			k.publish(m, "stream", map[string]any{"name": name, "text": text})
		},
		Event: func(ev ipc.Event) {
			start()
			switch ev.Kind {
			case ipc.EventDisplay:
				content := map[string]any{"data": orEmpty(ev.Data), "metadata": orEmpty(ev.Metadata), "transient": map[string]any{}}
				if ev.DisplayID != "" {
					content["transient"] = map[string]any{"display_id": ev.DisplayID}
				}
				t := "display_data"
				if ev.Update {
					t = "update_display_data"
				}
				k.publish(m, t, content)
			case ipc.EventClearOutput:
				k.publish(m, "clear_output", map[string]any{"wait": ev.Wait})
			case ipc.EventExecuteResult:
				if c.Silent {
					return
				}
				if t, ok := ev.Data["text/plain"].(string); ok {
					result = t
				}
				// Published before the reply, not after it: jupyter console shows
				// only the iopub messages that are there when the reply arrives.
				k.publish(m, "execute_result", map[string]any{"execution_count": count, "data": orEmpty(ev.Data), "metadata": orEmpty(ev.Metadata)})
			case ipc.EventInputRequest:
				k.requestInput(m, ev, allowStdin)
			}
		},
	}
	if allowStdin {
		k.mu.Lock()
		k.stdinFor = m
		k.mu.Unlock()
	}
	raw, err := executeRaw(k.exec, ipc.Request{
		Code: c.Code, Silent: c.Silent, StoreHistory: store, AllowStdin: allowStdin,
		UserExpressions: c.UserExpressions, ExecutionCount: count,
	}, out)
	start() // if the request never reached an executor
	k.mu.Lock()
	k.stdinFor = nil
	k.mu.Unlock()
	if store {
		afterIdle = func() { k.hist.Add(count, c.Code, result) }
	}
	if err == nil && completeOK(raw, count) {
		// The executor's content is a whole execute_reply: forward it as it is.
		k.reply(s, mu, m, "execute_reply", raw)
		return afterIdle
	}
	var reply map[string]any
	if err != nil {
		reply = map[string]any{"status": "error", "ename": "ExecutorUnavailable", "evalue": err.Error(), "traceback": []string{err.Error()}}
	} else if json.Unmarshal(raw, &reply) != nil || reply == nil {
		msg := "the executor's reply content does not decode"
		reply = map[string]any{"status": "error", "ename": "ExecutorError", "evalue": msg, "traceback": []string{msg}}
	}
	reply["execution_count"] = count
	if _, ok := reply["user_expressions"]; !ok {
		reply["user_expressions"] = map[string]any{}
	}
	if _, ok := reply["payload"]; !ok {
		reply["payload"] = []any{}
	}
	failed := reply["status"] == "error"
	if failed {
		if _, ok := reply["traceback"]; !ok {
			reply["traceback"] = []string{}
		}
		k.publish(m, "error", map[string]any{"ename": reply["ename"], "evalue": reply["evalue"], "traceback": reply["traceback"]})
	}
	failedAt := time.Now()
	k.reply(s, mu, m, "execute_reply", reply)
	repliedAt := time.Now()
	if failed && stopOnError {
		k.abortQueued(failedAt)
		k.abortReceived(s, mu, repliedAt)
	}
	return afterIdle
}

// rawExecutor is an Executor that can return the execute_reply content as the
// executor encoded it (a *supervisor.Session can).
type rawExecutor interface {
	ExecuteRaw(req ipc.Request, out supervisor.Outputs) (json.RawMessage, error)
}

// executeRaw runs req on e and returns the reply content as JSON, without decoding
// it when e can hand it over as it is.
func executeRaw(e Executor, req ipc.Request, out supervisor.Outputs) (json.RawMessage, error) {
	if r, ok := e.(rawExecutor); ok {
		return r.ExecuteRaw(req, out)
	}
	reply, err := e.Execute(req, out)
	if err != nil {
		return nil, err
	}
	if reply == nil {
		reply = map[string]any{"status": "ok"}
	}
	return json.Marshal(reply)
}

// completeOK reports whether raw is an execute_reply content that can be sent as
// it is: status "ok", this request's execution_count, user_expressions and payload
// present. Anything else (errors, a content missing a field) takes the path that
// decodes, completes and, for errors, publishes it. Only the four fields are read;
// the values of others are skipped without being built.
func completeOK(raw json.RawMessage, count int) bool {
	var status, ue, payload bool
	var n int64 = -1
	err := jsonscan.Object(raw, func(k, v []byte) error {
		switch jsonscan.Key(k) {
		case "status":
			s, _ := jsonscan.String(v)
			status = s == "ok"
		case "execution_count":
			n, _ = jsonscan.Int(v)
		case "user_expressions":
			ue = isJSONKind(v, '{')
		case "payload":
			payload = isJSONKind(v, '[')
		}
		return nil
	})
	return err == nil && status && n == int64(count) && ue && payload
}

// isJSONKind reports whether v is a JSON object ('{') or array ('[').
func isJSONKind(v json.RawMessage, open byte) bool {
	return len(v) > 0 && v[0] == open
}

// abortReceived answers, after a failure under stop_on_error, every execute request
// that was already waiting in the shell queue when the failed cell's reply went out
// with status "aborted", whatever its header date says (a client's clock may be off,
// or its dates coarse); other queued requests are handled in their order. A request
// received after that reply is no part of the queue the failure aborts (a fast
// client may have sent it on seeing the error): it is handled as usual, after the
// failed request's idle status, and so is everything after it. Runs on the shell worker, which owns the queue.
func (k *Kernel) abortReceived(s *routerSocket, mu *sync.Mutex, repliedAt time.Time) {
	for {
		select {
		case q := <-k.queue:
			if q.recvAt.After(repliedAt) {
				k.held = q // the shell worker's next request, after this one's idle
				return
			}
			if q.Header.MsgType == "execute_request" {
				k.publish(q, "status", statusBusy)
				k.replyAborted(s, mu, q)
				k.publish(q, "status", statusIdle)
			} else {
				k.dispatch(s, mu, q)
			}
		default:
			return
		}
	}
}

// abortQueued records a failure under stop_on_error: execute requests sent before
// it (queued behind the failed cell, or still in flight) are answered with status
// "aborted" without running. A client that saw the error and then sent a new cell
// gets it run. Requests are ordered by their header dates, which for a client on
// another machine assumes roughly synchronised clocks.
func (k *Kernel) abortQueued(failedAt time.Time) {
	k.mu.Lock()
	k.abortBefore = failedAt
	k.mu.Unlock()
}

// abortedBefore reports whether m was sent before the last failure under
// stop_on_error, and so must be answered with status "aborted".
func (k *Kernel) abortedBefore(m *Message) bool {
	k.mu.Lock()
	before := k.abortBefore
	k.mu.Unlock()
	if before.IsZero() {
		return false
	}
	d, err := time.Parse(time.RFC3339Nano, m.Header.Date)
	return err == nil && d.Before(before)
}

// replyAborted answers an execute request that stop_on_error keeps from running.
func (k *Kernel) replyAborted(s *routerSocket, mu *sync.Mutex, m *Message) {
	k.mu.Lock()
	count := k.executionCount
	k.mu.Unlock()
	k.reply(s, mu, m, "execute_reply", map[string]any{
		"status": "aborted", "execution_count": count, "user_expressions": map[string]any{}, "payload": []any{}})
}

// executeResult returns the execute_result content for a bundle and metadata that
// are JSON already (the executor's, which decoded as part of a valid frame): they
// are copied in as they are, not encoded again (json.Marshal would scan and
// compact them once more); a value that is not an object is sent as {}.
func executeResult(count int, data, md json.RawMessage) json.RawMessage {
	data, md = orEmptyObject(data), orEmptyObject(md)
	b := make([]byte, 0, len(`{"execution_count":,"data":,"metadata":}`)+20+len(data)+len(md))
	b = append(b, `{"execution_count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, `,"metadata":`...)
	b = append(b, md...)
	return append(b, '}')
}

// orEmptyObject returns v, or an empty JSON object if v is not a JSON object.
func orEmptyObject(v json.RawMessage) json.RawMessage {
	if !isJSONKind(v, '{') {
		return json.RawMessage("{}")
	}
	return v
}

// textPlain returns the "text/plain" entry of an encoded MIME bundle, "" if it
// has none. The other entries (images) are skipped, not decoded.
func textPlain(data json.RawMessage) string {
	var t string
	jsonscan.Object(data, func(k, v []byte) error {
		if jsonscan.Key(k) == "text/plain" {
			t, _ = jsonscan.String(v)
		}
		return nil
	})
	return t
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// requestInput forwards the executor's input_request to the frontend on stdin, or
// answers it with an empty line when the frontend does not allow stdin.
func (k *Kernel) requestInput(m *Message, ev ipc.Event, allowed bool) {
	if !allowed {
		k.exec.InputReply("")
		return
	}
	req := newMessage(k.session, "input_request", m, map[string]any{"prompt": ev.Prompt, "password": ev.Password})
	k.send(k.stdin, &k.stdinMu, req)
}

// onStdin handles input_reply messages.
func (k *Kernel) onStdin(m *Message) {
	if m.Header.MsgType != "input_reply" {
		k.log.Printf("stdin: ignoring %s", m.Header.MsgType)
		return
	}
	var c struct {
		Value string `json:"value"`
	}
	decode(m, &c)
	k.exec.InputReply(c.Value)
}
