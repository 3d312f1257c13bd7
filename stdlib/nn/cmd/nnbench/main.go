// Command nnbench measures how fast goinv trains its models on this machine and
// compares with PyTorch on the same work.
//
// In one run it prints: plain SGEMM GFLOP/s (OpenBLAS as loaded by package nn, and
// gonum's pure-Go SGEMM); the training throughput (images/s, one step = forward,
// backward and an SGD-momentum update) of the small CNN on 28×28×1 images and of
// ResNet-20 (and, on request, ResNet-32) on 32×32×3 images at batch 128, with their
// effective GFLOP/s (3 × forward FLOPs per image × images/s); and the same models trained by PyTorch (the Debian
// python3-torch package, CPU, torch.set_num_threads(threads)) through torchbench.py,
// with the goinv/PyTorch ratio.
//
//	go run ./stdlib/nn/cmd/nnbench                 # everything
//	go run ./stdlib/nn/cmd/nnbench -torch=false    # goinv only
//	go run ./stdlib/nn/cmd/nnbench -models smallcnn -steps 100
//	go run ./stdlib/nn/cmd/nnbench -models resnet20,resnet32
//	go run ./stdlib/nn/cmd/nnbench -torch=false -models resnet20 -cpuprofile /tmp/cpu  # writes /tmp/cpu.resnet20
//
// Other work on the machine slows both sides: run it twice and compare; the load
// average is printed, and so is the throughput of each side's fastest step, the
// figure least disturbed by other load.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/goinv/goinv/stdlib/nn"
)

//go:embed torchbench.py
var torchScript []byte

var (
	steps   = flag.Int("steps", 40, "timed training steps for the small CNN (ResNet-20 uses a third, at least 5)")
	batch   = flag.Int("batch", 128, "batch size")
	models  = flag.String("models", "smallcnn,resnet20", "comma-separated models: smallcnn, resnet20, resnet32")
	torch   = flag.Bool("torch", true, "also run the PyTorch reference")
	python  = flag.String("python", "/usr/bin/python3", "python with torch")
	threads = flag.Int("threads", 2, "threads for goinv (nn.Threads, GOMAXPROCS) and PyTorch")
	cpuprof = flag.String("cpuprofile", "", "write a CPU profile of goinv's timed training steps to this file")
)

type result struct {
	model          string
	imagesPerSec   float64
	bestPerSec     float64 // in the fastest step: least disturbed by other load
	torchBest      float64
	imagesPerCPU   float64 // images per CPU-second of the process
	torchPerCPU    float64
	gflops         float64
	torchPerSec    float64
	forwardFLOPs   int64
	torchAvailable bool
}

func main() {
	flag.Parse()
	runtime.GOMAXPROCS(*threads)
	nn.Threads = *threads
	fmt.Printf("nnbench: %s, %d threads, BLAS %s, load average %s\n", runtime.Version(), *threads, nn.BLAS(), loadavg())

	blasName := nn.BLAS()
	fmt.Println("\nSGEMM 512×512×512 (one thread):")
	if strings.HasPrefix(blasName, "openblas") {
		fmt.Printf("  %-22s %6.1f GFLOP/s\n", blasName, sgemmGFLOPS(512))
	}
	nn.UseGonum(true)
	fmt.Printf("  %-22s %6.1f GFLOP/s\n", "gonum (pure Go)", sgemmGFLOPS(512))
	nn.UseGonum(false)

	var results []*result
	for _, name := range strings.Split(*models, ",") {
		r, err := benchGo(strings.TrimSpace(name))
		if err != nil {
			fmt.Fprintln(os.Stderr, "nnbench:", err)
			os.Exit(1)
		}
		results = append(results, r)
	}
	if *torch {
		if err := benchTorch(results); err != nil {
			fmt.Fprintln(os.Stderr, "nnbench: PyTorch reference:", err)
		}
	}
	fmt.Printf("\nTraining throughput, batch %d (images/s; effective GFLOP/s = 3 × forward FLOPs × images/s):\n", *batch)
	fmt.Printf("  %-10s %14s %10s %14s %10s %8s\n", "model", "goinv img/s", "GFLOP/s", "PyTorch img/s", "GFLOP/s", "ratio")
	for _, r := range results {
		tp, tg, ratio := "-", "-", "-"
		if r.torchAvailable {
			tp = fmt.Sprintf("%.0f", r.torchPerSec)
			tg = fmt.Sprintf("%.1f", 3*float64(r.forwardFLOPs)*r.torchPerSec/1e9)
			ratio = fmt.Sprintf("%.2f×", r.imagesPerSec/r.torchPerSec)
		}
		fmt.Printf("  %-10s %14.0f %10.1f %14s %10s %8s\n", r.model, r.imagesPerSec, r.gflops, tp, tg, ratio)
	}
	fmt.Printf("\nImages per CPU-second (less sensitive to other load; PyTorch's idle OpenMP threads spin):\n")
	for _, r := range results {
		t, ratio := "-", "-"
		if r.torchAvailable && r.torchPerCPU > 0 {
			t, ratio = fmt.Sprintf("%.0f", r.torchPerCPU), fmt.Sprintf("%.2f×", r.imagesPerCPU/r.torchPerCPU)
		}
		fmt.Printf("  %-10s goinv %8.0f   PyTorch %8s   ratio %s\n", r.model, r.imagesPerCPU, t, ratio)
	}
	fmt.Printf("\nImages/s in the fastest step (least disturbed by other load):\n")
	for _, r := range results {
		t, ratio := "-", "-"
		if r.torchAvailable && r.torchBest > 0 {
			t, ratio = fmt.Sprintf("%.0f", r.torchBest), fmt.Sprintf("%.2f×", r.bestPerSec/r.torchBest)
		}
		fmt.Printf("  %-10s goinv %8.0f   PyTorch %8s   ratio %s\n", r.model, r.bestPerSec, t, ratio)
	}
	fmt.Printf("peak resident memory of this process (VmHWM): %s\n", vmHWM())
	fmt.Printf("load average at the end: %s\n", loadavg())
}

