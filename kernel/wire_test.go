package kernel

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/goinv/goinv/kernel/internal/jsonscan"
)

func testMessage() *Message {
	m := newMessage("sess", "execute_request", nil, map[string]any{"code": "1 + 1"})
	m.Identities = [][]byte{[]byte("client-1")}
	m.Buffers = [][]byte{{0, 1, 2}}
	return m
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	s := NewSigner("secret")
	frames, err := Encode(testMessage(), s)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(frames, s)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Identities[0]) != "client-1" || m.Header.MsgType != "execute_request" || m.Header.Version != ProtocolVersion {
		t.Fatalf("decoded %+v", m)
	}
	var c struct{ Code string }
	json.Unmarshal(m.Content, &c)
	if c.Code != "1 + 1" || len(m.Buffers) != 1 || !bytes.Equal(m.Buffers[0], []byte{0, 1, 2}) {
		t.Fatalf("content %q buffers %v", c.Code, m.Buffers)
	}
	// A reply carries the request's header verbatim as its parent.
	r := newMessage("sess", "execute_reply", m, map[string]any{"status": "ok"})
	if !bytes.Equal(r.Parent, frames[3]) {
		t.Fatalf("parent %s, want %s", r.Parent, frames[3])
	}
}

func TestSignatureRejected(t *testing.T) {
	s := NewSigner("secret")
	frames, _ := Encode(testMessage(), s)
	for name, mutate := range map[string]func([][]byte){
		"wrong key":     func(f [][]byte) { copy(f[2], NewSigner("other").Sign(f[3], f[4], f[5], f[6])) },
		"missing":       func(f [][]byte) { f[2] = nil },
		"tampered body": func(f [][]byte) { f[6] = []byte(`{"code":"os.Exit(1)"}`) },
	} {
		f := make([][]byte, len(frames))
		for i := range frames {
			f[i] = append([]byte(nil), frames[i]...)
		}
		mutate(f)
		if _, err := Decode(f, s); err != ErrSignature {
			t.Errorf("%s: err = %v, want ErrSignature", name, err)
		}
	}
	// Empty key: unsigned messages are accepted.
	u := NewSigner("")
	f, _ := Encode(testMessage(), u)
	if len(f[2]) != 0 {
		t.Fatalf("unsigned message has signature %q", f[2])
	}
	if _, err := Decode(f, u); err != nil {
		t.Fatal(err)
	}
}

func TestKnownSignature(t *testing.T) {
	// HMAC-SHA256("key", "abcd") computed independently (python hmac).
	got := string(NewSigner("key").Sign([]byte("a"), []byte("b"), []byte("c"), []byte("d")))
	want := "2a31ec0ee8d878c9eece9fb0df79b3b90b2256240163aa5ee50d176d3d1121f8"
	if got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
}

func TestMalformed(t *testing.T) {
	s := NewSigner("")
	for _, frames := range [][][]byte{
		nil,
		{[]byte("id")},
		{[]byte(delimiter), nil, []byte("{}")},
		{[]byte(delimiter), nil, []byte("not json"), []byte("{}"), []byte("{}"), []byte("{}")},
		{[]byte(delimiter), nil, []byte(`{"msg_type":"x"}`), []byte("[]"), []byte("{}"), []byte("{}")},
		{[]byte(delimiter), nil, []byte(`{"msg_type":"x"}`), []byte("{}"), []byte("{}"), []byte("null")},
	} {
		if _, err := Decode(frames, s); err == nil {
			t.Errorf("Decode(%q) succeeded", frames)
		}
	}
}

func FuzzDecode(f *testing.F) {
	s := NewSigner("k")
	good, _ := Encode(testMessage(), s)
	f.Add(bytes.Join(good, []byte{0}))
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.Split(data, []byte{0})
		for _, signer := range []*Signer{s, NewSigner("")} {
			m, err := Decode(frames, signer)
			if err != nil {
				continue
			}
			// Whatever decodes must encode again and decode to the same type.
			out, err := Encode(m, signer)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Decode(out, signer)
			if err != nil || m2.Header.MsgType != m.Header.MsgType {
				t.Fatalf("re-decode: %v", err)
			}
		}
	})
}

func TestNewIDAndIsObject(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for i := 0; i < 100; i++ {
		if id := newID(); !re.MatchString(id) {
			t.Fatalf("newID() = %q, not a UUID-4", id)
		}
	}
	for _, c := range []struct {
		s  string
		ok bool
	}{{"{}", true}, {" {\"a\":1}", true}, {"[]", false}, {"null", false}, {"{", false}, {"", false}, {"{} x", false}} {
		if jsonscan.IsObject([]byte(c.s)) != c.ok {
			t.Errorf("IsObject(%q) = %v", c.s, !c.ok)
		}
	}
}

// TestAppendHeader checks the hand-written header encoding against encoding/json,
// for the kernel's own headers and for strings that need escaping.
func TestAppendHeader(t *testing.T) {
	for _, h := range []Header{
		{MsgID: newID(), Session: newID(), Username: "goinv", Date: "2026-11-29T12:00:00.000000Z", MsgType: "execute_reply", Version: ProtocolVersion},
		{MsgID: "a\"b\\c", Session: "é\n\t", Username: "<&>", Date: "", MsgType: "\u2028", Version: "\x01"},
	} {
		want, _ := json.Marshal(h)
		if got := appendHeader(nil, &h); string(got) != string(want) {
			t.Errorf("appendHeader:\n got %s\nwant %s", got, want)
		}
	}
}

// TestAppendWire checks the direct wire encoding against Encode's frames, framed.
func TestAppendWire(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	for _, key := range []string{"k", ""} {
		s := NewSigner(key)
		m := testMessage()
		m.Identities = [][]byte{[]byte("id1"), []byte("id2")}
		m.Metadata = map[string]any{"a": 1.0}
		m.Buffers = [][]byte{long, nil}
		frames, err := Encode(m, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendWire([]byte("prefix"), m, s)
		if err != nil {
			t.Fatal(err)
		}
		if want := append([]byte("prefix"), encodeZMTP(frames)...); !bytes.Equal(got, want) {
			t.Errorf("key %q: appendWire\n%q\nwant\n%q", key, got, want)
		}
	}
}
