package nn

import (
	"os"
	"unsafe"
)

// Direct 3×3 same convolutions (stride 1, padding 1), the convolutions of a ResNet's
// residual blocks. With im2col + SGEMM such a convolution with few channels (16 in a
// ResNet's first stage: a GEMM of 16 × 144 × pixels) spends as much time unfolding
// and packing its input as multiplying; the direct kernels read each input plane in
// place, shifted by the filter tap, with the taps that fall on the padding masked off
// lane by lane, and keep a block of output channels × pixels in vector registers.
//
// The forward kernel also gives the input gradient (a same convolution of dy with the
// filters flipped in space and with input and output channels swapped), and a second
// kernel the weight gradient, dw[o][i][t] = Σ_n Σ_q dy[n][o][q]·x[n][i][q+off(t)]. With
// pixels in the lanes, as in the forward kernel, every dw entry ends as a sum across
// 16 lanes and most loads of x are masked and split across cache lines; so when the
// input channels come in multiples of 16 (all but a network's first convolution), the
// weight gradient packs each chunk of images channels-last with a zero border and puts
// 16 input channels in the lanes instead (conv3x3DWT): per pixel, broadcasts of dy
// times nine aligned loads of x, 20–50% faster.
// They need AVX-512 (conv3x3_cgo.go); elsewhere the layers use im2col + SGEMM.

// useConv3x3 switches the direct kernels on where the CPU has them; tests turn it off
// to compare with the im2col + SGEMM path, and so does the environment variable
// GOINV_NN_DIRECT3X3=0 (to compare whole programs, such as nnbench, both ways).
var useConv3x3 = haveConv3x3 && os.Getenv("GOINV_NN_DIRECT3X3") != "0"

// conv3x3Inner lets the forward kernel take its faster path (fewer masks, fixed
// addresses) for the vectors away from the top and bottom rows; TestABConv3x3Inner
// turns it off to time the difference. Both paths give the same bits.
var conv3x3Inner = true

// direct3x3 reports whether the convolution runs on the direct kernels.
func (g *convGeom) direct3x3() bool {
	return useConv3x3 && g.kh == 3 && g.kw == 3 && g.pad == 1 && g.stride == 1 && g.h*g.w >= 1
}

// conv3x3Plan holds what the kernels need about an h×w plane: the flat offset of
// each tap's input pixel from its output pixel, and for each vector of 16 output
// pixels and each tap the lanes whose input pixel lies in the plane (mask) and the
// lanes inside the plane at all (tail).
type conv3x3Plan struct {
	h, w, p, nv int
	off         [9]int32
	mask        []uint16 // nv×9
	tail        []uint16 // nv
	// inner marks the full vectors all of whose taps lie in the plane's rows, where
	// only the first and last columns need masks.
	inner []uint8
}

func newConv3x3Plan(h, w int) *conv3x3Plan {
	p := h * w
	pl := &conv3x3Plan{h: h, w: w, p: p, nv: (p + 15) / 16}
	pl.mask = make([]uint16, pl.nv*9)
	pl.tail = make([]uint16, pl.nv)
	for t := 0; t < 9; t++ {
		pl.off[t] = int32((t/3-1)*w + (t%3 - 1))
	}
	for v := 0; v < pl.nv; v++ {
		for l := 0; l < 16; l++ {
			q := v*16 + l
			if q >= p {
				break
			}
			pl.tail[v] |= 1 << l
			oy, ox := q/w, q%w
			for t := 0; t < 9; t++ {
				iy, ix := oy+t/3-1, ox+t%3-1
				if iy >= 0 && iy < h && ix >= 0 && ix < w {
					pl.mask[v*9+t] |= 1 << l
				}
			}
		}
	}
	pl.inner = make([]uint8, pl.nv)
	for v := range pl.inner {
		m := pl.mask[v*9 : v*9+9]
		if pl.tail[v] == 0xffff && m[1] == 0xffff && m[4] == 0xffff && m[7] == 0xffff &&
			m[0] == m[3] && m[3] == m[6] && m[2] == m[5] && m[5] == m[8] {
			pl.inner[v] = 1
		}
	}
	return pl
}

// conv3x3MR is the number of output channels the forward kernel keeps in registers
// (FWD_MR in conv3x3_cgo.go); the packed filters come in blocks of that many.
const conv3x3MR = 8

// packConv3x3Fwd lays out the filters w (cout×cin×3×3) as the forward kernel reads
// them: blocks of conv3x3MR output channels (fewer in the last), each block holding,
// for every input channel and tap, its channels' weights side by side, so that a block
// reads its weights as one stream:
// wp[o0·cin·9 + (i·9+t)·mr + (o−o0)] = w[o][i][t] for the block [o0, o0+mr) holding o.
func packConv3x3Fwd(w, wp []float32, cin, cout int) {
	packConv3x3(wp, cin, cout, func(o, i, t int) float32 { return w[(o*cin+i)*9+t] })
}

