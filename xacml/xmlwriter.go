package xacml

import (
	"encoding/xml"
	"strings"
)

// xmlWriter builds an indented XML document. Text and attribute values are
// escaped with encoding/xml, which also escapes tab, CR and LF as character
// references, so whitespace inside values survives a parse unchanged.
type xmlWriter struct {
	b     strings.Builder
	depth int
}

func (x *xmlWriter) indent() {
	for range x.depth {
		x.b.WriteString("  ")
	}
}

func (x *xmlWriter) escape(s string) {
	_ = xml.EscapeText(&x.b, []byte(s)) // writing to a strings.Builder cannot fail
}

// tag writes "<name a="v" ...", leaving out attributes whose value is
// empty unless their name is marked with a leading "!" (for attributes
// whose absence means something else than an empty value).
func (x *xmlWriter) tag(name string, attrs []string) {
	x.indent()
	x.b.WriteByte('<')
	x.b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		attr, always := strings.CutPrefix(attrs[i], "!")
		if attrs[i+1] == "" && !always {
			continue
		}
		x.b.WriteByte(' ')
		x.b.WriteString(attr)
		x.b.WriteString(`="`)
		x.escape(attrs[i+1])
		x.b.WriteByte('"')
	}
}

// open writes a start tag on its own line and indents what follows.
func (x *xmlWriter) open(name string, attrs ...string) {
	x.tag(name, attrs)
	x.b.WriteString(">\n")
	x.depth++
}

// close writes the end tag matching the last open.
func (x *xmlWriter) close(name string) {
	x.depth--
	x.indent()
	x.b.WriteString("</" + name + ">\n")
}

// empty writes an element without content.
func (x *xmlWriter) empty(name string, attrs ...string) {
	x.tag(name, attrs)
	x.b.WriteString("/>\n")
}

// leaf writes an element whose content is exactly text.
func (x *xmlWriter) leaf(name, text string, attrs ...string) {
	x.tag(name, attrs)
	x.b.WriteByte('>')
	x.escape(text)
	x.b.WriteString("</" + name + ">\n")
}
