package executor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/goinv/goinv/kernel/ipc"
)

var requestDocs = []string{
	`{"id":7,"kind":"execute","code":"1 + 1","store_history":true,"allow_stdin":true,"execution_count":12}`,
	`{"id":1,"kind":"execute","code":"fmt.Println(\"é\\u00e9\\n\")\n","silent":false,"user_expressions":{"a":"x + 1"}}`,
	`{"id":2,"kind":"complete","code":"fmt.Pr","cursor":6}`,
	`{"id":3,"kind":"inspect","code":"x","cursor":1,"detail_level":1}`,
	`{"id":0,"kind":"input_reply","value":"line"}`,
	`{"id":0,"kind":"ack","seq":18446744073709551615}`,
	`{"id":4,"kind":"interrupt"}`,
	` { "id" : 5 , "kind" : "execute" , "code" : null , "cursor" : null } `,
	`{"ID":6,"Kind":"execute","Code":"1"}`,          // keys in other case
	`{"id":7,"kind":"execute","extra":[1,{"a":2}]}`, // unknown member
	`{"id":8,"kind":"execute","cursor":1.5}`,        // not an int
	`{"id":-1,"kind":"execute"}`,                    // not a uint
	`{"id":9,"kind":"execute","silent":"yes"}`,      // not a bool
	`{"id":10,"kind":"execute","cursor":99999999999999999999}`,
	`{"id":11,"kind":"execute","user_expressions":[]}`,
	`{"id":12,"kind":"execute","code":"a","code":"b"}`, // the last wins
	`{"id":13,"kind":"execute",}`,                      // invalid
	`[1,2]`,
	`{}`,
}

// decodeRequest decodes every request as encoding/json does, and fails where it fails.
func TestDecodeRequest(t *testing.T) {
	for _, doc := range requestDocs {
		var want, got ipc.Request
		werr := json.Unmarshal([]byte(doc), &want)
		gerr := decodeRequest([]byte(doc), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: error %v, encoding/json %v", doc, gerr, werr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", doc, got, want)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, doc := range requestDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got ipc.Request
		werr := json.Unmarshal(b, &want)
		gerr := decodeRequest(b, &got)
		if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %+v, %v; encoding/json %+v, %v", b, got, gerr, want, werr)
		}
	})
}

// readRequest reads frames that fit its reader's buffer and frames that do not,
// one after the other, and reports a truncated frame and the end.
func TestReadRequest(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	var in []byte
	for _, q := range []ipc.Request{{ID: 1, Kind: "execute", Code: "1 + 1"}, {ID: 2, Kind: "execute", Code: big}, {ID: 3, Kind: "interrupt"}} {
		in, _ = ipc.AppendFrame(in, q)
	}
	r := bufio.NewReaderSize(bytes.NewReader(in), 4096)
	for _, want := range []ipc.Request{{ID: 1, Kind: "execute", Code: "1 + 1"}, {ID: 2, Kind: "execute", Code: big}, {ID: 3, Kind: "interrupt"}} {
		var q ipc.Request
		if err := readRequest(r, &q); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(q, want) {
			t.Fatalf("read %d %q (%d bytes of code), want %d", q.ID, q.Kind, len(q.Code), want.ID)
		}
	}
	var q ipc.Request
	if err := readRequest(r, &q); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
	// The strings are the request's own, not views of the reader's buffer,
	// which reading the next requests overwrites.
	var small []byte
	for i := 0; i < 10; i++ {
		small, _ = ipc.AppendFrame(small, ipc.Request{ID: uint64(i), Kind: "execute", Code: strings.Repeat(string(rune('a'+i)), 20)})
	}
	r = bufio.NewReaderSize(bytes.NewReader(small), 256)
	var first ipc.Request
	if err := readRequest(r, &first); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 10; i++ {
		var q ipc.Request
		if err := readRequest(r, &q); err != nil || q.Code[0] != byte('a'+i) {
			t.Fatalf("request %d: %q %v", i, q.Code, err)
		}
	}
	if first.Kind != "execute" || first.Code != strings.Repeat("a", 20) {
		t.Fatalf("after the next requests, the first reads %q %q", first.Kind, first.Code)
	}
	r = bufio.NewReader(bytes.NewReader(in[:10]))
	if err := readRequest(r, &q); err == nil || err == io.EOF {
		t.Fatalf("truncated frame: %v", err)
	}
}
