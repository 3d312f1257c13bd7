package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Threads is the number of goroutines a layer splits its batch over; 0 means
// runtime.GOMAXPROCS(0). Each goroutine calls a single-threaded matrix multiply.
var Threads = 0

func numWorkers(n int) int {
	w := Threads
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if w > n {
		w = n
	}
	if w < 1 {
		w = 1
	}
	return w
}

// parallelFor splits [0, n) into contiguous chunks, one per worker, and calls
// fn(worker, lo, hi) for each, waiting for all of them. Worker indices are dense in
// [0, numWorkers(n)), so callers can keep per-worker scratch buffers.
func parallelFor(n int, fn func(worker, lo, hi int)) {
	w := numWorkers(n)
	if w == 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		go func(i, lo, hi int) {
			defer wg.Done()
			fn(i, lo, hi)
		}(i, lo, hi)
	}
	fn(0, 0, n/w)
	wg.Wait()
}

// parallelChunks calls fn(worker, chunk) for every chunk in [0, n), each worker taking
// the next chunk when it finishes one, so that a worker slowed by other load on the
// machine does not hold up the rest. Which worker runs a chunk varies from run to run:
// callers that sum across chunks keep one partial result per chunk and add them in
// chunk order, which makes the result independent of scheduling and of the number of
// threads.
func parallelChunks(n int, fn func(worker, chunk int)) {
	w := numWorkers(n)
	if w == 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	work := func(wk int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(wk, i)
		}
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		go func(i int) {
			defer wg.Done()
			work(i)
		}(i)
	}
	work(0)
	wg.Wait()
}

// scaleC multiplies an m×n row-major block of c (leading dimension ldc) by beta.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			for j := range row {
				row[j] = 0
			}
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// scratch is a per-worker set of reusable float32 buffers.
type scratch struct {
	mu   sync.Mutex
	bufs [][]float32
}

// get returns worker w's buffer of at least n floats (contents undefined).
func (s *scratch) get(w, n int) []float32 {
	s.mu.Lock()
	for len(s.bufs) <= w {
		s.bufs = append(s.bufs, nil)
	}
	b := s.bufs[w]
	if cap(b) < n {
		b = make([]float32, n)
		s.bufs[w] = b
	}
	s.mu.Unlock()
	return b[:n]
}
