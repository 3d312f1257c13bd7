package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/goinv/goinv/kernel/internal/jsonscan"
)

// ProtocolVersion is the messaging protocol version in every header.
const ProtocolVersion = "5.3"

const delimiter = "<IDS|MSG>"

// Header is a message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message.
type Message struct {
	Identities [][]byte
	Header     Header
	// Parent is the parent header, kept as the raw JSON object it arrived as.
	Parent   json.RawMessage
	Metadata map[string]any
	// Content is the raw JSON content; handlers decode it into their request type.
	Content json.RawMessage
	Buffers [][]byte

	headerRaw json.RawMessage // the header exactly as received, echoed as parent
	recvAt    time.Time       // when the kernel received it (zero: not received)
}

// Signer signs and verifies messages with HMAC-SHA256. A nil key means unsigned.
type Signer struct {
	key  []byte
	pool sync.Pool
}

// NewSigner returns a signer for key; an empty key disables signing.
func NewSigner(key string) *Signer {
	s := &Signer{key: []byte(key)}
	s.pool.New = func() any { return hmac.New(sha256.New, s.key) }
	return s
}

// Sign returns the hex signature of the four JSON frames.
func (s *Signer) Sign(parts ...[]byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	return s.appendSign(nil, parts...)
}

// appendSign appends the hex signature of parts to dst.
func (s *Signer) appendSign(dst []byte, parts ...[]byte) []byte {
	h := s.pool.Get().(hash.Hash)
	defer s.pool.Put(h)
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	var sum [sha256.Size]byte
	return hex.AppendEncode(dst, h.Sum(sum[:0]))
}

// ErrSignature is returned by Decode for a missing or wrong signature.
var ErrSignature = errors.New("invalid message signature")

// Decode parses the frames of a message received on a ROUTER socket (identities
// first) and verifies its signature in constant time.
func Decode(frames [][]byte, s *Signer) (*Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], []byte(delimiter)) {
		i++
	}
	if i == len(frames) {
		return nil, errors.New("no <IDS|MSG> delimiter")
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%d frames after the delimiter, want at least 5", len(rest))
	}
	if len(s.key) > 0 {
		want := s.Sign(rest[1], rest[2], rest[3], rest[4])
		if !hmac.Equal(want, rest[0]) {
			return nil, ErrSignature
		}
	}
	m := &Message{Identities: frames[:i], Buffers: rest[5:]}
	if err := decodeHeader(rest[1], &m.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if m.Header.MsgType == "" {
		return nil, errors.New("header without msg_type")
	}
	if !jsonscan.IsObject(rest[2]) {
		return nil, errors.New("parent_header is not a JSON object")
	}
	if !jsonscan.IsObject(rest[4]) {
		return nil, errors.New("content is not a JSON object")
	}
	if err := decodeMetadata(rest[3], &m.Metadata); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	// One copy for the three frames kept: they alias a read buffer that is reused.
	kept := make([]byte, 0, len(rest[1])+len(rest[2])+len(rest[4]))
	kept = append(kept, rest[1]...)
	kept = append(kept, rest[2]...)
	kept = append(kept, rest[4]...)
	h, p := len(rest[1]), len(rest[1])+len(rest[2])
	m.headerRaw, m.Parent, m.Content = kept[:h:h], kept[h:p:p], kept[p:]
	return m, nil
}

// decodeHeader reads a header's fields. It is what json.Unmarshal into a Header
// does (unknown keys ignored, null leaves a field empty, any other non-string is
// an error), without reflection: every request's round trip waits for it.
func decodeHeader(b []byte, h *Header) error {
	return jsonscan.Object(b, func(k, v []byte) error {
		var f *string
		switch jsonscan.Key(k) {
		case "msg_id":
			f = &h.MsgID
		case "session":
			f = &h.Session
		case "username":
			f = &h.Username
		case "date":
			f = &h.Date
		case "msg_type":
			f = &h.MsgType
		case "version":
			f = &h.Version
		default:
			return nil
		}
		if jsonscan.IsNull(v) {
			return nil
		}
		s, ok := jsonscan.String(v)
		if !ok {
			return fmt.Errorf("%s is %s, not a string", k, v)
		}
		*f = s
		return nil
	})
}

// decodeMetadata decodes a metadata frame; the common empty object costs nothing.
func decodeMetadata(b []byte, md *map[string]any) error {
	if string(b) == "{}" {
		*md = nil
		return nil
	}
	return json.Unmarshal(b, md)
}

