package dataset

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR10Classes are the class names of CIFAR-10 (as in batches.meta.txt).
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

const cifarPixels = 3 * 32 * 32

// DecodeCIFAR reads CIFAR binary records from r: each record is labelBytes label
// bytes followed by 3×32×32 pixels (red, green, blue planes). The label used is byte
// labelIndex of the record (CIFAR-10: 1 label byte, index 0; CIFAR-100: 2 bytes,
// coarse at 0 and fine at 1). Labels must be below classes. name appears in errors.
func DecodeCIFAR(r io.Reader, name string, labelBytes, labelIndex, classes int) (*Dataset, error) {
	return decodeCIFAR(r, name, labelBytes, labelIndex, classes, 32)
}

// decodeCIFAR reads records of side×side RGB images; the fuzz test uses tiny sides so
// that the fuzzer reaches whole records.
func decodeCIFAR(r io.Reader, name string, labelBytes, labelIndex, classes, side int) (*Dataset, error) {
	cifarPixels := 3 * side * side
	if err := checkCIFARArgs(name, labelBytes, labelIndex, classes); err != nil {
		return nil, err
	}
	rec := labelBytes + cifarPixels
	d := &Dataset{Name: name, C: 3, H: side, W: side, Classes: numberedClasses(classes)}
	br := bufio.NewReaderSize(r, 1<<16)
	buf := make([]byte, rec)
	for i := 0; ; i++ {
		n, err := io.ReadFull(br, buf)
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("dataset: %s: truncated: record %d has %d of its %d bytes (%d label bytes + 3×%d×%d pixels)", name, i, n, rec, labelBytes, side, side)
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", name, err)
		}
		y := int(buf[labelIndex])
		if y >= classes {
			return nil, fmt.Errorf("dataset: %s: record %d has label %d, want < %d: not a CIFAR file with %d label bytes?", name, i, y, classes, labelBytes)
		}
		d.Labels = append(d.Labels, y)
		d.Pix = append(d.Pix, buf[labelBytes:]...)
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("dataset: %s: empty: want %d-byte CIFAR records", name, rec)
	}
	return d, nil
}

// ReadCIFAR reads a CIFAR binary batch file (see DecodeCIFAR).
func ReadCIFAR(path string, labelBytes, labelIndex, classes int) (*Dataset, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The arguments are checked before the size, which is a multiple of the record
	// size only for valid ones: labelBytes 0 read as "truncated or not CIFAR".
	if err := checkCIFARArgs(path, labelBytes, labelIndex, classes); err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		rec := int64(labelBytes + cifarPixels)
		if st.Size()%rec != 0 {
			return nil, fmt.Errorf("dataset: %s: truncated or not CIFAR: %d bytes is not a whole number of %d-byte records", path, st.Size(), rec)
		}
	}
	return DecodeCIFAR(f, path, labelBytes, labelIndex, classes)
}

// checkCIFARArgs checks the record layout and class count a caller gives; a class
// count of 0 used to surface as "record 0 has label 3, want < 0".
func checkCIFARArgs(name string, labelBytes, labelIndex, classes int) error {
	switch {
	case labelBytes < 1:
		return fmt.Errorf("dataset: %s: %d label bytes per record, want ≥ 1 (CIFAR-10: 1, CIFAR-100: 2)", name, labelBytes)
	case labelIndex < 0 || labelIndex >= labelBytes:
		return fmt.Errorf("dataset: %s: label byte %d of %d is not valid: want 0 ≤ labelIndex < labelBytes (CIFAR-100: 0 coarse, 1 fine)", name, labelIndex, labelBytes)
	case classes < 1 || classes > 256:
		return fmt.Errorf("dataset: %s: %d classes, want 1 to 256 (CIFAR-10: 10, CIFAR-100: 100 fine or 20 coarse)", name, classes)
	}
	return nil
}

