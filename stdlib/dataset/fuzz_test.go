package dataset

import (
	"bytes"
	"testing"
)

// The fuzz targets feed arbitrary bytes to each reader: any input must give a dataset
// or an error, never a panic or an unbounded allocation. Run one with e.g.
//
//	go test -run XXX -fuzz FuzzIDX -fuzztime 15s ./stdlib/dataset/

func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(IDXUint8, []int{2, 2, 2}, []float64{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(gz(idxBytes(IDXUint8, []int{2}, []float64{1, 2})))
	f.Add(idxBytes(IDXFloat64, []int{1, 2, 2, 3}, make([]float64, 12)))
	f.Add(idxBytes(IDXInt16, []int{3}, []float64{-1, 0, 7}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeIDX(bytes.NewReader(b), "fuzz", int64(len(b)))
		if err != nil {
			return
		}
		_ = a.Pixels()
		_, _ = a.Ints()
		if _, _, _, _, _, err := imagesFromIDX(a, "fuzz"); err == nil {
			_, _ = labelsFromIDX(a, "fuzz")
		}
		// The same bytes through the gzip path.
		_, _ = DecodeIDX(bytes.NewReader(gz(b)), "fuzz.gz", -1)
	})
}

func FuzzIDXPair(f *testing.F) {
	f.Add(idxBytes(IDXUint8, []int{2, 1, 1}, []float64{1, 2}), idxBytes(IDXUint8, []int{2}, []float64{0, 1}))
	f.Fuzz(func(t *testing.T, imgs, labels []byte) {
		d, err := decodeIDXPair(bytes.NewReader(imgs), "imgs", bytes.NewReader(labels), "labels")
		if err == nil {
			if err := d.Validate(); err != nil {
				t.Fatalf("decoded dataset is invalid: %v", err)
			}
		}
	})
}

func FuzzNPY(f *testing.F) {
	f.Add(npyBytes("|u1", []int{2, 2, 2}, make([]byte, 8)))
	f.Add(npyBytes("<i8", []int{2}, make([]byte, 16)))
	f.Add(npyBytes("<f4", []int{1, 1, 2}, make([]byte, 8)))
	f.Add(npyBytes(">i4", []int{1}, make([]byte, 4)))
	f.Add(npyBytes("|b1", []int{3}, []byte{0, 1, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeNPY(bytes.NewReader(b), "fuzz", int64(len(b)))
		if err != nil {
			return
		}
		if _, _, _, _, _, err := a.images("fuzz"); err != nil {
			_, _ = a.ints("fuzz")
		}
	})
}

func FuzzNPZ(f *testing.F) {
	f.Add(npzBytes(f, map[string][]byte{"arr_0": npyBytes("|u1", []int{1, 2, 2}, make([]byte, 4))}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeNPZ(bytes.NewReader(b), int64(len(b)), "fuzz", "")
		if err == nil {
			_ = a.pixels()
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	// The first byte picks the record layout (label bytes, label index); the rest is
	// the file, with 2×2 images so that mutations reach whole records.
	f.Add([]byte{0x10, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{0x21, 3, 50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{0x10, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		lb, li := int(b[0]>>4)%4, int(b[0]&15)%4
		d, err := decodeCIFAR(bytes.NewReader(b[1:]), "fuzz", lb, li, 100, 2)
		if err == nil {
			if err := d.Validate(); err != nil {
				t.Fatalf("decoded dataset is invalid: %v", err)
			}
		}
	})
}
