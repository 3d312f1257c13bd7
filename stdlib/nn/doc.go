// Package nn builds and runs the toolkit's neural networks with gorgonia: fast float32
// layers as custom gorgonia ops, and the models the experiments use (a small CNN,
// CIFAR-style ResNets, and models a notebook cell defines).
//
// # Layers
//
// Every layer is a function with gorgonia's shape — nodes in, node out — that adds
// one custom op (and, when differentiated with gorgonia.Grad, custom gradient ops):
//
//	Conv2d(x, w, pad, stride)        N×C×H×W * OC×C×KH×KW (PyTorch layout)
//	MaxPool2d(x, k, stride), AvgPool2d(x, k, stride), GlobalAvgPool2d(x)
//	ReLU(x), LeakyReLU(x, alpha), Add(a, b), Scale(x, s)
//	Linear(x, w) (w is K×D, x is N×… flattened), AddBias(x, b), CosineLinear(x, w)
//	BatchNorm(x, gamma, beta, state, train), InstanceNorm(x, gamma, beta),
//	LayerNorm(x, gamma, beta), ScaleShift(x, gamma, beta) (gamma/beta per channel, or
//	per image and channel as in AdaIN), ShortcutA(x, out, stride)
//	Conv2dBias(x, w, b, pad, stride), BatchNormReLU(x, gamma, beta, state, train)
//	CrossEntropy(logits, *Loss) (cross-entropy, focal, LDAM margins, class weights)
//
// They mix freely with gorgonia's own ops and run on gorgonia's TapeMachine as well as
// on this package's executor, which Model uses: it runs the graph in topological
// order and lets stock ops write into their previous value, so a training step
// allocates (almost) nothing. Unlike gorgonia's stock ops these compute on float32
// slices directly, parallel over the batch or the channels (Threads goroutines, default
// GOMAXPROCS), and every op reuses its output and scratch buffers from one step to the
// next (copy values you keep). A convolution unfolds its input (im2col) a chunk of
// images at a time, sized to stay in a core's cache, and multiplies with one SGEMM per
// chunk. Convolutions that keep the image size (3×3 with padding 1, …) unfold whole
// planes per filter tap, and their backward pass unfolds only dy: the input gradient is
// the convolution of dy with the flipped filters, and the weight gradient is read from
// the same unfolded dy against x as it is. A convolution feeding a training batch norm
// sums that norm's statistics while its output is still in cache. On CPUs with
// AVX-512, 3×3 stride-1 convolutions with padding 1 (a ResNet's residual blocks) skip
// the unfolding and SGEMM altogether: direct kernels read each input plane in place,
// shifted by the filter tap, for the forward pass and the input gradient, and the
// weight gradient packs each chunk of images channels-last (16 input channels per
// vector, a zero border as padding) so that it needs neither masks nor sums across
// lanes. On the smaller planes of a ResNet's later stages the forward pass and input
// gradient pack their input channels-last too (16 output channels per vector, same
// bits), and so do the 3×3 stride-2 convolutions' forward pass and weight gradient
// (conv3x3.go; GOINV_NN_DIRECT3X3=0 turns them off). Work is handed to the
// workers a chunk at a time as they finish, and partial sums are kept per chunk and
// added in a fixed order, so results do not depend on the thread count. SGEMM is OpenBLAS,
// loaded at start-up with the kernels for this CPU, or gonum's pure-Go SGEMM when
// libopenblas is missing or the build has CGO_ENABLED=0 or -tags purego (see BLAS).
// With cgo the elementwise kernels (batch norm, ReLU, pooling, im2col) are C compiled
// for the CPU's vector units (AVX-512, AVX2 or SSE, chosen at start-up); pure-Go builds
// use Go versions of the same kernels. GOINV_NN_PROFILE_OPS=1 labels CPU profiles by
// op (go tool pprof -tags).
// The gradient with respect to a graph input (a node without an op, such as the image
// batch) is not computed by Conv2d and Linear.
//
// # Models
//
// SmallCNN, ResNet (ResNet20, ResNet32) and Custom return a *Model: a graph-building
// function plus parameters that every graph built from it shares. Model implements
// Classifier (batched Logits in chunks of EvalBatch), saves to and loads from
// safetensors checkpoints (Save, Load, LoadWeights) with PyTorch state_dict names, and
// is trained by package train.
package nn
