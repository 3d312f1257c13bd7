package nn

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestResNetMatchesPyTorch loads a goinv ResNet checkpoint into the PyTorch model with
// the same state_dict names (the Debian python3-torch package) and compares, on one
// batch, the evaluation logits, and in training mode (batch statistics) the logits, the
// loss, every parameter's gradient and the updated running statistics. It pins the
// fast convolution, batch-norm and residual kernels to PyTorch's definitions.
func TestResNetMatchesPyTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skip("no /usr/bin/python3 with torch")
	}
	m, err := ResNet(Arch{Depth: 8, Width: 4, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	// 16×16 images: stage 3 runs at 4×4, and batch 6 makes chunks of several images.
	const n, c, hw = 6, 3, 16
	if err := m.Init(c, hw, hw, tenClasses); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m.safetensors")
	if err := m.Save(ckpt); err != nil {
		t.Fatal(err)
	}
	b := randomBatch(n, c, hw, hw, 7)
	for i := range b.Labels {
		b.Labels[i] = (3 * i) % 10
	}
	evalLogits, err := m.Logits(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := m.TrainGraph(n, &Loss{Labels: b.Labels})
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	if err := gr.Run(b.X); err != nil {
		t.Fatal(err)
	}
	xfile := filepath.Join(dir, "x.f32")
	if err := os.WriteFile(xfile, f32bytes(b.X), 0o644); err != nil {
		t.Fatal(err)
	}
	labels, _ := json.Marshal(b.Labels)
	script := `
import json, struct, sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
data = open(sys.argv[1], "rb").read()
(k,) = struct.unpack("<Q", data[:8])
h = json.loads(data[8:8+k]); body = data[8+k:]
h.pop("__metadata__", None)
sd = {name: torch.from_numpy(np.frombuffer(body[e["data_offsets"][0]:e["data_offsets"][1]], dtype="<f4").reshape(e["shape"]).copy()) for name, e in h.items()}
class Block(nn.Module):
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); s.bn1 = nn.BatchNorm2d(cout)
        s.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(cout)
        s.stride, s.pad = stride, cout - cin
    def forward(s, x):
        o = F.relu(s.bn1(s.conv1(x))); o = s.bn2(s.conv2(o)); sc = x
        if s.stride != 1 or s.pad:
            sc = F.pad(x[:, :, ::s.stride, ::s.stride], (0, 0, 0, 0, s.pad // 2, s.pad // 2))
        return F.relu(o + sc)
class ResNet(nn.Module):
    def __init__(s, depth, width, c, k):
        super().__init__()
        n = (depth - 2) // 6
        s.conv1 = nn.Conv2d(c, width, 3, 1, 1, bias=False); s.bn1 = nn.BatchNorm2d(width)
        cin = width
        for st in range(3):
            w = width << st; blocks = []
            for b in range(n):
                blocks.append(Block(cin, w, 2 if st > 0 and b == 0 else 1)); cin = w
            setattr(s, "layer%d" % (st + 1), nn.Sequential(*blocks))
        s.linear = nn.Linear(cin, k)
    def forward(s, x):
        x = F.relu(s.bn1(s.conv1(x)))
        x = s.layer3(s.layer2(s.layer1(x)))
        return s.linear(x.mean((2, 3)))
m = ResNet(8, 4, 3, 10)
missing, unexpected = m.load_state_dict(sd, strict=False)
assert not [u for u in unexpected], unexpected
assert all(k.endswith("num_batches_tracked") for k in missing), missing
x = torch.from_numpy(np.fromfile(sys.argv[2], dtype="<f4").reshape(6, 3, 16, 16).copy())
y = torch.tensor(json.loads(sys.argv[3]))
m.eval()
with torch.no_grad():
    ev = m(x)
m.train()
lg = m(x)
loss = F.cross_entropy(lg, y)
loss.backward()
out = {"eval": ev.flatten().tolist(), "train": lg.detach().flatten().tolist(), "loss": loss.item(),
       "grads": {k: p.grad.flatten().tolist() for k, p in m.named_parameters()},
       "stats": {k: v.flatten().tolist() for k, v in m.state_dict().items() if "running" in k}}
print(json.dumps(out))
`
	sp := filepath.Join(dir, "ref.py")
	if err := os.WriteFile(sp, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, sp, ckpt, xfile, string(labels)).Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var ref struct {
		Eval, Train []float64
		Loss        float64
		Grads       map[string][]float64
		Stats       map[string][]float64
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	near := func(what string, got []float32, want []float64, tol float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
		}
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		for i := range want {
			if d := math.Abs(float64(got[i]) - want[i]); d > tol*(scale+1e-3) {
				t.Fatalf("%s[%d] = %g, PyTorch %g", what, i, got[i], want[i])
			}
		}
	}
	near("eval logits", evalLogits, ref.Eval, 1e-4)
	near("train logits", gr.Logits(), ref.Train, 1e-4)
	near("loss", []float32{gr.Loss()}, []float64{ref.Loss}, 1e-5)
	for i, p := range gr.Params() {
		want, ok := ref.Grads[p.Name]
		if !ok {
			t.Fatalf("PyTorch has no parameter %s", p.Name)
		}
		near("grad "+p.Name, gr.Grads()[i], want, 1e-3)
	}
	for name, want := range ref.Stats {
		p := m.index[name]
		if p == nil {
			t.Fatalf("goinv has no %s", name)
		}
		near(name, p.Data, want, 1e-4)
	}
}

func f32bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
