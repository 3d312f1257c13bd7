package safetensors

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	f := &File{Metadata: map[string]string{"arch": `{"name":"x"}`, "note": "ü"}}
	f.Add(F32("b.weight", []int{2, 3}, []float32{1, -2, 3.5, 0, 1e-30, -7}))
	f.Add(F32("a", []int{}, []float32{42}))
	f.Add(I64("steps", []int{1}, []int64{-5}))
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	hl := int(buf.Bytes()[0])
	if hl%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", hl)
	}
	g, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Metadata, f.Metadata) {
		t.Errorf("metadata %v, want %v", g.Metadata, f.Metadata)
	}
	w, shape, err := g.Float32Of("b.weight")
	if err != nil || !reflect.DeepEqual(w, []float32{1, -2, 3.5, 0, 1e-30, -7}) || !reflect.DeepEqual(shape, []int{2, 3}) {
		t.Errorf("b.weight = %v %v %v", w, shape, err)
	}
	s, _ := g.Get("steps")
	if v, err := s.Int64(); err != nil || v[0] != -5 {
		t.Errorf("steps = %v %v", v, err)
	}
	if _, _, err := g.Float32Of("missing"); err == nil {
		t.Error("missing tensor: no error")
	}
}

func TestDecodeRejectsBadFiles(t *testing.T) {
	f := &File{}
	f.Add(F32("w", []int{2}, []float32{1, 2}))
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := Decode(bytes.NewReader(good[:len(good)-1])); err == nil {
		t.Error("truncated data accepted")
	}
	if _, err := Decode(bytes.NewReader(append(append([]byte(nil), good...), 0))); err == nil {
		t.Error("trailing data accepted")
	}
	bad := append([]byte(nil), good...)
	copy(bad[8:], []byte(`{"w":{"dtype":"F99"`))
	if _, err := Decode(bytes.NewReader(bad)); err == nil {
		t.Error("corrupt header accepted")
	}
	if err := Encode(&buf, &File{Tensors: []Tensor{{Name: "x", DType: "F32", Shape: []int{3}, Data: make([]byte, 8)}}}); err == nil {
		t.Error("size mismatch accepted")
	}
}

// TestDecodeSaysWhatIsWrong: a broken file read as "read header length: EOF", "header
// of 8031924123371070824 bytes is too large" (a text file) or "tensor has byte range
// outside the data" (a cut file), which said nothing of the file as a whole.
func TestDecodeSaysWhatIsWrong(t *testing.T) {
	f := &File{}
	f.Add(F32("a", []int{2}, []float32{1, 2}))
	f.Add(F32("b", []int{3}, []float32{1, 2, 3}))
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "the file is empty; save it again"},
		{"length", good[:5], "truncated: the file ends after 5 bytes, inside the 8-byte header length"},
		{"header", good[:12], "truncated: the file ends 4 bytes into its"},
		{"data", good[:len(good)-6], "truncated: the header describes 20 bytes of tensor data, the file holds 14"},
		{"text", []byte("hello world, this is text"), `not a safetensors file: it starts with "hello wo", which is text`},
		{"binary", []byte{0x89, 'P', 'N', 'G', 0xff, 0xff, 0xff, 0xff, 0}, "not a safetensors file, or a damaged one"},
		{"json", append([]byte{4, 0, 0, 0, 0, 0, 0, 0}, "[1]x"...), "the header is not a JSON object"},
	} {
		if _, err := Decode(bytes.NewReader(c.file)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// pythonReader follows the published format spec with numpy only (the python
// safetensors package is not installed on this machine) and prints every tensor.
const pythonReader = `
import json, struct, sys
import numpy as np
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8+n])
body = data[8+n:]
meta = header.pop("__metadata__", {})
print("meta", json.dumps(meta, sort_keys=True))
dt = {"F32": "<f4", "I64": "<i8"}
for name in sorted(header):
    e = header[name]
    lo, hi = e["data_offsets"]
    a = np.frombuffer(body[lo:hi], dtype=dt[e["dtype"]]).reshape(e["shape"])
    print(name, e["dtype"], list(a.shape), " ".join(repr(float(v)) for v in a.ravel()))
`

func TestPythonReadsFile(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("no numpy")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "t.safetensors")
	f := &File{Metadata: map[string]string{"classes": `["0","1"]`}}
	f.Add(F32("conv.weight", []int{2, 1, 1, 2}, []float32{0.5, -1.25, 3, 4}))
	f.Add(I64("n", []int{2}, []int64{7, -1}))
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "read.py")
	os.WriteFile(script, []byte(pythonReader), 0o644)
	out, err := exec.Command(py, script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python reader: %v\n%s", err, out)
	}
	want := `meta {"classes": "[\"0\",\"1\"]"}
conv.weight F32 [2, 1, 1, 2] 0.5 -1.25 3.0 4.0
n I64 [2] 7.0 -1.0
`
	if got := string(out); strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("python read:\n%s\nwant:\n%s", got, want)
	}
}
