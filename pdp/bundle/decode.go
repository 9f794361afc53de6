package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Read parses an archive and checks that it is well formed and internally
// consistent: every file matches the manifest's digests (ErrDigest), the
// layout is canonical and paths are safe (ErrFormat), and neither the input
// nor its decompressed form exceeds WithMaxSize (ErrTooLarge). It does not
// check the signature: use Open to get a bundle that may be activated; Read
// serves inspection tools.
func Read(r io.Reader, opts ...Option) (*Bundle, error) {
	cfg := newConfig(opts)
	in := &limitReader{r: r, left: cfg.maxSize}
	out := &limitReader{left: cfg.maxSize}
	b, err := readArchive(bufio.NewReader(in), out, cfg.maxSize)
	if in.exceeded {
		return nil, fmt.Errorf("%w: archive is larger than %d bytes", ErrTooLarge, cfg.maxSize)
	}
	if out.exceeded {
		return nil, fmt.Errorf("%w: archive decompresses to more than %d bytes", ErrTooLarge, cfg.maxSize)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// readArchive reads the gzip member from br through the decompression
// limit out, then the tar entries, then checks the manifest against them.
func readArchive(br *bufio.Reader, out *limitReader, budget int64) (*Bundle, error) {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: not a gzip stream: %w", ErrFormat, err)
	}
	zr.Multistream(false)
	out.r = zr
	tr := tar.NewReader(out)

	var manifestJSON, sig []byte
	files := make(map[string][]byte)
	prev := ""
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: tar: %w", ErrFormat, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%w: entry %q is not a regular file (type %q)", ErrFormat, hdr.Name, hdr.Typeflag)
		}
		// The declared size is checked before allocating, which also bounds
		// sparse entries whose holes cost nothing in the compressed stream.
		if hdr.Size < 0 || hdr.Size > budget {
			return nil, fmt.Errorf("%w: entry %q declares %d bytes, more than the %d left", ErrTooLarge, hdr.Name, hdr.Size, budget)
		}
		budget -= hdr.Size
		body, err := readEntry(tr, hdr.Size)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %q: %w", ErrFormat, hdr.Name, err)
		}
		switch {
		case i == 0:
			if hdr.Name != manifestEntry {
				return nil, fmt.Errorf("%w: first entry is %q, want %s", ErrFormat, hdr.Name, manifestEntry)
			}
			manifestJSON = body
		case i == 1 && hdr.Name == signatureEntry:
			if len(body) != signatureSize {
				return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrFormat, signatureEntry, len(body), signatureSize)
			}
			sig = body
		default:
			if err := checkEntryName(hdr.Name); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrFormat, err)
			}
			if hdr.Name <= prev {
				return nil, fmt.Errorf("%w: entry %q is out of order or repeated (after %q)", ErrFormat, hdr.Name, prev)
			}
			prev = hdr.Name
			files[hdr.Name] = body
		}
	}
	if manifestJSON == nil {
		return nil, fmt.Errorf("%w: archive has no %s", ErrFormat, manifestEntry)
	}
	// Reading to the end makes gzip check its CRC and length trailer.
	if _, err := io.Copy(io.Discard, out); err != nil {
		return nil, fmt.Errorf("%w: gzip: %w", ErrFormat, err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the gzip stream", ErrFormat)
	}

	m, err := decodeManifest(manifestJSON)
	if err != nil {
		return nil, err
	}
	if err := checkFiles(m, files); err != nil {
		return nil, err
	}
	return &Bundle{manifest: m, manifestJSON: manifestJSON, signature: sig, files: files}, nil
}

// checkFiles compares the files read with the manifest: the same names,
// sizes and digests (ErrDigest), then usable contents (ErrFormat).
func checkFiles(m Manifest, files map[string][]byte) error {
	for _, fd := range m.Files {
		body, ok := files[fd.Name]
		if !ok {
			return fmt.Errorf("%w: %q is in the manifest but not in the archive", ErrDigest, fd.Name)
		}
		if got := digestFile(fd.Name, body); got != fd {
			return fmt.Errorf("%w: %q has sha256 %s (%d bytes), manifest says %s (%d bytes)",
				ErrDigest, fd.Name, got.SHA256, got.Size, fd.SHA256, fd.Size)
		}
	}
	if len(files) != len(m.Files) {
		listed := make(map[string]bool, len(m.Files))
		for _, fd := range m.Files {
			listed[fd.Name] = true
		}
		for name := range files {
			if !listed[name] {
				return fmt.Errorf("%w: %q is in the archive but not in the manifest", ErrDigest, name)
			}
		}
	}
	if got := contentDigest(m.Files); got != m.Digest {
		return fmt.Errorf("%w: content digest is %s, manifest says %s", ErrDigest, got, m.Digest)
	}
	for _, fd := range m.Files {
		if err := checkContent(fd.Name, files[fd.Name]); err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
	}
	return nil
}

// readEntry reads an entry of the declared size. Memory grows with the
// bytes that actually arrive rather than with the header's claim, so a
// tiny archive cannot make a PDP allocate its whole size limit.
func readEntry(r io.Reader, size int64) ([]byte, error) {
	const firstChunk = 1 << 20
	var buf bytes.Buffer
	buf.Grow(int(min(size, firstChunk)))
	n, err := buf.ReadFrom(io.LimitReader(r, size))
	if err != nil {
		return nil, err
	}
	if n != size {
		return nil, io.ErrUnexpectedEOF
	}
	return buf.Bytes(), nil
}

// limitReader reads from r and fails once more than left bytes have come
// through, remembering that it did so that the caller can report
// ErrTooLarge whatever error the layers above turned it into.
type limitReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

// Read implements io.Reader.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.exceeded = true
		return 0, ErrTooLarge
	}
	return n, err
}
