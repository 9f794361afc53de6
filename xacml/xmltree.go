package xacml

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Namespace is the XACML 3.0 core schema namespace. Parsers accept elements
// in it (under any prefix) or in no namespace; writers emit it as default.
const Namespace = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"

// Earlier XACML namespaces, recognised only to say that they are unsupported.
const (
	namespaceXACML2 = "urn:oasis:names:tc:xacml:2.0:policy:schema:os"
	namespaceXACML1 = "urn:oasis:names:tc:xacml:1.0:policy"
	namespaceCtx2   = "urn:oasis:names:tc:xacml:2.0:context:schema:os"
)

// maxXMLDepth bounds element nesting, so that hostile input cannot exhaust
// the stack of the recursive conversion to the model.
const maxXMLDepth = 256

// xmlNode is an element read into memory with its line, so that the
// conversion to the model can look at children in any order and still name
// the line of each element in errors.
type xmlNode struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*xmlNode
	text     strings.Builder // character data directly inside this element
	line     int
}

// pos returns the position of the element in file.
func (n *xmlNode) pos(file string) Pos {
	return Pos{File: file, Line: n.line, Element: n.name.Local}
}

// attr returns the value of the unqualified attribute local.
func (n *xmlNode) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// readXMLTree parses data into an element tree. Comments, processing
// instructions and the document type are dropped; character data is kept
// per element exactly as decoded (entities and CDATA resolved).
func readXMLTree(file string, data []byte) (*xmlNode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charsetReader
	var root *xmlNode
	var stack []*xmlNode
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			open := ""
			if len(stack) > 0 {
				open = stack[len(stack)-1].name.Local
			}
			return nil, xmlSyntaxError(file, d, open, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, newError(Pos{File: file, Line: line, Element: t.Name.Local}, ErrSyntax, "elements nested more than %d deep", maxXMLDepth)
			}
			n := &xmlNode{name: t.Name, attrs: t.Attr, line: line}
			if len(stack) == 0 {
				if root != nil {
					return nil, newError(n.pos(file), ErrSyntax, "more than one root element")
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, newError(Pos{File: file, Line: line}, ErrSyntax, "text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, newError(Pos{File: file, Line: 1}, ErrSyntax, "no root element")
	}
	return root, nil
}

// xmlSyntaxError converts an encoding/xml error into an *Error with the
// line it names and the innermost element open at that point.
func xmlSyntaxError(file string, d *xml.Decoder, open string, err error) error {
	line, _ := d.InputPos()
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, msg = se.Line, se.Msg
	}
	e := newError(Pos{File: file, Line: line, Element: open}, ErrSyntax, "malformed XML: %s", msg)
	e.Cause = err
	return e
}

// charsetReader decodes the two single-byte encodings XACML documents are
// sometimes declared in; encoding/xml handles UTF-8 itself.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii":
		return latin1Reader{bufio.NewReader(input)}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (use UTF-8)", charset)
}

// latin1Reader transcodes ISO-8859-1 (a superset of US-ASCII) to UTF-8.
type latin1Reader struct{ r *bufio.Reader }

// Read implements io.Reader, writing at most len(p)/4 input bytes so that
// every transcoded rune fits.
func (l latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n+utf8.UTFMax <= len(p) {
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n += utf8.EncodeRune(p[n:], rune(b))
	}
	if n == 0 && len(p) > 0 {
		return 0, io.ErrShortBuffer
	}
	return n, nil
}

// xmlElements checks that every child of n is an XACML element and one of
// allowed, reporting the others; it returns the children grouped by local name.
func xmlElements(file string, n *xmlNode, errs *errorList, allowed ...string) map[string][]*xmlNode {
	out := map[string][]*xmlNode{}
	for _, c := range n.children {
		if !isXACMLSpace(c.name.Space) {
			errs.add(c.pos(file), ErrSyntax, "element <%s> in namespace %q is not allowed in <%s>", c.name.Local, c.name.Space, n.name.Local)
			continue
		}
		found := false
		for _, a := range allowed {
			if a == c.name.Local {
				found = true
				break
			}
		}
		if !found {
			errs.add(c.pos(file), ErrSyntax, "unexpected element <%s> in <%s>", c.name.Local, n.name.Local)
			continue
		}
		out[c.name.Local] = append(out[c.name.Local], c)
	}
	return out
}

// isXACMLSpace accepts the XACML 3.0 namespace and no namespace at all
// (documents written without xmlns).
func isXACMLSpace(space string) bool { return space == Namespace || space == "" }

// xmlAttrs checks that n carries no unqualified attribute outside allowed
// (namespace declarations and qualified attributes such as
// xsi:schemaLocation are ignored) and returns the allowed ones.
func xmlAttrs(file string, n *xmlNode, errs *errorList, allowed ...string) map[string]string {
	out := map[string]string{}
	for _, a := range n.attrs {
		if a.Name.Space != "" || a.Name.Local == "xmlns" {
			continue
		}
		found := false
		for _, name := range allowed {
			if name == a.Name.Local {
				found = true
				break
			}
		}
		if !found {
			errs.add(n.pos(file), ErrSyntax, "unexpected attribute %s", a.Name.Local)
			continue
		}
		out[a.Name.Local] = a.Value
	}
	return out
}

// xmlBool parses an xs:boolean attribute; missing means def.
func xmlBool(file string, n *xmlNode, attrs map[string]string, name string, def bool, errs *errorList) bool {
	v, ok := attrs[name]
	if !ok {
		return def
	}
	switch strings.Trim(v, xmlSpace) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	errs.add(n.pos(file), ErrSyntax, "%s=%q is not a boolean (true or false)", name, v)
	return def
}

// onlyChild returns the single child named name, reporting duplicates.
func onlyChild(file string, parent *xmlNode, kids map[string][]*xmlNode, name string, errs *errorList) *xmlNode {
	list := kids[name]
	if len(list) == 0 {
		return nil
	}
	if len(list) > 1 {
		errs.add(list[1].pos(file), ErrSyntax, "<%s> may contain only one <%s>", parent.name.Local, name)
	}
	return list[0]
}
