// Package safetensors reads and writes the safetensors checkpoint format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header mapping each tensor name to its dtype, shape and byte range, an optional
// "__metadata__" object of string pairs, then the raw little-endian tensor bytes. Files
// written here open with Python's safetensors (safetensors.numpy.load_file, torch's
// load_file) and with any reader that follows the format.
//
// The toolkit stores model checkpoints this way (package nn: tensors plus architecture,
// classes and training configuration in the metadata), as does the MUNIT generator.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// Tensor is one named tensor. Data holds the raw little-endian bytes.
type Tensor struct {
	Name  string
	DType string // "F32", "F64", "I64", "I32", "U8", ...
	Shape []int
	Data  []byte
}

// File is the content of a safetensors file.
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// dtypeSize gives the byte size of the dtypes this package knows.
var dtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}

// F32 returns a float32 tensor with the given shape; len(data) must equal the product
// of shape.
func F32(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: "F32", Shape: append([]int(nil), shape...), Data: b}
}

// I64 returns an int64 tensor with the given shape.
func I64(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: "I64", Shape: append([]int(nil), shape...), Data: b}
}

// Float32 decodes an F32 tensor's values.
func (t Tensor) Float32() ([]float32, error) {
	if t.DType != "F32" {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not F32", t.Name, t.DType)
	}
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int64 decodes an I64 tensor's values.
func (t Tensor) Int64() ([]int64, error) {
	if t.DType != "I64" {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not I64", t.Name, t.DType)
	}
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// NumElements returns the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// Get returns the tensor with the given name.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Add appends a tensor.
func (f *File) Add(t Tensor) { f.Tensors = append(f.Tensors, t) }

type entry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// Encode writes f in the safetensors format. Tensors are stored in name order, as the
// Python library does; the header is padded with spaces to a multiple of 8 bytes.
func Encode(w io.Writer, f *File) error {
	ts := append([]Tensor(nil), f.Tensors...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	off := 0
	for i, t := range ts {
		if err := t.check(); err != nil {
			return err
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = entry{DType: t.DType, Shape: shape, Offsets: [2]int{off, off + len(t.Data)}}
		off += len(t.Data)
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: encode header: %w", err)
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hb)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

func (t Tensor) check() error {
	if t.Name == "" || t.Name == "__metadata__" {
		return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
	}
	size, ok := dtypeSize[t.DType]
	if !ok {
		return fmt.Errorf("safetensors: tensor %q has unknown dtype %q", t.Name, t.DType)
	}
	for _, s := range t.Shape {
		if s < 0 {
			return fmt.Errorf("safetensors: tensor %q has negative dimension in %v", t.Name, t.Shape)
		}
	}
	if want := t.NumElements() * size; len(t.Data) != want {
		return fmt.Errorf("safetensors: tensor %q of shape %v and dtype %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, want, len(t.Data))
	}
	return nil
}

// damaged is the advice for a file that is not what its header says.
const damaged = "save it again, or fetch a complete copy (an interrupted save, download or copy?)"

// isText reports whether b looks like the start of a text file.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

// maxHeader bounds the JSON header, as the reference implementation does (100 MB).
const maxHeader = 100 << 20

// Decode reads a safetensors file, validating the header: known dtypes, byte ranges
// that match the shapes and cover the data exactly, without overlaps.
func Decode(r io.Reader) (*File, error) {
	var n [8]byte
	if got, err := io.ReadFull(r, n[:]); err != nil {
		if got == 0 && err == io.EOF {
			return nil, fmt.Errorf("safetensors: the file is empty; %s", damaged)
		}
		return nil, fmt.Errorf("safetensors: truncated: the file ends after %d bytes, inside the 8-byte header length; %s", got, damaged)
	}
	hl := binary.LittleEndian.Uint64(n[:])
	if hl > maxHeader {
		if isText(n[:]) {
			return nil, fmt.Errorf("safetensors: not a safetensors file: it starts with %q, which is text (a safetensors file starts with the length of its JSON header)", n[:])
		}
		return nil, fmt.Errorf("safetensors: not a safetensors file, or a damaged one: its first 8 bytes give a header of %d bytes (at most %d); %s", hl, maxHeader, damaged)
	}
	hb := make([]byte, hl)
	if got, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("safetensors: truncated: the file ends %d bytes into its %d-byte JSON header; %s", got, hl, damaged)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hb))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("safetensors: the header is not a JSON object (%v): not a safetensors file, or a damaged one; %s", err, damaged)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("safetensors: read data: %w", err)
	}
	// A file cut short shows as tensors beyond the data: say so once, for the file.
	need := 0
	for name, msg := range raw {
		var e entry
		if name != "__metadata__" && json.Unmarshal(msg, &e) == nil && e.Offsets[1] > need {
			need = e.Offsets[1]
		}
	}
	if need > len(body) {
		return nil, fmt.Errorf("safetensors: truncated: the header describes %d bytes of tensor data, the file holds %d; %s", need, len(body), damaged)
	}
	f := &File{}
	type span struct {
		name   string
		lo, hi int
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: metadata must map strings to strings: %w", err)
			}
			continue
		}
		var e entry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > len(body) {
			return nil, fmt.Errorf("safetensors: tensor %q has byte range [%d, %d) outside %d data bytes", name, lo, hi, len(body))
		}
		t := Tensor{Name: name, DType: e.DType, Shape: e.Shape, Data: body[lo:hi:hi]}
		if err := t.check(); err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
		spans = append(spans, span{name, lo, hi})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	end := 0
	for _, s := range spans {
		if s.lo != end {
			return nil, fmt.Errorf("safetensors: tensor %q starts at byte %d, expected %d (gap or overlap)", s.name, s.lo, end)
		}
		end = s.hi
	}
	if end != len(body) {
		return nil, fmt.Errorf("safetensors: tensors cover %d of %d data bytes", end, len(body))
	}
	sort.Slice(f.Tensors, func(i, j int) bool { return f.Tensors[i].Name < f.Tensors[j].Name })
	return f, nil
}

// WriteFile writes f to path (through a temporary file, renamed into place).
func WriteFile(path string, f *File) error {
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	err = Encode(out, f)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return nil
}

// ReadFile reads the safetensors file at path.
func ReadFile(path string) (*File, error) {
	in, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer in.Close()
	f, err := Decode(in)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

// ErrNotFound is returned by Float32Of when a tensor is missing.
var ErrNotFound = errors.New("safetensors: tensor not found")

// Float32Of returns the values and shape of the named F32 tensor.
func (f *File) Float32Of(name string) ([]float32, []int, error) {
	t, ok := f.Get(name)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	d, err := t.Float32()
	return d, t.Shape, err
}