// cifarDir returns dir, or its subfolder sub (cifar-10-batches-bin, cifar-100-binary:
// the archives unpack into those), whichever holds all of files; if neither does, the
// error lists what is missing from the one that has more of them (a partial download
// or unpacking).
func cifarDir(loader, dir, sub string, files []string, archive string) (string, error) {
	missing := missingFiles(dir, files)
	if len(missing) == 0 {
		return dir, nil
	}
	inSub := missingFiles(filepath.Join(dir, sub), files)
	if len(inSub) == 0 {
		return filepath.Join(dir, sub), nil
	}
	where := dir
	if len(inSub) < len(missing) {
		where, missing = filepath.Join(dir, sub), inSub
	}
	if _, err := os.Stat(dir); err != nil {
		return "", pathError(dir, err)
	}
	if len(missing) == len(files) {
		return "", fmt.Errorf("dataset: %s: %s holds none of %s, and has no %s folder that does: download and unpack %s, and pass the folder it unpacks into or the one above",
			loader, dir, strings.Join(files, ", "), sub, archive)
	}
	return "", fmt.Errorf("dataset: %s: %s has no %s (an incomplete download or unpacking?): it needs %s, as %s unpacks them",
		loader, where, strings.Join(missing, ", "), strings.Join(files, ", "), archive)
}

// readNames reads one class name per non-empty line.
func readNames(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// cifar10Files are the files of CIFAR-10's binary version that LoadCIFAR10 reads.
var cifar10Files = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}

// LoadCIFAR10 reads the CIFAR-10 binary version from dir (or dir/cifar-10-batches-bin):
// data_batch_1.bin … data_batch_5.bin (50,000 training images) and test_batch.bin
// (10,000), 3×32×32. Class names come from batches.meta.txt when present.
func LoadCIFAR10(dir string) (train, test *Dataset, err error) {
	dir, err = cifarDir("LoadCIFAR10", dir, "cifar-10-batches-bin", cifar10Files, "the binary version of CIFAR-10 (cifar-10-binary.tar.gz)")
	if err != nil {
		return nil, nil, err
	}
	var parts []*Dataset
	for i := 1; i <= 5; i++ {
		p, err := ReadCIFAR(filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", i)), 1, 0, 10)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, p)
	}
	if train, err = Concat(parts...); err != nil {
		return nil, nil, err
	}
	if test, err = ReadCIFAR(filepath.Join(dir, "test_batch.bin"), 1, 0, 10); err != nil {
		return nil, nil, err
	}
	classes := CIFAR10Classes
	if names, err := readNames(filepath.Join(dir, "batches.meta.txt")); err == nil && len(names) == 10 {
		classes = names
	}
	train.Name, test.Name = "CIFAR-10 train", "CIFAR-10 test"
	train.Classes, test.Classes = append([]string(nil), classes...), append([]string(nil), classes...)
	return train, test, nil
}

// LoadCIFAR100 reads the CIFAR-100 binary version from dir (or dir/cifar-100-binary):
// train.bin (50,000 images) and test.bin (10,000), with the 100 fine labels, or the 20
// coarse superclass labels when coarse is true. Class names come from
// fine_label_names.txt / coarse_label_names.txt when present.
func LoadCIFAR100(dir string, coarse bool) (train, test *Dataset, err error) {
	dir, err = cifarDir("LoadCIFAR100", dir, "cifar-100-binary", []string{"train.bin", "test.bin"}, "the binary version of CIFAR-100 (cifar-100-binary.tar.gz)")
	if err != nil {
		return nil, nil, err
	}
	idx, n, names, kind := 1, 100, "fine_label_names.txt", "fine"
	if coarse {
		idx, n, names, kind = 0, 20, "coarse_label_names.txt", "coarse"
	}
	if train, err = ReadCIFAR(filepath.Join(dir, "train.bin"), 2, idx, n); err != nil {
		return nil, nil, err
	}
	if test, err = ReadCIFAR(filepath.Join(dir, "test.bin"), 2, idx, n); err != nil {
		return nil, nil, err
	}
	classes := numberedClasses(n)
	if nm, err := readNames(filepath.Join(dir, names)); err == nil && len(nm) == n {
		classes = nm
	}
	train.Name, test.Name = "CIFAR-100 ("+kind+") train", "CIFAR-100 ("+kind+") test"
	train.Classes, test.Classes = classes, append([]string(nil), classes...)
	return train, test, nil
}
