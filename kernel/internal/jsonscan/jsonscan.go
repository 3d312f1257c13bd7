// Package jsonscan reads the top level of JSON objects without decoding them.
//
// The kernel handles a few small JSON documents per message: a header to read, a
// parent header and a content to check and forward, an executor event whose data
// goes out unchanged. encoding/json validates with a state machine that calls a
// function per byte and decodes through reflection: ≈ 12 µs for an execute_request
// on this project's machine, on the path of every round trip. The scanner here
// validates in a plain loop and hands out each member's value as the raw bytes it
// is, so a caller decodes only the few scalars it reads.
//
// Validity is RFC 8259's, as encoding/json.Valid judges it (invalid UTF-8 inside
// strings is accepted, as there); FuzzValid checks the two agree.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// ErrSyntax is returned for input that is not valid JSON.
var ErrSyntax = errors.New("jsonscan: invalid JSON")

// ErrNotObject is returned by Object for valid JSON that is not an object.
var ErrNotObject = errors.New("jsonscan: not a JSON object")

// Valid reports whether b is one valid JSON value, with optional whitespace around it.
func Valid(b []byte) bool {
	i := skipSpace(b, 0)
	i, ok := skipValue(b, i)
	return ok && skipSpace(b, i) == len(b)
}

// IsObject reports whether b is one valid JSON object, with optional whitespace
// around it.
func IsObject(b []byte) bool {
	i := skipSpace(b, 0)
	return i < len(b) && b[i] == '{' && Valid(b)
}

// Object calls fn for each member of the JSON object b, in order: key is the raw
// key token, quotes included (see Key), and value the member's value as raw JSON.
// b must be exactly one valid object, with optional whitespace around it; Object
// checks all of it before the first call, so fn never sees part of a broken
// document. The first error fn returns stops the scan and is returned.
func Object(b []byte, fn func(key, value []byte) error) error {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		if Valid(b) {
			return ErrNotObject
		}
		return ErrSyntax
	}
	if end, ok := skipValue(b, i); !ok || skipSpace(b, end) != len(b) {
		return ErrSyntax
	}
	// Valid: the members can be walked without checks.
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return nil
	}
	for {
		k0 := i
		i, _ = skipString(b, i)
		key := b[k0:i]
		i = skipSpace(b, i)
		i = skipSpace(b, i+1) // ':'
		v0 := i
		i, _ = skipValue(b, i)
		if err := fn(key, b[v0:i]); err != nil {
			return err
		}
		i = skipSpace(b, i)
		if b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // ','
	}
}

// Key returns the text of a raw key (or string) token as Object passes it. Tokens
// without escapes, all of a Jupyter message's keys, are not copied: the string
// aliases raw, for comparing (`switch jsonscan.Key(k)` does not allocate), not for
// keeping.
func Key(raw []byte) string {
	if body, ok := plain(raw); ok {
		return unsafeString(body)
	}
	s, _ := String(raw)
	return s
}

// String decodes a raw JSON string token into a new string; ok is false if raw is
// not a string. As with encoding/json, invalid UTF-8 becomes U+FFFD.
func String(raw []byte) (s string, ok bool) {
	if body, ok := plain(raw); ok {
		return string(body), true
	}
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// plain returns the bytes of a string token that needs no decoding: no escapes,
// valid UTF-8.
func plain(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c >= utf8.RuneSelf {
			if bytes.IndexByte(body, '\\') >= 0 || !utf8.Valid(body) {
				return nil, false
			}
			break
		}
	}
	return body, true
}

// Bool decodes a raw JSON true or false.
func Bool(raw []byte) (v, ok bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Int decodes a raw JSON number that is an integer in int64's range.
func Int(raw []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// Uint decodes a raw JSON number that is an integer in uint64's range.
func Uint(raw []byte) (uint64, bool) {
	n, err := strconv.ParseUint(string(raw), 10, 64)
	return n, err == nil
}

// IsNull reports whether raw is the JSON null.
func IsNull(raw []byte) bool { return string(raw) == "null" }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{':
		return skipComposite(b, i, '}', true)
	case c == '[':
		return skipComposite(b, i, ']', false)
	case c == '"':
		return skipString(b, i)
	case c == '-' || '0' <= c && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, false
}

// skipComposite skips an object (members) or an array, b[i] being its opening
// bracket. Nesting recurses: the documents scanned are a few levels deep, and a
// hostile depth is bounded by maxDepth.
func skipComposite(b []byte, i int, closing byte, members bool) (int, bool) {
	return skipCompositeDepth(b, i, closing, members, 0)
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

func skipCompositeDepth(b []byte, i int, closing byte, members bool, depth int) (int, bool) {
	if depth >= maxDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closing {
		return i + 1, true
	}
	for {
		var ok bool
		if members {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			if i, ok = skipString(b, i); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
		if i < len(b) && (b[i] == '{' || b[i] == '[') {
			cl, mem := byte(']'), false
			if b[i] == '{' {
				cl, mem = '}', true
			}
			i, ok = skipCompositeDepth(b, i, cl, mem, depth+1)
		} else {
			i, ok = skipValue(b, i)
		}
		if !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closing:
			return i + 1, true
		default:
			return i, false
		}
	}
}

func skipString(b []byte, i int) (int, bool) {
	i++ // '"'
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, false
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return i, false
					}
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		default:
			i++
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func skipNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

func skipLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// unsafeString views b as a string without copying; b must not change while the
// string is in use.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Decode decodes the JSON object b into a T as json.Unmarshal does, reading the
// usual messages directly: field is called with each member's key (for comparing:
// it may alias b, see Key) and raw value, and sets the member in d, or returns
// false for anything it does not decode exactly as encoding/json would (a key it
// does not know, a value of another type). Then, and for input that is not one
// valid object, b goes to json.Unmarshal into a zero T, whose result and error
// are returned.
func Decode[T any](b []byte, field func(d *T, key string, value []byte) bool) (T, error) {
	var d T
	err := Object(b, func(k, v []byte) error {
		if !field(&d, Key(k), v) {
			return errSlowPath
		}
		return nil
	})
	if err != nil {
		var z T
		err = json.Unmarshal(b, &z)
		return z, err
	}
	return d, nil
}

// errSlowPath stops Object for Decode: the input goes to encoding/json.
var errSlowPath = errors.New("jsonscan: not a plain message")