// Encode returns the frames of m, signed.
func Encode(m *Message, s *Signer) ([][]byte, error) {
	var err error
	h := appendHeader(make([]byte, 0, 256), &m.Header)
	p := []byte(m.Parent)
	if len(p) == 0 {
		p = []byte("{}")
	}
	md := []byte("{}")
	if len(m.Metadata) > 0 {
		if md, err = json.Marshal(m.Metadata); err != nil {
			return nil, err
		}
	}
	c := []byte(m.Content)
	if len(c) == 0 {
		c = []byte("{}")
	}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, []byte(delimiter), s.Sign(h, p, md, c), h, p, md, c)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

// scratch holds the header JSON while a message is encoded.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendWire appends m, signed, in ZMTP wire form to b: one frame per identity, the
// delimiter, the signature, header, parent header, metadata, content and buffers
// (what Encode returns, framed). A sender writes it as it is, without building the
// frames first.
func appendWire(b []byte, m *Message, s *Signer) ([]byte, error) {
	hp := scratch.Get().(*[]byte)
	defer scratch.Put(hp)
	h := appendHeader((*hp)[:0], &m.Header)
	*hp = h[:0]
	p := []byte(m.Parent)
	if len(p) == 0 {
		p = []byte("{}")
	}
	md := []byte("{}")
	if len(m.Metadata) > 0 {
		var err error
		if md, err = json.Marshal(m.Metadata); err != nil {
			return b, err
		}
	}
	c := []byte(m.Content)
	if len(c) == 0 {
		c = []byte("{}")
	}
	var sigBuf [2 * sha256.Size]byte
	sig := sigBuf[:0]
	if len(s.key) > 0 {
		sig = s.appendSign(sig, h, p, md, c)
	}
	n := len(m.Identities) + 6 + len(m.Buffers)
	i := 0
	add := func(f []byte) {
		i++
		b = appendZMTPFrame(b, f, i < n)
	}
	for _, id := range m.Identities {
		add(id)
	}
	add([]byte(delimiter))
	add(sig)
	add(h)
	add(p)
	add(md)
	add(c)
	for _, buf := range m.Buffers {
		add(buf)
	}
	return b, nil
}

// appendZMTPFrame appends one ZMTP 3 frame: a flags byte (MORE if more follows;
// LONG for bodies over 255 bytes), the size in 1 or 8 bytes, the body.
func appendZMTPFrame(b, f []byte, more bool) []byte {
	var flags byte
	if more {
		flags |= flagMore
	}
	if len(f) > 255 {
		b = append(b, flags|flagLong)
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
	} else {
		b = append(b, flags, byte(len(f)))
	}
	return append(b, f...)
}

// appendHeader appends h as JSON, as json.Marshal writes it (same keys, same
// order) but without reflection: a kernel encodes a header for every message it
// sends.
func appendHeader(b []byte, h *Header) []byte {
	b = append(b, `{"msg_id":`...)
	b = appendJSONString(b, h.MsgID)
	b = append(b, `,"session":`...)
	b = appendJSONString(b, h.Session)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, h.Username)
	b = append(b, `,"date":`...)
	b = appendJSONString(b, h.Date)
	b = append(b, `,"msg_type":`...)
	b = appendJSONString(b, h.MsgType)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, h.Version)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Plain ASCII (every header field the
// kernel writes) is copied as is; anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// newID returns a random UUID-4 string.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// The contents of status messages, encoded once.
var (
	statusBusy     = json.RawMessage(`{"execution_state":"busy"}`)
	statusIdle     = json.RawMessage(`{"execution_state":"idle"}`)
	statusStarting = json.RawMessage(`{"execution_state":"starting"}`)
)

// newMessage makes a message of type msgType in reply to parent (nil for none).
func newMessage(session, msgType string, parent *Message, content any) *Message {
	m := &Message{Header: Header{
		MsgID: newID(), Session: session, Username: "goinv", MsgType: msgType, Version: ProtocolVersion,
		Date: time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
	}}
	if parent != nil {
		m.Parent = parent.headerRaw
		if len(m.Parent) == 0 {
			m.Parent, _ = json.Marshal(parent.Header)
		}
		m.Identities = parent.Identities
	}
	var b []byte
	var err error
	if raw, ok := content.(json.RawMessage); ok {
		b = raw // already JSON (the status contents below)
	} else {
		b, err = json.Marshal(content)
	}
	if err != nil {
		b, _ = json.Marshal(map[string]any{"status": "error", "ename": "EncodeError", "evalue": err.Error(), "traceback": []string{}})
	}
	m.Content = b
	return m
}
