package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
	"time"
)

// WriteTo writes the archive to w. The output depends only on the bundle
// (fixed entry order, modes, times and gzip header), so the same bundle
// always gives the same bytes.
func (b *Bundle) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw := gzip.NewWriter(cw)
	if err := writeTar(zw, b.manifestJSON, b.signature, b.files); err != nil {
		return cw.n, fmt.Errorf("bundle: writing archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("bundle: writing archive: %w", err)
	}
	return cw.n, nil
}

// MarshalBinary returns the archive bytes, the form published on NATS and
// stored on disk.
func (b *Bundle) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeTar writes the tar stream: manifest, signature when present, then
// the files ascending by name, each a regular file with fixed metadata.
func writeTar(w io.Writer, manifestJSON, sig []byte, files map[string][]byte) error {
	tw := tar.NewWriter(w)
	put := func(name string, body []byte) error {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Size:     int64(len(body)),
			Mode:     0o644,
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	if err := put(manifestEntry, manifestJSON); err != nil {
		return err
	}
	if sig != nil {
		if err := put(signatureEntry, sig); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := put(name, files[name]); err != nil {
			return err
		}
	}
	return tw.Close()
}

// countWriter passes writes through and counts the bytes written, for
// WriteTo's result and for sizing archives.
type countWriter struct {
	w io.Writer
	n int64
}

// Write implements io.Writer.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
