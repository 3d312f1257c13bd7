package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var samples = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{,}`, `{"a":1 "b":2}`,
	`[]`, `[1,2,3]`, `[1,]`, `"x"`, `"\u00e9\n\"\\\/"`, `"\x"`, `"\u12"`, "\"a\x01\"",
	`0`, `-0`, `01`, `-`, `1.`, `1.5e+10`, `1e`, `.5`, `-1.25E-3`, `true`, `tru`, `nul`, `null`,
	`{"header":{"msg_id":"x","date":"2026-11-29T14:50:00.123456Z"},"n":[1,{"x":[null,false]}]}`,
	`{"a":1}{"b":2}`, `{"a":1} x`, "", " ", `{"\u0061":"b"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}",
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 100) + strings.Repeat("]", 100),
	`{"code": "1 + 1", "silent": false, "store_history": true, "user_expressions": {}, "allow_stdin": true, "stop_on_error": true}`,
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range samples {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%.60q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

func TestObjectMembers(t *testing.T) {
	for _, s := range samples {
		checkObject(t, []byte(s))
	}
}

// checkObject compares Object's members with what encoding/json decodes.
func checkObject(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]json.RawMessage
	werr := json.Unmarshal(b, &want)
	isObj := json.Valid(b) && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
	got := map[string]json.RawMessage{}
	err := Object(b, func(k, v []byte) error {
		var key string // as encoding/json decodes keys (invalid UTF-8 becomes U+FFFD)
		if err := json.Unmarshal(k, &key); err != nil {
			t.Fatalf("key %q does not decode: %v", k, err)
		}
		got[key] = json.RawMessage(bytes.Clone(v))
		return nil
	})
	if (err == nil) != isObj {
		t.Fatalf("Object(%.60q) error %v, but encoding/json: valid object %v (%v)", b, err, isObj, werr)
	}
	if err != nil {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("Object(%.60q): %d members, encoding/json %d", b, len(got), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Fatalf("Object(%.60q): member %q = %s, encoding/json %s", b, k, got[k], v)
		}
	}
}

func TestString(t *testing.T) {
	for _, s := range []string{`"plain"`, `"tab\tand \u00e9 \"q\""`, `""`, `1`, `"unterminated`} {
		var want string
		werr := json.Unmarshal([]byte(s), &want)
		got, ok := String([]byte(s))
		if ok != (werr == nil) || got != want {
			t.Errorf("String(%s) = %q, %v; encoding/json %q, %v", s, got, ok, want, werr)
		}
	}
}

func TestScalars(t *testing.T) {
	if v, ok := Bool([]byte("true")); !v || !ok {
		t.Error("Bool(true)")
	}
	if _, ok := Bool([]byte("1")); ok {
		t.Error("Bool(1) ok")
	}
	if n, ok := Int([]byte("-42")); n != -42 || !ok {
		t.Error("Int(-42)")
	}
	if _, ok := Int([]byte("1.5")); ok {
		t.Error("Int(1.5) ok")
	}
	if n, ok := Uint([]byte("18446744073709551615")); n != 1<<64-1 || !ok {
		t.Error("Uint(max)")
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
		checkObject(t, b)
	})
}

func BenchmarkObject(b *testing.B) {
	doc := []byte(samples[len(samples)-1])
	for i := 0; i < b.N; i++ {
		Object(doc, func(k, v []byte) error { return nil })
	}
}

func BenchmarkEncodingJSONValid(b *testing.B) {
	doc := []byte(samples[len(samples)-1])
	for i := 0; i < b.N; i++ {
		json.Valid(doc)
	}
}

// String returns strings of their own, which outlive a reused buffer, and decodes
// invalid UTF-8 as encoding/json does.
func TestStringCopiesAndReplaces(t *testing.T) {
	buf := []byte(`"abc"`)
	s, _ := String(buf)
	copy(buf, `"xyz"`)
	if s != "abc" {
		t.Errorf("String's result changed with its buffer: %q", s)
	}
	for _, raw := range []string{"\"a\xffb\"", "\"\xc3\"", `"é"`} {
		var want string
		json.Unmarshal([]byte(raw), &want)
		if got, ok := String([]byte(raw)); !ok || got != want {
			t.Errorf("String(%q) = %q, encoding/json %q", raw, got, want)
		}
	}
}
