//go:build unix

package nn

import (
	"math/rand"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"
)

// TestABConv3x3 (set GOINV_AB=1) times ResNet-20 training steps with and without the
// direct 3×3 kernels, alternating, so that both see the same load on the machine.
func TestABConv3x3(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" || !haveConv3x3 {
		t.Skip("set GOINV_AB=1")
	}
	defer func(on bool) { useConv3x3 = on }(useConv3x3)
	abResNet20(t, []string{"im2col+sgemm", "direct 3x3"}, func(k int) { useConv3x3 = k == 1 })
}

// TestABStride2 (set GOINV_AB=1) times ResNet-20 training steps with the 3×3 stride-2
// unfolding loops and with the general ones, alternating in one graph.
func TestABStride2(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" {
		t.Skip("set GOINV_AB=1")
	}
	defer func(v bool) { noStride2 = v }(noStride2)
	abResNet20(t, []string{"general", "stride-2"}, func(k int) { noStride2 = k == 0 })
}

// TestABBNReLU (set GOINV_AB=1) times ResNet-20 training steps with BatchNormReLU's
// backward reading the ReLU mask from the output and recomputing it from x.
func TestABBNReLU(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" {
		t.Skip("set GOINV_AB=1")
	}
	defer func(v bool) { reluMaskFromY = v }(reluMaskFromY)
	abResNet20(t, []string{"mask from y", "mask from x"}, func(k int) { reluMaskFromY = k == 0 })
}

// abResNet20 runs ResNet-20 training steps (batch 128) alternating between the
// settings that set(k) selects, and logs each one's best and median images/s. Each
// setting gets its own graph, built and run under that setting, since some settings
// (the direct 3×3 kernels) also decide what a graph caches when it is built.
func abResNet20(t *testing.T, names []string, set func(k int)) {
	n := 128
	graphs := make([]*Graph, len(names))
	for k := range names {
		set(k)
		m := ResNet20(1)
		if err := m.Init(3, 32, 32, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}); err != nil {
			t.Fatal(err)
		}
		loss := &Loss{Labels: make([]int, n)}
		for i := range loss.Labels {
			loss.Labels[i] = i % 10
		}
		gr, err := m.TrainGraph(n, loss)
		if err != nil {
			t.Fatal(err)
		}
		graphs[k] = gr
	}
	r := rand.New(rand.NewSource(1))
	x := make([]float32, n*3*32*32)
	for i := range x {
		x[i] = r.Float32()
	}
	// CPU time of the process per step is less disturbed by other load than wall time.
	cpu := func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	times := make([][]float64, len(names))
	cpus := make([][]float64, len(names))
	for rep := 0; rep < 16; rep++ {
		for k := range names {
			set(k)
			t0, c0 := time.Now(), cpu()
			if err := graphs[k].Run(x); err != nil {
				t.Fatal(err)
			}
			if rep >= 2 {
				times[k] = append(times[k], time.Since(t0).Seconds())
				cpus[k] = append(cpus[k], cpu()-c0)
			}
		}
	}
	for k, name := range names {
		sort.Float64s(times[k])
		sort.Float64s(cpus[k])
		t.Logf("%-13s images/s: best %.0f, median %.0f; images per CPU-second: best %.0f, median %.0f", name,
			float64(n)/times[k][0], float64(n)/times[k][len(times[k])/2], float64(n)/cpus[k][0], float64(n)/cpus[k][len(cpus[k])/2])
	}
}

// TestABConv3x3Inner (set GOINV_AB=1) times ResNet-20 training steps with the forward
// 3×3 kernel's inner-vector path off and on.
func TestABConv3x3Inner(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" || !haveConv3x3 {
		t.Skip("set GOINV_AB=1")
	}
	defer func(v bool) { conv3x3Inner = v }(conv3x3Inner)
	abResNet20(t, []string{"general", "inner path"}, func(k int) { conv3x3Inner = k == 1 })
}

// TestABConv3x3DWT (set GOINV_AB=1) times ResNet-20 training steps with the 3×3
// weight gradients on the pixel-vector kernel (conv3x3DW) and on the channels-last one
// (conv3x3DWT).
func TestABConv3x3DWT(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" || !haveConv3x3 {
		t.Skip("set GOINV_AB=1")
	}
	defer func(v bool) { useDWT = v }(useDWT)
	abResNet20(t, []string{"pixel lanes", "channel lanes"}, func(k int) { useDWT = k == 1 })
}

// TestABStride2DWT (set GOINV_AB=1) times ResNet-20 training steps with the forward
// pass and weight gradient of the stride-2 convolutions on im2col + SGEMM and on the
// channels-last direct kernels (conv3x3FwdTStride, conv3x3DWTStride). Each graph is
// built under its setting, since the SGEMM path keeps the forward pass's unfolded
// input.
func TestABStride2DWT(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" || !haveConv3x3 {
		t.Skip("set GOINV_AB=1")
	}
	defer func(v bool) { noDWTStride2 = v }(noDWTStride2)
	abResNet20(t, []string{"sgemm", "direct"}, func(k int) { noDWTStride2 = k == 0 })
}

// TestABConv3x3FwdT (set GOINV_AB=1) times ResNet-20 training steps with the forward
// 3×3 convolutions and input gradients of the later stages on conv3x3Fwd and on the
// channels-last conv3x3FwdT.
func TestABConv3x3FwdT(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" || !haveConv3x3 {
		t.Skip("set GOINV_AB=1")
	}
	defer func(v bool) { useFwdT = v }(useFwdT)
	abResNet20(t, []string{"pixel lanes", "channel lanes"}, func(k int) { useFwdT = k == 1 })
}

// TestABChannelsLast (set GOINV_AB=1) times ResNet-20 training steps with all the
// channels-last kernels and the forward kernel's inner path off (the direct kernels as
// they were before them) and on.
func TestABChannelsLast(t *testing.T) {
	if os.Getenv("GOINV_AB") == "" || !haveConv3x3 {
		t.Skip("set GOINV_AB=1")
	}
	defer func(a, b, c, d bool) { useDWT, useFwdT, conv3x3Inner, noDWTStride2 = a, b, c, d }(useDWT, useFwdT, conv3x3Inner, noDWTStride2)
	abResNet20(t, []string{"pixel lanes", "channels-last"}, func(k int) {
		on := k == 1
		useDWT, useFwdT, conv3x3Inner, noDWTStride2 = on, on, on, !on
	})
}
