package xacmlfn

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/integration/conformance"
)

// TestConformanceValues reads every AttributeValue and AttributeAssignment of
// the XACML conformance cases (policies, requests, expected responses) and
// checks that Value accepts it and that Lexical prints it back.
func TestConformanceValues(t *testing.T) {
	root := filepath.Join(conformance.Dir(t), "xacml3")
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
