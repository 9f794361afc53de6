package token

import (
	"context"
	"fmt"
	"io"
	"os"
)

// Fetcher retrieves the serialized JWKS document a KeySet keeps current.
// Implementations return at most MaxKeySetSize bytes or an error.
type Fetcher interface {
	Fetch(ctx context.Context) ([]byte, error)
}

// FileFetcher reads a JWKS from a local file on every fetch, so replacing
// the file rotates the keys.
type FileFetcher struct {
	path string
}

// NewFileFetcher returns a Fetcher for the JWKS file at path.
func NewFileFetcher(path string) *FileFetcher { return &FileFetcher{path: path} }

// Fetch reads the file.
func (f *FileFetcher) Fetch(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	file, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return readLimited(file, f.path)
}

// readLimited reads r to its end, refusing more than MaxKeySetSize bytes.
func readLimited(r io.Reader, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxKeySetSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxKeySetSize {
		return nil, fmt.Errorf("%s: key set larger than %d bytes", what, MaxKeySetSize)
	}
	return data, nil
}
