// Package munit is the image-to-image generator of Generative Invariance Transfer
// (PAPER.md, "The generator (MUNIT) and GIT"): a MUNIT model trained on a long-tailed
// set, both domains being that same set, so that the style code captures the
// class-agnostic nuisance (background intensity, stroke thickness, …) and the content
// code the class.
//
// Architecture (all sizes in Config; PaperConfig is the paper's, the zero Config a
// CPU-friendly width 16 with 2 residual blocks):
//
//   - content encoder E_c: conv 7×7 → Downsample stride-2 convs 4×4 → residual blocks,
//     each conv followed by instance normalisation;
//   - style encoder E_s: conv 7×7 → StyleDownsample stride-2 convs → global average
//     pool → 1×1 conv to a StyleDim code;
//   - decoder: residual blocks with AdaIN, whose per-sample scale and shift an MLP
//     computes from the style code, then (nearest upsample ×2, conv 5×5, layer norm,
//     ReLU) per downsampling, then conv 7×7 and tanh;
//   - LSGAN discriminator: stride-2 convs 4×4 with LeakyReLU 0.2, 1×1 conv to scores.
//
// Train minimises, per iteration with x drawn class-balanced and s ~ N(0, I):
//
//	L_G = 1·(D(x̃) − 1)² + 10·‖Dec(E_c(x), E_s(x)) − x‖₁ + 1·‖E_s(x̃) − s‖₁ + 1·‖E_c(x̃) − E_c(x)‖₁,
//	x̃ = Dec(E_c(x), s),   L_D = D(x̃)² + (D(x) − 1)²,
//
// with Adam (lr 1e-4, β = (0.5, 0.999), weight decay 1e-4).
//
// A trained *Generator transforms images with a given or random style (Transform,
// Apply), renders variant grids, encodes and decodes, and is a nuisance.Transform, so
// the invariance measurement and augmentation code accept it; Bank precomputes
// generated images for GIT augmentation of classifier training. Checkpoints are
// safetensors files. Pretrained generators for MNIST-LT live in Pretrained.
//
// In a notebook:
//
//	split, _ := longtail.MNIST(longtail.Exponential(2000, 100), longtail.Options{Transform: nuisance.NewBackground()})
//	gen, hist, err := munit.Train(cell.Context(), split.Train, munit.Config{Steps: 3000, BatchSize: 4})
//	hist.Plot()                                      // loss curves
//	gen.VariantsGrid(imgs, 8, 1)                     // real | reconstruction | 8 styles
//	bank, _ := munit.Bank(cell.Context(), gen, split.Train, 200, 1) // for train.GIT{Bank: bank}
//	gen, _ = munit.Pretrained("background")          // or skip training altogether
//
// The networks are gorgonia graphs of package nn's layers (graph.go): one graph for
// the discriminator's update and one for the generator's, built once per batch size
// and rerun every step, sharing their weight tensors; inference graphs serve
// Transform, Encode, Decode and Bank.
package munit
