package dataset

import (
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register decoders for image.Decode
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/draw"

	"github.com/goinv/goinv/stdlib/display"
)

// FolderOptions configures LoadFolder. The zero value keeps the size of the first
// image and reads RGB.
type FolderOptions struct {
	Width, Height int  // size every image is resized to; a 0 takes the first image's width (height)
	Gray          bool // one luminance channel instead of three
	// Context, if not nil, cancels a long load between images.
	Context context.Context
}

// folderProgressFrom is the number of image files from which LoadFolder shows a
// progress bar (decoding and resizing a photo takes milliseconds).
var folderProgressFrom = 500

// folderProgress is a variable so that tests can watch it; it returns the step and
// finish callbacks of a progress display.
var folderProgress = func(name string, total int) (add func(int), done func()) {
	p := display.NewProgress(name, total)
	return p.Add, p.Done
}

// imageExts are the extensions LoadFolder reads; other files are skipped.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true}

// LoadFolder reads an image folder with one subfolder per class (classes named after
// the subfolders, in sorted order), decoding PNG, JPEG and GIF files with the standard
// library and resizing each to the chosen size with bicubic interpolation
// (golang.org/x/image/draw.CatmullRom). Other files are skipped; a file with an image
// extension that does not decode is an error naming it.
func LoadFolder(dir string, opts FolderOptions) (*Dataset, error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.Width < 0 || opts.Height < 0 {
		return nil, fmt.Errorf("dataset: LoadFolder %s: size %d×%d: Width and Height must be ≥ 0 (0 keeps the first image's)", dir, opts.Width, opts.Height)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, pathError(dir, err)
	}
	var classes []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		return nil, fmt.Errorf("dataset: %s: no class subfolders: want one folder of images per class", dir)
	}
	d := &Dataset{Name: filepath.Base(filepath.Clean(dir)), Classes: classes, W: opts.Width, H: opts.Height, C: 3}
	if opts.Gray {
		d.C = 1
	}
	// The files are listed first, so that a large folder can show its progress.
	type file struct {
		label int
		path  string
	}
	var files []file
	for label, cls := range classes {
		entries, err := os.ReadDir(filepath.Join(dir, cls))
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		names := make([]string, 0, len(entries))
		for _, f := range entries {
			if !f.IsDir() && imageExts[strings.ToLower(filepath.Ext(f.Name()))] {
				names = append(names, f.Name())
			}
		}
		sort.Strings(names)
		for _, name := range names {
			files = append(files, file{label, filepath.Join(dir, cls, name)})
		}
	}
	add, done := func(int) {}, func() {}
	if len(files) >= folderProgressFrom {
		add, done = folderProgress("load "+d.Name, len(files))
	}
	defer done()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, err := decodeImageFile(f.path)
		if err != nil {
			return nil, err
		}
		// Each dimension left at 0 is taken from the first image: Width: 64 alone
		// used to be dropped for the first image's width too.
		if b := img.Bounds(); d.W == 0 {
			d.W = b.Dx()
		}
		if b := img.Bounds(); d.H == 0 {
			d.H = b.Dy()
		}
		if err := d.Append(FromImage(img, d.W, d.H, opts.Gray), f.label); err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", f.path, err)
		}
		add(1)
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("dataset: %s: no PNG, JPEG or GIF images in the class folders", dir)
	}
	return d, nil
}

func decodeImageFile(path string) (img image.Image, err error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("dataset: %s: decoder failed: %v", path, p)
		}
	}()
	img, format, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: not a decodable PNG, JPEG or GIF image (%w): replace or remove the file", path, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("dataset: %s: empty %s image", path, format)
	}
	return img, nil
}

// FromImage converts a standard image to an Image of the given size (a 0 keeps the
// source's width or height), resized with bicubic interpolation
// (golang.org/x/image/draw.CatmullRom) when the size differs:
// one luminance channel when gray, else three RGB channels (transparent pixels are
// composited over black).
func FromImage(src image.Image, width, height int, gray bool) Image {
	b := src.Bounds()
	if width < 0 || height < 0 {
		panic(fmt.Sprintf("dataset: FromImage to %d×%d: negative size (0 keeps the source's)", width, height))
	}
	// A zero dimension keeps the source's, as in FolderOptions; it made an empty image.
	if width == 0 {
		width = b.Dx()
	}
	if height == 0 {
		height = b.Dy()
	}
	rgba := image.NewRGBA(image.Rect(0, 0, width, height))
	if b.Dx() == width && b.Dy() == height {
		draw.Draw(rgba, rgba.Bounds(), src, b.Min, draw.Src)
	} else {
		draw.CatmullRom.Scale(rgba, rgba.Bounds(), src, b, draw.Src, nil)
	}
	plane := width * height
	if gray {
		out := NewImage(1, height, width)
		for p := 0; p < plane; p++ {
			c := color.RGBA{R: rgba.Pix[4*p], G: rgba.Pix[4*p+1], B: rgba.Pix[4*p+2], A: 255}
			out.Pix[p] = color.GrayModel.Convert(c).(color.Gray).Y
		}
		return out
	}
	out := NewImage(3, height, width)
	for p := 0; p < plane; p++ {
		out.Pix[p] = rgba.Pix[4*p]
		out.Pix[plane+p] = rgba.Pix[4*p+1]
		out.Pix[2*plane+p] = rgba.Pix[4*p+2]
	}
	return out
}
