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
)

// Rotation rotates an image about its centre by an angle drawn uniformly from
// [−MaxDegrees, MaxDegrees], with bicubic (Catmull–Rom) interpolation; pixels that
// come from outside the image take the value Fill. The zero value is the paper's
// rotation nuisance: angle ~ U(−180°, 180°), fill 0.
type Rotation struct {
	MaxDegrees float64 // half-width of the angle range in degrees; 0 means 180
	Fill       uint8   // value of pixels rotated in from outside the image
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
	m := r.maxDegrees()
	return Rotate(src, (2*rng.Float64()-1)*m, r.Fill)
}

// String describes the transform.
func (r Rotation) String() string {
	return fmt.Sprintf("Rotation(U(−%g°, %g°), bicubic, fill %d)", r.maxDegrees(), r.maxDegrees(), r.Fill)
}

// rotPad is the width of the border of fill pixels added around the source before
// interpolating. Catmull–Rom reaches two pixels out; x/image/draw renormalizes the
// kernel weights at the edge of the source rectangle (edge extension), so without this
// border the outermost pixels would be smeared outwards instead of blending into the
// fill value as "fill 0" intends.
const rotPad = 2

type rotScratch struct {
	src *image.Gray
	dst *image.RGBA
}

var rotPool sync.Pool

// Rotate returns src rotated counter-clockwise by degrees about its centre, bicubic
// (golang.org/x/image/draw.CatmullRom), with pixels from outside the image set to fill.
// Each channel is rotated separately. An angle of 0 returns an exact copy.
func Rotate(src dataset.Image, degrees float64, fill uint8) dataset.Image {
	out := dataset.NewImage(src.C, src.H, src.W)
	if math.Mod(degrees, 360) == 0 {
		copy(out.Pix, src.Pix)
		return out
	}
	h, w := src.H, src.W
	ph, pw := h+2*rotPad, w+2*rotPad
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
	ox, oy := cx+rotPad, cy+rotPad // the centre in padded-source coordinates
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
			copy(sp[(y+rotPad)*pw+rotPad:], plane[y*w:(y+1)*w])
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
