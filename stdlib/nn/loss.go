package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Loss configures the classification loss of a training graph. Labels (and, between
// steps, the other fields) may change after the graph is built: the loss op reads them
// each time it runs.
//
// For every image n with label y, the logits z are shifted by the margin of y on the
// true class only, z'_y = z_y − Margins[y] (LDAM, with margins already multiplied by the
// logit scale), then
//
//	ℓ_n = −(1 − p_y)^Gamma · log p_y,   p = softmax(z')
//
// (Gamma 0: cross-entropy; Gamma > 0: focal loss), and the loss is the weighted mean
// Σ_n w_{y_n} ℓ_n / Σ_n w_{y_n} with w = ClassWeights (nil: all 1), as PyTorch's
// weighted cross_entropy averages.
type Loss struct {
	Labels       []int
	ClassWeights []float32
	Margins      []float32
	Gamma        float64
}

// CrossEntropy returns the scalar loss of logits (N×K) as configured by l.
func CrossEntropy(logits *gorgonia.Node, l *Loss) (*gorgonia.Node, error) {
	s := logits.Shape()
	if len(s) != 2 {
		return nil, fmt.Errorf("crossentropy: logits %v must be N×K", s)
	}
	if l == nil {
		return nil, fmt.Errorf("crossentropy: nil Loss")
	}
	n, k := s[0], s[1]
	dz := make([]float32, n*k) // ∂loss/∂logits, computed with the forward pass
	return apply("CrossEntropy", tensor.ScalarShape(), []bool{true},
		func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
			v, err := l.eval(in[0], n, k, dz)
			if err != nil {
				return nil, err
			}
			return gorgonia.NewF32(v), nil
		},
		func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply("CrossEntropyGrad", s, nil,
				func(op *fnOp, in [][]float32, _ []tensor.Shape) (gorgonia.Value, error) {
					t, dx := op.tensorOut()
					g := in[0][0]
					for i, v := range dz {
						dx[i] = g * v
					}
					return t, nil
				}, nil, grad)
			return gorgonia.Nodes{dx}, err
		}, logits)
}

// Value returns the loss of row-major logits (N×K) and, if dz is not nil, fills it with
// the gradient with respect to the logits.
func (l *Loss) Value(logits []float32, n, k int, dz []float32) (float32, error) {
	return l.eval(logits, n, k, dz)
}

func (l *Loss) eval(z []float32, n, k int, dz []float32) (float32, error) {
	if len(l.Labels) != n {
		return 0, fmt.Errorf("crossentropy: %d labels for %d logit rows", len(l.Labels), n)
	}
	if l.ClassWeights != nil && len(l.ClassWeights) != k || l.Margins != nil && len(l.Margins) != k {
		return 0, fmt.Errorf("crossentropy: class weights/margins must have %d entries", k)
	}
	var wsum float64
	for _, y := range l.Labels {
		if y < 0 || y >= k {
			return 0, fmt.Errorf("crossentropy: label %d outside [0, %d)", y, k)
		}
		wsum += float64(l.weight(y))
	}
	if wsum <= 0 {
		return 0, fmt.Errorf("crossentropy: the batch's class weights sum to %g", wsum)
	}
	row := make([]float64, k)
	var total float64
	for i := 0; i < n; i++ {
		y := l.Labels[i]
		zi := z[i*k : (i+1)*k]
		mx := math.Inf(-1)
		for j, v := range zi {
			row[j] = float64(v)
			if j == y && l.Margins != nil {
				row[j] -= float64(l.Margins[y])
			}
			mx = math.Max(mx, row[j])
		}
		var se float64
		for j := range row {
			row[j] = math.Exp(row[j] - mx)
			se += row[j]
		}
		for j := range row {
			row[j] /= se // p_j
		}
		py := row[y]
		logp := math.Log(math.Max(py, 1e-300))
		w := float64(l.weight(y)) / wsum
		// ℓ = −(1−p)^γ log p; ∂ℓ/∂z_j = c·(δ_jy − p_j) with c = γ(1−p)^(γ−1)·p·log p − (1−p)^γ.
		var loss, c float64
		if l.Gamma == 0 {
			loss, c = -logp, -1
		} else {
			q := 1 - py
			loss = -math.Pow(q, l.Gamma) * logp
			c = -math.Pow(q, l.Gamma)
			if q > 0 {
				c += l.Gamma * math.Pow(q, l.Gamma-1) * py * logp
			}
		}
		total += w * loss
		if dz != nil {
			for j := range row {
				d := -row[j]
				if j == y {
					d += 1
				}
				dz[i*k+j] = float32(w * c * d)
			}
		}
	}
	return float32(total), nil
}

func (l *Loss) weight(y int) float32 {
	if l.ClassWeights == nil {
		return 1
	}
	return l.ClassWeights[y]
}

// LDAMMargins returns the LDAM margins m_c = C / n_c^(1/4) scaled so that the largest is
// maxMargin (the paper uses 0.5), for the per-class training counts.
func LDAMMargins(counts []int, maxMargin float64) []float32 {
	m := make([]float32, len(counts))
	var mx float64
	raw := make([]float64, len(counts))
	for i, n := range counts {
		if n < 1 {
			n = 1
		}
		raw[i] = 1 / math.Sqrt(math.Sqrt(float64(n)))
		mx = math.Max(mx, raw[i])
	}
	for i, r := range raw {
		m[i] = float32(r * maxMargin / mx)
	}
	return m
}