// packConv3x3Back packs, as packConv3x3Fwd does, the filters of the input gradient:
// the forward kernel run from cout to cin channels with the taps flipped, whose
// filters are w'[i][o][t] = w[o][i][8−t] for w (cout×cin×3×3).
func packConv3x3Back(w, wp []float32, cin, cout int) {
	packConv3x3(wp, cout, cin, func(i, o, t int) float32 { return w[(o*cin+i)*9+8-t] })
}

// packConv3x3 packs the filters f(o, i, t) of a convolution from cin to cout channels.
func packConv3x3(wp []float32, cin, cout int, f func(o, i, t int) float32) {
	for o0 := 0; o0 < cout; o0 += conv3x3MR {
		mr := min(conv3x3MR, cout-o0)
		b := wp[o0*cin*9 : (o0+mr)*cin*9]
		for i := 0; i < cin; i++ {
			for t := 0; t < 9; t++ {
				for r := 0; r < mr; r++ {
					b[(i*9+t)*mr+r] = f(o0+r, i, t)
				}
			}
		}
	}
}

// conv3x3Weight returns the weight of output channel o, input channel i and tap t
// from filters packed by packConv3x3Fwd.
func conv3x3Weight(wp []float32, cin, cout, o, i, t int) float32 {
	o0 := o / conv3x3MR * conv3x3MR
	mr := min(conv3x3MR, cout-o0)
	return wp[o0*cin*9+(i*9+t)*mr+o-o0]
}

// conv3x3DWTOK says whether the channels-last weight-gradient kernel (conv3x3DWT)
// takes a convolution with cin input channels: it loads 16 input channels per vector.
// It is faster than conv3x3DW (no lane sums, no masks, aligned loads), most of all on
// small planes; conv3x3DWT can be turned off to compare (TestABConv3x3DWT).
func conv3x3DWTOK(cin int) bool { return useDWT && cin%16 == 0 }

var useDWT = true

// dwtScratchLen is the length of the scratch buffer conv3x3DWT needs for n images
// of cin channels.
func (pl *conv3x3Plan) dwtScratchLen(n, cin int) int { return n*(pl.h+2)*(pl.w+2)*cin + 16 }

// dwtScratch returns the 64-byte aligned n floats of raw (n+16 long) that
// conv3x3DWT packs images into. The kernel never writes the packed images' borders,
// so they must be zero: raw must be dedicated to one convolution's kernel calls and
// zero when first allocated (as scratch.get's new buffers are). Its layout depends
// only on the geometry and raw's address, so it stays valid from call to call.
func dwtScratch(raw []float32, n int) []float32 {
	off := 0
	if a := uintptr(unsafe.Pointer(&raw[0])) % 64; a != 0 {
		off = int(64-a) / 4
	}
	return raw[off : off+n]
}

// goConv3x3Fwd is the reference for conv3x3Fwd, summing in the same order.
func goConv3x3Fwd(pl *conv3x3Plan, x, wp, bias, y []float32, n, cin, cout int) {
	p, w := pl.p, pl.w
	for im := 0; im < n; im++ {
		xn, yn := x[im*cin*p:(im+1)*cin*p], y[im*cout*p:(im+1)*cout*p]
		for o := 0; o < cout; o++ {
			for q := 0; q < p; q++ {
				var s float32
				if bias != nil {
					s = bias[o]
				}
				oy, ox := q/w, q%w
				for i := 0; i < cin; i++ {
					for t := 0; t < 9; t++ {
						iy, ix := oy+t/3-1, ox+t%3-1
						if iy < 0 || iy >= pl.h || ix < 0 || ix >= w {
							continue
						}
						s += conv3x3Weight(wp, cin, cout, o, i, t) * xn[i*p+iy*w+ix]
					}
				}
				yn[o*p+q] = s
			}
		}
	}
}

// goConv3x3DW is the reference for conv3x3DW (in float64: the kernel's lane sums
// round differently).
func goConv3x3DW(pl *conv3x3Plan, x, dy, dw []float32, n, cin, cout int) {
	p, w := pl.p, pl.w
	for o := 0; o < cout; o++ {
		for i := 0; i < cin; i++ {
			for t := 0; t < 9; t++ {
				var s float64
				for im := 0; im < n; im++ {
					xi, d := x[(im*cin+i)*p:], dy[(im*cout+o)*p:]
					for q := 0; q < p; q++ {
						iy, ix := q/w+t/3-1, q%w+t%3-1
						if iy < 0 || iy >= pl.h || ix < 0 || ix >= w {
							continue
						}
						s += float64(d[q]) * float64(xi[iy*w+ix])
					}
				}
				dw[(o*cin+i)*9+t] += float32(s)
			}
		}
	}
}

