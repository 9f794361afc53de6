package xacmlfn

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// conformanceDir finds ../shared/conformance as DESIGN.md prescribes:
// VERDICT_CONFORMANCE_DIR when set (and then it must exist), otherwise next
// to the repository root, skipping only when that folder is absent.
func conformanceDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("VERDICT_CONFORMANCE_DIR"); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("VERDICT_CONFORMANCE_DIR: %v", err)
		}
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(filepath.Dir(d), "shared", "conformance")
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("no conformance data at %s (a clone without ../shared)", dir)
			}
			return dir
		}
		if filepath.Dir(d) == d {
			t.Skip("no go.mod above the test directory, so no ../shared/conformance")
		}
	}
}

// TestConformanceValues reads every AttributeValue and AttributeAssignment of
// the XACML conformance cases (policies, requests, expected responses) and
// checks that Value accepts it and that Lexical prints it back.
func TestConformanceValues(t *testing.T) {
	root := filepath.Join(conformanceDir(t), "xacml3")
	var files []string
	for _, pattern := range []string{"*/*.xml", "*/*.xml.ignore", "*/Policies/*.xml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no case files under %s", root)
	}
	count := 0
	for _, f := range files {
		data, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(data)
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			se, ok := tok.(xml.StartElement)
			if !ok || (se.Name.Local != "AttributeValue" && se.Name.Local != "AttributeAssignment") {
				continue
			}
			var typeURI, text string
			for _, a := range se.Attr {
				if a.Name.Local == "DataType" {
					typeURI = a.Value
				}
			}
			if err := dec.DecodeElement(&text, &se); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			short, ok := ShortType(typeURI)
			if !ok {
				continue // XPath expressions and the like: not primitive values
			}
			count++
			v, err := Value(short, text)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if _, err := Lexical(short, v); err != nil {
				t.Errorf("%s: Lexical(%s, %v): %v", f, short, v, err)
			}
		}
		data.Close()
	}
	if count < 100 {
		t.Errorf("read only %d values; the case layout may have changed", count)
	}
}
