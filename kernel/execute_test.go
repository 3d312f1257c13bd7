package kernel

import (
	"encoding/json"
	"testing"
)

// TestCompleteOK: only a whole ok reply of this request's count is forwarded as the
// executor encoded it; everything else is decoded and completed.
func TestCompleteOK(t *testing.T) {
	for _, c := range []struct {
		raw   string
		count int
		ok    bool
	}{
		{`{"execution_count":3,"payload":[],"status":"ok","user_expressions":{}}`, 3, true},
		{`{"status":"ok","execution_count":3,"user_expressions":{"a":{"status":"ok"}},"payload":[{"source":"page"}]}`, 3, true},
		{`{"execution_count":2,"payload":[],"status":"ok","user_expressions":{}}`, 3, false},
		{`{"payload":[],"status":"ok","user_expressions":{}}`, 3, false},
		{`{"execution_count":3,"status":"ok","user_expressions":{}}`, 3, false},
		{`{"execution_count":3,"payload":[],"status":"ok"}`, 3, false},
		{`{"execution_count":3,"payload":null,"status":"ok","user_expressions":{}}`, 3, false},
		{`{"execution_count":3,"ename":"X","evalue":"","payload":[],"status":"error","traceback":[],"user_expressions":{}}`, 3, false},
		{`{"status":"ok"}`, 0, false},
		{`not json`, 0, false},
		{``, 0, false},
	} {
		if got := completeOK(json.RawMessage(c.raw), c.count); got != c.ok {
			t.Errorf("completeOK(%s, %d) = %v, want %v", c.raw, c.count, got, c.ok)
		}
	}
}

func TestTextPlainAndEmptyObject(t *testing.T) {
	for raw, want := range map[string]string{
		`{"text/plain":"2","image/png":"iVBOR"}`: "2",
		`{"image/png":"iVBOR"}`:                  "",
		`{"text/plain":3}`:                       "",
		`{"Text/Plain":"x"}`:                     "",
		``:                                       "",
	} {
		if got := textPlain(json.RawMessage(raw)); got != want {
			t.Errorf("textPlain(%s) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]string{`{"a":1}`: `{"a":1}`, `{}`: `{}`, ``: `{}`, `null`: `{}`, `[]`: `{}`} {
		if got := string(orEmptyObject(json.RawMessage(raw))); got != want {
			t.Errorf("orEmptyObject(%s) = %s, want %s", raw, got, want)
		}
	}
}