// goConv3x3DWStride is the reference for conv3x3DWTStride (in float64): the weight
// gradient of a 3×3 convolution with padding 1 and stride 1 or 2 from the images x
// (n×cin×pl.h×pl.w) and output gradients dy (n×cout×oh×ow), added to dw.
func goConv3x3DWStride(pl *conv3x3Plan, stride int, x, dy, dw []float32, n, cin, cout int) {
	h, w := pl.h, pl.w
	oh, ow := (h-1)/stride+1, (w-1)/stride+1
	for o := 0; o < cout; o++ {
		for i := 0; i < cin; i++ {
			for t := 0; t < 9; t++ {
				var s float64
				for im := 0; im < n; im++ {
					xi, d := x[(im*cin+i)*h*w:], dy[(im*cout+o)*oh*ow:]
					for y := 0; y < oh; y++ {
						for xx := 0; xx < ow; xx++ {
							iy, ix := stride*y+t/3-1, stride*xx+t%3-1
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							s += float64(d[y*ow+xx]) * float64(xi[iy*w+ix])
						}
					}
				}
				dw[(o*cin+i)*9+t] += float32(s)
			}
		}
	}
}

// conv3x3FwdTOK says whether conv3x3FwdT takes a convolution from cin to cout
// channels on w-wide planes: it loads 16 channels per vector, computes 32 output
// channels × 8 pixels of a row per block, and wins over conv3x3Fwd (10–20% in
// isolation) on the smaller planes of a ResNet's later stages; useFwdT turns it off
// (TestABConv3x3FwdT).
func conv3x3FwdTOK(cin, cout, w int) bool {
	return useFwdT && cin%16 == 0 && cout%32 == 0 && w%8 == 0 && w <= 16
}

var useFwdT = true

// fwdtScratchLen is the length of the scratch buffer conv3x3FwdT needs for images of
// cin channels.
func (pl *conv3x3Plan) fwdtScratchLen(cin int) int { return cin*(pl.h+2)*(pl.w+2) + 16 }

// packConv3x3T lays out filters for conv3x3FwdT: blocks of 32 output channels, each
// holding for every input channel and tap the block's 32 weights side by side:
// wq[o0·cin·9 + (i·9+t)·32 + (o−o0)] = f(o, i, t).
func packConv3x3T(wq []float32, cin, cout int, f func(o, i, t int) float32) {
	for o0 := 0; o0 < cout; o0 += 32 {
		b := wq[o0*cin*9 : (o0+32)*cin*9]
		for i := 0; i < cin; i++ {
			for t := 0; t < 9; t++ {
				for r := 0; r < 32; r++ {
					b[(i*9+t)*32+r] = f(o0+r, i, t)
				}
			}
		}
	}
}

// goConv3x3FwdT is the reference for conv3x3FwdT, summing in the same order.
func goConv3x3FwdT(pl *conv3x3Plan, x, wq, bias, y []float32, n, cin, cout int) {
	wp := make([]float32, len(wq))
	packConv3x3(wp, cin, cout, func(o, i, t int) float32 { return wq[(o/32*32)*cin*9+(i*9+t)*32+o%32] })
	goConv3x3Fwd(pl, x, wp, bias, y, n, cin, cout)
}

// goConv3x3FwdTStride is the reference for conv3x3FwdTStride (in float64): a 3×3
// convolution with padding 1 and stride 1 or 2 of the images x (n×cin×pl.h×pl.w) with
// the filters wq packed by packConv3x3T, plus bias (nil or cout values).
func goConv3x3FwdTStride(pl *conv3x3Plan, stride int, x, wq, bias, y []float32, n, cin, cout int) {
	h, w := pl.h, pl.w
	oh, ow := (h-1)/stride+1, (w-1)/stride+1
	for im := 0; im < n; im++ {
		for o := 0; o < cout; o++ {
			for q := 0; q < oh*ow; q++ {
				var s float64
				if bias != nil {
					s = float64(bias[o])
				}
				for i := 0; i < cin; i++ {
					for t := 0; t < 9; t++ {
						iy, ix := stride*(q/ow)+t/3-1, stride*(q%ow)+t%3-1
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						s += float64(wq[(o/32*32)*cin*9+(i*9+t)*32+o%32]) * float64(x[((im*cin+i)*h+iy)*w+ix])
					}
				}
				y[(im*cout+o)*oh*ow+q] = float32(s)
			}
		}
	}
}
