package xacml

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/integration/conformance"
)

// normalized returns a copy-free view for comparison: it zeroes every Pos
// and turns empty slices and maps into nil, in place.
func normalized(v any) any {
	normalizeValue(reflect.ValueOf(v))
	return v
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normalizeValue(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if f.Type() == reflect.TypeFor[Pos]() {
				f.Set(reflect.Zero(f.Type()))
				continue
			}
			normalizeValue(f)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalizeValue(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
	}
}

// sameModel compares two models ignoring positions.
func sameModel(a, b Evaluable) bool {
	return reflect.DeepEqual(normalized(a), normalized(b))
}

// policyFiles lists every policy XML file of the conformance suite.
func policyFiles(t *testing.T) []string {
	var files []string
	for _, c := range conformanceCases(t) {
		files = append(files, c.root)
		files = append(files, c.others...)
	}
	return files
}

func TestRoundTripConformance(t *testing.T) {
	for _, file := range policyFiles(t) {
		name, _ := filepath.Rel(conformance.Dir(t), file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fromXML, err := ParseXML(file, data)
			if err != nil {
				t.Fatal(err)
			}
			var xmlOut bytes.Buffer
			if err := WriteXML(&xmlOut, fromXML); err != nil {
				t.Fatal(err)
			}
			again, err := ParseXML("rewritten.xml", xmlOut.Bytes())
			if err != nil {
				t.Fatalf("parse written XML: %v\n%s", err, xmlOut.String())
			}
			var yamlOut bytes.Buffer
			if err := WriteYAML(&yamlOut, fromXML); err != nil {
				t.Fatal(err)
			}
			fromYAML, err := ParseYAML("converted.yaml", yamlOut.Bytes())
			if err != nil {
				t.Fatalf("parse written YAML: %v\n%s", err, yamlOut.String())
			}
			var yamlAgain bytes.Buffer
			if err := WriteYAML(&yamlAgain, fromYAML); err != nil {
				t.Fatal(err)
			}
			if yamlAgain.String() != yamlOut.String() {
				t.Errorf("YAML → model → YAML changed the text:\n%s\nvs\n%s", yamlOut.String(), yamlAgain.String())
			}
			ref, _ := ParseXML(file, data)
			if !sameModel(ref, again) {
				t.Errorf("XML → model → XML → model differs\n%s", xmlOut.String())
			}
			if !sameModel(ref, fromYAML) {
				t.Errorf("XML → YAML → model differs\n%s", yamlOut.String())
			}
		})
	}
}

// TestLexicalFormsSurvive checks the property the contracts insist on:
// 27.50 stays 27.50 and string whitespace is kept, through both syntaxes.
func TestLexicalFormsSurvive(t *testing.T) {
	src := `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" Version="1.0"
  RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
  <Target/>
  <Rule RuleId="r" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:double-equal">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#double">27.50</AttributeValue>
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#double"> 1.0E3 </AttributeValue>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">   This  is IT!  </AttributeValue>
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">line1
line2&#9;tab</AttributeValue>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-equal">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">007</AttributeValue>
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">+5</AttributeValue>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
</Policy>`
	p, err := ParseXML("lex.xml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	values := func(e Evaluable) []string {
		var out []string
		walkExprs(e, func(x Expr) {
			if v, ok := x.(*AttributeValue); ok {
				out = append(out, v.Value)
			}
		})
		return out
	}
	want := []string{"27.50", "1.0E3", "   This  is IT!  ", "line1\nline2\ttab", "007", "+5"}
	if got := values(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed values %q, want %q", got, want)
	}
	var y bytes.Buffer
	if err := WriteYAML(&y, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(y.String(), "27.50") {
		t.Errorf("YAML lost 27.50:\n%s", y.String())
	}
	fromYAML, err := ParseYAML("lex.yaml", y.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := values(fromYAML); !reflect.DeepEqual(got, want) {
		t.Fatalf("values after YAML %q, want %q\n%s", got, want, y.String())
	}
	var x bytes.Buffer
	if err := WriteXML(&x, fromYAML); err != nil {
		t.Fatal(err)
	}
	back, err := ParseXML("back.xml", x.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := values(back); !reflect.DeepEqual(got, want) {
		t.Fatalf("values after XML %q, want %q\n%s", got, want, x.String())
	}
	if _, err := Check(nil, back, nil); err != nil {
		t.Fatalf("check: %v", err)
	}
}
