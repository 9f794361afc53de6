package xacml

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParseFile reads one policy file, choosing the syntax by extension:
// .xml is XACML 3.0 XML, .yaml and .yml the YAML form.
func ParseFile(path string) (Evaluable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xml":
		return ParseXML(path, data)
	case ".yaml", ".yml":
		return ParseYAML(path, data)
	}
	return nil, newError(Pos{File: path}, ErrSyntax, "unknown policy file extension (want .xml, .yaml or .yml)")
}

// IsPolicyFileName reports whether LoadPaths loads a file of this name when
// it finds it in a directory: .xml, .yaml and .yml files, except policy
// test files (*_test.yaml, *_test.yml, *.test.yaml, *.test.yml) and PDP
// configurations (pdp.yaml), which live next to policies. Hidden files
// (".name") are skipped too.
func IsPolicyFileName(name string) bool {
	base := strings.ToLower(filepath.Base(name))
	if strings.HasPrefix(base, ".") {
		return false
	}
	switch {
	case strings.HasSuffix(base, "_test.yaml"), strings.HasSuffix(base, "_test.yml"),
		strings.HasSuffix(base, ".test.yaml"), strings.HasSuffix(base, ".test.yml"),
		base == "pdp.yaml", base == "pdp.yml":
		return false
	}
	switch filepath.Ext(base) {
	case ".xml", ".yaml", ".yml":
		return true
	}
	return false
}

// LoadPaths loads policy files and directories. A file named explicitly is
// always parsed. A directory is walked recursively (hidden directories
// skipped, files in lexical order) and its files are loaded when
// IsPolicyFileName accepts their name; an XML file whose root element is an
// XACML <Request> or <Response> is skipped as well, so that examples can sit
// next to the policies they exercise. Every problem in every file is
// reported, the first one first.
func LoadPaths(paths ...string) ([]Evaluable, error) {
	var out []Evaluable
	var errs errorList
	load := func(path string, explicit bool) {
		if !explicit && strings.EqualFold(filepath.Ext(path), ".xml") {
			data, err := os.ReadFile(path)
			if err != nil {
				errs.addErr(fileError(path, err))
				return
			}
			root, err := readXMLTree(path, data)
			if err != nil {
				errs.addErr(err)
				return
			}
			if isXACMLSpace(root.name.Space) && (root.name.Local == "Request" || root.name.Local == "Response") {
				return
			}
			e, err := policyFromXMLTree(path, root)
			if err != nil {
				errs.addErr(err)
				return
			}
			out = append(out, e)
			return
		}
		e, err := ParseFile(path)
		if err != nil {
			errs.addErr(err)
			return
		}
		out = append(out, e)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs.addErr(fileError(p, err))
			continue
		}
		if !st.IsDir() {
			load(p, true)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs.addErr(fileError(path, err))
				return nil
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if IsPolicyFileName(d.Name()) {
				load(path, false)
			}
			return nil
		})
		if err != nil {
			errs.addErr(fileError(p, err))
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// fileError reports a file system error as "PATH: reason" without
// repeating the path the operating system error already names.
func fileError(path string, err error) error {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	return &Error{Pos: Pos{File: path}, Msg: msg, Cause: err}
}
