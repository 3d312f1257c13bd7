package dataset

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// GridOptions configures Grid. The zero value gives 2× magnified images, a 2-pixel
// gap and no labels.
type GridOptions struct {
	Cols      int      // images per row; 0 means 10 (ignored by Rows-based helpers)
	Scale     int      // integer magnification; 0 means 2
	Gap       int      // pixels between images; 0 means 2, negative means none
	RowLabels []string // text drawn left of each row, if any
}

// ToImage converts img to a standard image: *image.Gray for one channel, *image.RGBA
// for three (or four, the fourth taken as alpha); other channel counts show channel 0.
func (img Image) ToImage() image.Image {
	plane := img.H * img.W
	switch img.C {
	case 3, 4:
		out := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
		for p := 0; p < plane; p++ {
			out.Pix[4*p] = img.Pix[p]
			out.Pix[4*p+1] = img.Pix[plane+p]
			out.Pix[4*p+2] = img.Pix[2*plane+p]
			out.Pix[4*p+3] = 255
		}
		return out
	default:
		out := image.NewGray(image.Rect(0, 0, img.W, img.H))
		copy(out.Pix, img.Pix[:plane])
		return out
	}
}

// PNG encodes the image as PNG, so that an Image as the last value of a cell shows.
func (img Image) PNG() []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, Grid([]Image{img}, GridOptions{Cols: 1, Scale: 4, Gap: -1})); err != nil {
		return nil
	}
	return buf.Bytes()
}

// Grid lays images out in rows of opts.Cols, magnified by opts.Scale, on a white
// background, with optional row labels on the left. Images may differ in shape; each
// cell is as large as the largest image. The result renders inline in a notebook.
func Grid(images []Image, opts GridOptions) image.Image {
	cols := opts.Cols
	if cols <= 0 {
		cols = 10
	}
	if cols > len(images) && len(images) > 0 {
		cols = len(images)
	}
	rows := (len(images) + cols - 1) / cols
	if len(opts.RowLabels) > rows {
		rows = len(opts.RowLabels)
	}
	return layout(images, rows, cols, func(i int) (int, int) { return i / cols, i % cols }, opts)
}

// GridRows lays out rows of images, one slice per row (rows may differ in length),
// with optional labels, as Grid does.
func GridRows(rows [][]Image, opts GridOptions) image.Image {
	var flat []Image
	var pos [][2]int
	cols := 0
	for r, row := range rows {
		if len(row) > cols {
			cols = len(row)
		}
		for c, img := range row {
			flat = append(flat, img)
			pos = append(pos, [2]int{r, c})
		}
	}
	return layout(flat, len(rows), cols, func(i int) (int, int) { return pos[i][0], pos[i][1] }, opts)
}

func layout(images []Image, rows, cols int, at func(int) (int, int), opts GridOptions) image.Image {
	scale := opts.Scale
	if scale <= 0 {
		scale = 2
	}
	gap := opts.Gap
	switch {
	case gap == 0:
		gap = 2
	case gap < 0:
		gap = 0
	}
	cw, ch := 1, 1
	for _, img := range images {
		cw, ch = max(cw, img.W*scale), max(ch, img.H*scale)
	}
	face := basicfont.Face7x13
	labelW := 0
	for _, l := range opts.RowLabels {
		labelW = max(labelW, font.MeasureString(face, l).Ceil()+6)
	}
	if cols < 1 {
		cols = 1
	}
	if rows < 1 {
		rows = 1
	}
	W := labelW + cols*cw + (cols+1)*gap
	H := rows*ch + (rows+1)*gap
	out := image.NewRGBA(image.Rect(0, 0, W, H))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	for i, img := range images {
		r, c := at(i)
		x0 := labelW + gap + c*(cw+gap)
		y0 := gap + r*(ch+gap)
		blit(out, img, x0, y0, scale)
	}
	d := &font.Drawer{Dst: out, Src: image.NewUniform(color.Black), Face: face}
	for r, l := range opts.RowLabels {
		y := gap + r*(ch+gap) + ch/2 + 4
		d.Dot = fixed.P(3, y)
		d.DrawString(l)
	}
	return out
}

// blit draws img magnified by scale with its top-left corner at (x0, y0).
func blit(dst *image.RGBA, img Image, x0, y0, scale int) {
	plane := img.H * img.W
	if len(img.Pix) < img.C*plane || img.C < 1 {
		return
	}
	rgb := img.C == 3 || img.C == 4
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			p := y*img.W + x
			r := img.Pix[p]
			g, b := r, r
			if rgb {
				g, b = img.Pix[plane+p], img.Pix[2*plane+p]
			}
			for dy := 0; dy < scale; dy++ {
				o := dst.PixOffset(x0+x*scale, y0+y*scale+dy)
				for dx := 0; dx < scale; dx++ {
					dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = r, g, b, 255
					o += 4
				}
			}
		}
	}
}

// Images returns views of the images at idx.
func (d *Dataset) Images(idx []int) []Image {
	out := make([]Image, len(idx))
	for k, i := range idx {
		out[k] = d.Image(i)
	}
	return out
}

// Preview returns a grid with one row per class (up to 20 classes) showing the
// class's first perClass images, each row labelled with the class name.
func (d *Dataset) Preview(perClass int) image.Image {
	if perClass <= 0 {
		perClass = 10
	}
	var rows [][]Image
	var labels []string
	for c, g := range d.ByClass() {
		if len(rows) == 20 {
			break
		}
		if len(g) > perClass {
			g = g[:perClass]
		}
		rows = append(rows, d.Images(g))
		labels = append(labels, d.className(c))
	}
	return GridRows(rows, GridOptions{RowLabels: labels})
}

func (d *Dataset) className(c int) string {
	if c >= 0 && c < len(d.Classes) {
		return d.Classes[c]
	}
	return fmt.Sprint(c)
}

// String summarizes the dataset: name, size, image shape and class counts.
func (d *Dataset) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d images of %d×%d×%d (C×H×W), %d classes", d.Name, d.Len(), d.C, d.H, d.W, d.NumClasses())
	counts := d.ClassCounts()
	if len(counts) > 0 {
		b.WriteString("\n")
		for c, n := range counts {
			if c > 0 {
				b.WriteString(", ")
			}
			if c == 30 {
				fmt.Fprintf(&b, "… (%d more)", len(counts)-30)
				break
			}
			fmt.Fprintf(&b, "%s: %d", d.className(c), n)
		}
	}
	return b.String()
}

// HTML renders the summary and a table of class counts for a notebook.
func (d *Dataset) HTML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<div><p><b>%s</b>: %d images of %d×%d×%d (C×H×W), %d classes</p>",
		html.EscapeString(d.Name), d.Len(), d.C, d.H, d.W, d.NumClasses())
	b.WriteString(`<div style="max-height:360px;overflow-y:auto"><table><thead><tr><th>label</th><th>class</th><th>images</th></tr></thead><tbody>`)
	for c, n := range d.ClassCounts() {
		fmt.Fprintf(&b, "<tr><td>%d</td><td>%s</td><td>%d</td></tr>", c, html.EscapeString(d.className(c)), n)
	}
	b.WriteString("</tbody></table></div></div>")
	return b.String()
}
