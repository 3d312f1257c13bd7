package kernel

import (
	"encoding/json"
	"reflect"
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
		{`{"execution_count":3,"payload":[],"status":"ok","user_expressions":{}`, 3, false},
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
		`{"text/plain":"<b \"x\">\u00e9"}`:       `<b "x">é`,
		`{"text/plain":"2"`:                      "",
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

func TestExecuteResultContent(t *testing.T) {
	got := executeResult(12, json.RawMessage(`{"text/plain":"2","image/png":"iVBOR"}`), nil)
	want := `{"execution_count":12,"data":{"text/plain":"2","image/png":"iVBOR"},"metadata":{}}`
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var c map[string]any
	if err := json.Unmarshal(got, &c); err != nil || c["execution_count"] != 12.0 {
		t.Errorf("does not decode as an execute_result: %v %v", c, err)
	}
	if got := string(executeResult(1, json.RawMessage(`null`), json.RawMessage(`{"isolated":true}`))); got != `{"execution_count":1,"data":{},"metadata":{"isolated":true}}` {
		t.Errorf("got %s", got)
	}
}

// TestExecuteRequestDecode checks the direct decoding of execute_request contents
// against json.Unmarshal, for what clients send and for unusual contents.
func TestExecuteRequestDecode(t *testing.T) {
	for _, s := range []string{
		`{"code": "1 + 1", "silent": false, "store_history": true, "user_expressions": {}, "allow_stdin": true, "stop_on_error": true}`,
		`{"code":"fmt.Println(\"\u00e9\\n\")","silent":true,"user_expressions":{"a":"x + 1"}}`,
		`{"code":"x","store_history":null,"allow_stdin":false,"stop_on_error":false,"other":[1,{"a":2}]}`,
		`{"Code":"upper case key","Silent":true}`,
		`{"code":1,"silent":"yes"}`,
		`{"code":"x","user_expressions":{"a":1}}`,
		`{}`,
	} {
		var want, got executeRequest
		json.Unmarshal([]byte(s), &want)
		got.decode([]byte(s))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", s, got, want)
		}
	}
}
