package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// FileName returns the name WriteFile gives a service's bundle inside its
// directory, so that several services may share one directory.
func FileName(service string) string { return service + ".bundle.tar.gz" }

// WriteFile stores b as the last-known-good bundle of its service in dir
// (mode 0600), atomically: a crash leaves the previous bundle or this one,
// never a torn file. It returns the path written. Unsigned bundles are
// refused (ErrUnsigned), since ReadFile would refuse them anyway.
func (b *Bundle) WriteFile(dir string) (string, error) {
	if b.signature == nil {
		return "", fmt.Errorf("%w: refusing to persist an unsigned bundle", ErrUnsigned)
	}
	data, err := b.MarshalBinary()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, FileName(b.manifest.Service))
	if err := writeFileAtomic(path, data, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// ReadFile loads the last-known-good bundle of service from dir, so that a
// PDP can start deciding before its bundle source answers. It applies every
// check of Open, with WithService(service) added: what is on disk is
// trusted no more than what comes over the network. A missing file matches
// fs.ErrNotExist.
func ReadFile(dir, service string, trust *TrustStore, opts ...Option) (*Bundle, error) {
	if err := ValidateServiceName(service); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName(service))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: last-known-good: %w", err)
	}
	defer f.Close()
	b, err := Open(f, trust, append(slices.Clip(opts), WithService(service))...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
