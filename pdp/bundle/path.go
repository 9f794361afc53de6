package bundle

import (
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"
)

// Names of the fixed archive entries and prefixes of the file entries.
const (
	manifestEntry  = "manifest.json"
	signatureEntry = "manifest.sig"
	dataDir        = "data/"
	regoDir        = "rego/"
	sourceDir      = "source/"
)

// maxPathLen bounds a file's path inside its directory, which keeps
// manifests small and every path representable on every file system.
const maxPathLen = 256

// checkRelPath refuses paths that are not plain relative slash paths: empty,
// absolute, with "." or ".." or empty elements, backslashes, control
// characters or invalid UTF-8. Such names would let a consumer that writes
// the files out (audit, replay) escape its directory.
func checkRelPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty path")
	case len(p) > maxPathLen:
		return fmt.Errorf("path %.40q... is %d bytes, longer than %d", p, len(p), maxPathLen)
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q is not valid UTF-8", p)
	case strings.ContainsRune(p, '\\'):
		return fmt.Errorf("path %q contains a backslash", p)
	case !fs.ValidPath(p) || p == ".":
		return fmt.Errorf("path %q is not a clean relative path", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("path %q contains a control character", p)
		}
	}
	return nil
}

// checkEntryName checks the archive name of a file entry: a known
// directory, a clean relative path, and the extension its directory needs.
func checkEntryName(name string) error {
	dir, rel, ok := splitEntryName(name)
	if !ok {
		return fmt.Errorf("entry %q is outside %s, %s and %s", name, dataDir, regoDir, sourceDir)
	}
	if err := checkRelPath(rel); err != nil {
		return err
	}
	switch {
	case dir == regoDir && !strings.HasSuffix(rel, ".rego"):
		return fmt.Errorf("module %q does not end in .rego", rel)
	case dir == dataDir && !strings.HasSuffix(rel, ".json"):
		return fmt.Errorf("data document %q does not end in .json", rel)
	}
	return nil
}

// splitEntryName splits an archive name into its directory prefix and the
// path inside it.
func splitEntryName(name string) (dir, rel string, ok bool) {
	for _, d := range [...]string{dataDir, regoDir, sourceDir} {
		if r, found := strings.CutPrefix(name, d); found {
			return d, r, true
		}
	}
	return "", "", false
}
