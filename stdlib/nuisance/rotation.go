package nuisance

import (
	"fmt"
	"image"
	"math"
	"math/rand"
	"sync"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/goinv/goinv/stdlib/dataset"
	"github.com/goinv/goinv/stdlib/internal/seed"
)

// Rotation rotates an image about its centre by an angle drawn uniformly from
// [−MaxDegrees, MaxDegrees], with bicubic (Catmull–Rom) interpolation; pixels that
// come from outside the image take the value Fill. The zero value is the paper's
// rotation nuisance: angle ~ U(−180°, 180°), fill 0.
type Rotation struct {
	MaxDegrees float64 // half-width of the angle range in degrees; 0 means 180
	Fill       uint8   // value of pixels rotated in from outside the image
	// Reference rotates through golang.org/x/image/draw's CatmullRom transform instead
	// of the specialised kernel (same result within one grey level, ≈5–10× slower).
	Reference bool
}

// NewRotation returns the paper's rotation nuisance, angle ~ U(−180°, 180°), fill 0.
func NewRotation() *Rotation { return &Rotation{MaxDegrees: 180} }

func (r Rotation) maxDegrees() float64 {
	if r.MaxDegrees == 0 {
		return 180
	}
	return math.Abs(r.MaxDegrees)
}

// Apply rotates src by one random angle.
func (r Rotation) Apply(src dataset.Image, rng *rand.Rand) dataset.Image {
	seed.MustRand(rng, "nuisance: Rotation.Apply")
	m := r.maxDegrees()
	deg := (2*rng.Float64() - 1) * m
	if r.Reference {
		return RotateReference(src, deg, r.Fill)
	}
	return Rotate(src, deg, r.Fill)
}

// String describes the transform.
func (r Rotation) String() string {
	return fmt.Sprintf("Rotation(U(−%g°, %g°), bicubic, fill %d)", r.maxDegrees(), r.maxDegrees(), r.Fill)
}

// Rotate returns src rotated counter-clockwise by degrees about its centre with
// bicubic (Catmull–Rom, a = −0.5) interpolation, every pixel outside the image taken
// as fill. Each channel is rotated separately. An angle that is a multiple of 360°
// returns an exact copy.
//
// This is the Catmull–Rom kernel of golang.org/x/image/draw, evaluated the same way
// and rounded the same way (RotateReference calls that package; the tests check the
// two agree within one grey level). It is written out here because the library's
// general affine path recomputes the kernel through a function value for every tap
// and costs ≈100 µs per 28×28 image on this machine, which would make one baked
// rotation per MNIST image take seconds instead of a fraction of a second.
func Rotate(src dataset.Image, degrees float64, fill uint8) dataset.Image {
	out := dataset.NewImage(src.C, src.H, src.W)
	if math.Mod(degrees, 360) == 0 {
		copy(out.Pix, src.Pix)
		return out
	}
	h, w := src.H, src.W
	// The source plane with a border of fill pixels wide enough that every tap of a
	// pixel that is not pure fill lies inside it.
	const m = 4
	pw, ph := w+2*m, h+2*m
	pad := make([]float64, pw*ph)
	th := degrees * math.Pi / 180
	c, sn := math.Cos(th), math.Sin(th)
	cx, cy := float64(w)/2, float64(h)/2
	f := float64(fill)
	n := h * w
	for ch := 0; ch < src.C; ch++ {
		plane := src.Pix[ch*n : (ch+1)*n]
		o := out.Pix[ch*n : (ch+1)*n]
		// Only pixels whose taps reach a non-fill source pixel need the kernel: the
		// others are exactly fill (the weights sum to 1). The bounding box of the
		// non-fill pixels, widened by the kernel's reach, bounds those taps.
		x0, y0, x1, y1 := w, h, -1, -1
		for y := 0; y < h; y++ {
			for x, p := range plane[y*w : (y+1)*w] {
				if p != fill {
					x0, x1 = min(x0, x), max(x1, x)
					y0, y1 = min(y0, y), max(y1, y)
				}
			}
		}
		if x1 < 0 {
			for i := range o {
				o[i] = fill
			}
			continue
		}
		for i := range pad {
			pad[i] = f
		}
		for y := y0; y <= y1; y++ {
			row := pad[(y+m)*pw+m:]
			for x, p := range plane[y*w+x0 : y*w+x1+1] {
				row[x0+x] = float64(p)
			}
		}
		// A tap block ix−1..ix+2 meets [x0, x1] iff x0−2 ≤ ix ≤ x1+1.
		lx, hx := float64(x0-2), float64(x1+1)
		ly, hy := float64(y0-2), float64(y1+1)
		for dy := 0; dy < h; dy++ {
			uy := float64(dy) + 0.5 - cy
			for dx := 0; dx < w; dx++ {
				ux := float64(dx) + 0.5 - cx
				// Inverse of the source-to-destination rotation used by RotateReference,
				// in pixel-index coordinates (centres at integers).
				sx := c*ux - sn*uy + cx - 0.5
				sy := sn*ux + c*uy + cy - 0.5
				ix, iy := math.Floor(sx), math.Floor(sy)
				if !(ix >= lx && ix <= hx && iy >= ly && iy <= hy) { // also catches NaN
					o[dy*w+dx] = fill
					continue
				}
				wx := catmullRom4(sx - ix)
				wy := catmullRom4(sy - iy)
				base := (int(iy)-1+m)*pw + int(ix) - 1 + m
				r0 := pad[base : base+4]
				r1 := pad[base+pw : base+pw+4]
				r2 := pad[base+2*pw : base+2*pw+4]
				r3 := pad[base+3*pw : base+3*pw+4]
				v := wy[0]*(wx[0]*r0[0]+wx[1]*r0[1]+wx[2]*r0[2]+wx[3]*r0[3]) +
					wy[1]*(wx[0]*r1[0]+wx[1]*r1[1]+wx[2]*r1[2]+wx[3]*r1[3]) +
					wy[2]*(wx[0]*r2[0]+wx[1]*r2[1]+wx[2]*r2[2]+wx[3]*r2[3]) +
					wy[3]*(wx[0]*r3[0]+wx[1]*r3[1]+wx[2]*r3[2]+wx[3]*r3[3])
				o[dy*w+dx] = toByte(v)
			}
		}
	}
	return out
}