// vmHWM returns the process's peak resident set size as /proc/self/status reports it.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

// cpuSeconds returns the user and system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func sgemmGFLOPS(n int) float64 {
	a := make([]float32, n*n)
	for i := range a {
		a[i] = rand.Float32()
	}
	c := make([]float32, n*n)
	run := func(reps int) time.Duration {
		t := time.Now()
		for i := 0; i < reps; i++ {
			nn.Sgemm(false, false, n, n, n, 1, a, n, a, n, 0, c, n)
		}
		return time.Since(t)
	}
	run(1)
	reps := 1
	for {
		d := run(reps)
		if d > 500*time.Millisecond || reps > 1000 {
			return 2 * float64(n) * float64(n) * float64(n) * float64(reps) / d.Seconds() / 1e9
		}
		reps *= 2
	}
}

func benchGo(name string) (*result, error) {
	var m *nn.Model
	var c, hw, n int
	switch name {
	case "smallcnn":
		m, c, hw, n = nn.SmallCNN(nn.Arch{Seed: 1}), 1, 28, *steps
	case "resnet20":
		m, c, hw, n = nn.ResNet20(1), 3, 32, max(*steps/3, 5)
	case "resnet32":
		m, c, hw, n = nn.ResNet32(1), 3, 32, max(*steps/5, 5)
	default:
		return nil, fmt.Errorf("unknown model %q", name)
	}
	classes := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if err := m.Init(c, hw, hw, classes); err != nil {
		return nil, err
	}
	flops, err := m.FLOPs()
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewSource(1))
	loss := &nn.Loss{Labels: make([]int, *batch)}
	for i := range loss.Labels {
		loss.Labels[i] = r.Intn(10)
	}
	gr, err := m.TrainGraph(*batch, loss)
	if err != nil {
		return nil, err
	}
	defer gr.Close()
	x := make([]float32, *batch*c*hw*hw)
	for i := range x {
		x[i] = r.Float32()
	}
	vel := make([][]float32, len(gr.Params()))
	for i, p := range gr.Params() {
		vel[i] = make([]float32, len(p.Data))
	}
	step := func() error {
		if err := gr.Run(x); err != nil {
			return err
		}
		for i, g := range gr.Grads() {
			w, v := gr.Params()[i].Data, vel[i]
			for j := range w {
				v[j] = 0.9*v[j] + g[j] + 2e-4*w[j]
				w[j] -= 0.01 * v[j]
			}
		}
		return nil
	}
	for i := 0; i < 3; i++ { // warm-up: allocates the reusable buffers
		if err := step(); err != nil {
			return nil, err
		}
	}
	if *cpuprof != "" {
		f, err := os.Create(fmt.Sprintf("%s.%s", *cpuprof, name))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	t, c0 := time.Now(), cpuSeconds()
	best := time.Duration(1 << 62)
	for i := 0; i < n; i++ {
		ts := time.Now()
		if err := step(); err != nil {
			return nil, err
		}
		best = min(best, time.Since(ts))
	}
	ips := float64(n**batch) / time.Since(t).Seconds()
	ipc := float64(n**batch) / (cpuSeconds() - c0)
	if *cpuprof != "" {
		pprof.StopCPUProfile()
	}
	fmt.Printf("goinv %-9s %s: %.1f MFLOP forward/image, %.0f images/s, %.0f images per CPU-second (%d steps), peak RSS so far %s\n",
		name, m, float64(flops)/1e6, ips, ipc, n, vmHWM())
	fmt.Printf("goinv %-9s fastest step: %.0f images/s\n", name, float64(*batch)/best.Seconds())
	return &result{model: name, imagesPerSec: ips, imagesPerCPU: ipc, bestPerSec: float64(*batch) / best.Seconds(), gflops: 3 * float64(flops) * ips / 1e9, forwardFLOPs: flops}, nil
}

func benchTorch(results []*result) error {
	dir, err := os.MkdirTemp("", "nnbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "torchbench.py")
	if err := os.WriteFile(script, torchScript, 0o644); err != nil {
		return err
	}
	var names []string
	for _, r := range results {
		names = append(names, r.model)
	}
	cmd := exec.Command(*python, script, "--threads", fmt.Sprint(*threads), "--steps", fmt.Sprint(*steps),
		"--batch", fmt.Sprint(*batch), "--models", strings.Join(names, ","))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var line struct {
			Model        string  `json:"model"`
			ImagesPerSec float64 `json:"images_per_s"`
			ImagesPerCPU float64 `json:"images_per_cpu_s"`
			BestPerSec   float64 `json:"best_images_per_s"`
			Steps        int     `json:"steps"`
			Torch        string  `json:"torch"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		fmt.Printf("PyTorch %s %-9s: %.0f images/s, %.0f images per CPU-second (%d steps)\n", line.Torch, line.Model, line.ImagesPerSec, line.ImagesPerCPU, line.Steps)
		for _, r := range results {
			if r.model == line.Model {
				r.torchPerSec, r.torchPerCPU, r.torchAvailable = line.ImagesPerSec, line.ImagesPerCPU, true
				r.torchBest = line.BestPerSec
			}
		}
	}
	return nil
}
