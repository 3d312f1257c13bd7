package executor

import (
	"encoding/binary"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/goinv/goinv/kernel/ipc"
)

// appendEvent appends e to buf as one frame, as ipc.AppendFrame does, byte for
// byte. Events whose values are all strings, integers, booleans, nil, and maps
// and slices of them, the events of nearly every cell, are encoded here, without
// encoding/json's reflection and its allocations (two thirds of the cost of
// sending a cell's result and reply); any other value goes to ipc.AppendFrame.
func appendEvent(buf []byte, e ipc.Event) ([]byte, error) {
	start := len(buf)
	out, ok := appendEventJSON(append(buf, 0, 0, 0, 0), &e)
	if !ok {
		return ipc.AppendFrame(buf[:start], e)
	}
	binary.BigEndian.PutUint32(out[start:], uint32(len(out)-start-4))
	return out, nil
}

// appendEventJSON appends e as JSON in the field order and with the omitempty
// rules of ipc.Event's tags; ok is false if some value needs encoding/json.
func appendEventJSON(b []byte, e *ipc.Event) (_ []byte, ok bool) {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, e.ID, 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, e.Kind)
	if len(e.Data) > 0 {
		b = append(b, `,"data":`...)
		if b, ok = appendJSONValue(b, e.Data, 0); !ok {
			return b, false
		}
	}
	if len(e.Metadata) > 0 {
		b = append(b, `,"metadata":`...)
		if b, ok = appendJSONValue(b, e.Metadata, 0); !ok {
			return b, false
		}
	}
	if e.DisplayID != "" {
		b = append(b, `,"display_id":`...)
		b = appendJSONString(b, e.DisplayID)
	}
	if e.Update {
		b = append(b, `,"update":true`...)
	}
	if e.Wait {
		b = append(b, `,"wait":true`...)
	}
	if e.Prompt != "" {
		b = append(b, `,"prompt":`...)
		b = appendJSONString(b, e.Prompt)
	}
	if e.Password {
		b = append(b, `,"password":true`...)
	}
	if e.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
	}
	if len(e.Content) > 0 {
		b = append(b, `,"content":`...)
		if b, ok = appendJSONValue(b, e.Content, 0); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendJSONValue appends v as encoding/json would; ok is false for a value of
// another type than it handles, or nested too deeply.
func appendJSONValue(b []byte, v any, depth int) (_ []byte, ok bool) {
	if depth > 32 {
		return b, false
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendJSONString(b, v), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case []string:
		if v == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), true
	case []any:
		if v == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendJSONValue(b, x, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		if v == nil {
			return append(b, "null"...), true
		}
		var small [8]string
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			if b, ok = appendJSONValue(b, v[k], depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does with HTML escaping
// off: invalid UTF-8 becomes U+FFFD, and U+2028 and U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