// catmullRom4 returns the Catmull–Rom weights of the four taps at
// distances 1+f, f, 1−f, 2−f, with x/image/draw's kernel formula.
func catmullRom4(f float64) [4]float64 {
	// The two branches of the kernel, k(t) for t < 1 and for 1 ≤ t < 2, as x/image
	// writes them; 0 ≤ f < 1 decides which branch each tap takes.
	near := func(t float64) float64 { return (1.5*t-2.5)*t*t + 1 }
	far := func(t float64) float64 { return ((-0.5*t+2.5)*t-4)*t + 2 }
	var w0, w3 float64
	if f > 0 {
		w3 = far(2 - f)
	}
	w0 = far(1 + f)
	if f == 0 {
		w0 = 0 // t = 1 exactly: x/image takes the near branch, which is 0 there
	}
	w1, w2 := near(f), near(1-f)
	if f == 0 {
		w2 = 0 // t = 1
	}
	// x/image divides by the sum of the weights, which is 1 up to rounding: skipping the
	// division changes no output byte in the comparison test and saves eight divisions
	// per pixel.
	return [4]float64{w0, w1, w2, w3}
}

// toByte rounds an interpolated intensity as x/image/draw does: to 16 bits, clamped,
// then the high byte.
func toByte(v float64) uint8 {
	i := int32(v*0x101 + 0.5)
	if i > 0xffff {
		i = 0xffff
	}
	if i < 0 {
		i = 0
	}
	return uint8(i >> 8)
}

// refPad is the width of the border of fill pixels added around the source before
// RotateReference interpolates. x/image/draw renormalizes the kernel weights at the
// edge of the source rectangle (edge extension) and skips destination pixels whose
// centre maps outside it; with a border of 4 (twice the Catmull–Rom support) every
// pixel whose taps reach real image pixels has all its taps inside the padded source,
// so the result equals interpolation with fill everywhere outside the image.
const refPad = 4

type rotScratch struct {
	src *image.Gray
	dst *image.RGBA
}

var rotPool sync.Pool

// RotateReference is Rotate computed by golang.org/x/image/draw's CatmullRom affine
// transform: slower, kept as the reference the fast kernel is tested against.
func RotateReference(src dataset.Image, degrees float64, fill uint8) dataset.Image {
	out := dataset.NewImage(src.C, src.H, src.W)
	if math.Mod(degrees, 360) == 0 {
		copy(out.Pix, src.Pix)
		return out
	}
	h, w := src.H, src.W
	ph, pw := h+2*refPad, w+2*refPad
	s, _ := rotPool.Get().(*rotScratch)
	if s == nil || s.src.Rect.Dx() != pw || s.src.Rect.Dy() != ph {
		s = &rotScratch{src: image.NewGray(image.Rect(0, 0, pw, ph)), dst: image.NewRGBA(image.Rect(0, 0, w, h))}
	}
	defer rotPool.Put(s)

	// Source-to-destination map in continuous pixel coordinates (pixel centres at
	// +0.5): translate the padded source back to image coordinates, rotate about the
	// image centre. With y pointing down, this matrix turns the picture
	// counter-clockwise for positive angles, as torchvision's rotate does.
	th := degrees * math.Pi / 180
	c, sn := math.Cos(th), math.Sin(th)
	cx, cy := float64(w)/2, float64(h)/2
	ox, oy := cx+refPad, cy+refPad // the centre in padded-source coordinates
	s2d := f64.Aff3{
		c, sn, cx - c*ox - sn*oy,
		-sn, c, cy + sn*ox - c*oy,
	}
	n := h * w
	for ch := 0; ch < src.C; ch++ {
		plane := src.Pix[ch*n : (ch+1)*n]
		sp := s.src.Pix
		for i := range sp {
			sp[i] = fill
		}
		for y := 0; y < h; y++ {
			copy(sp[(y+refPad)*pw+refPad:], plane[y*w:(y+1)*w])
		}
		dp := s.dst.Pix
		for i := range dp {
			dp[i] = fill
		}
		draw.CatmullRom.Transform(s.dst, s2d, s.src, s.src.Rect, draw.Src, nil)
		o := out.Pix[ch*n : (ch+1)*n]
		for i := range o {
			o[i] = dp[4*i]
		}
	}
	return out
}
