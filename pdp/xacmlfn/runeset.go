package xacmlfn

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// runeSet is a set of code points as sorted, disjoint, non-adjacent ranges.
// XML Schema character classes support subtraction ([a-z-[aeiou]]) and
// Unicode blocks, which RE2 has no syntax for, so classes are computed as
// sets and emitted as explicit ranges.
type runeSet []runeRange

type runeRange struct{ lo, hi rune }

// normalize sorts and merges overlapping or adjacent ranges.
func (s runeSet) normalize() runeSet {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, func(a, b runeRange) int { return int(a.lo - b.lo) })
	out := s[:1]
	for _, r := range s[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			if r.hi > last.hi {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s runeSet) union(o runeSet) runeSet {
	out := make(runeSet, 0, len(s)+len(o))
	out = append(out, s...)
	out = append(out, o...)
	return out.normalize()
}

// complement returns every code point not in s (s must be normalised).
func (s runeSet) complement() runeSet {
	var out runeSet
	next := rune(0)
	for _, r := range s {
		if r.lo > next {
			out = append(out, runeRange{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, runeRange{next, unicode.MaxRune})
	}
	return out
}

// subtract returns s without the code points of o (both normalised).
func (s runeSet) subtract(o runeSet) runeSet {
	return s.union(nil).intersect(o.complement())
}

func (s runeSet) intersect(o runeSet) runeSet {
	var out runeSet
	i, j := 0, 0
	for i < len(s) && j < len(o) {
		lo := max(s[i].lo, o[j].lo)
		hi := min(s[i].hi, o[j].hi)
		if lo <= hi {
			out = append(out, runeRange{lo, hi})
		}
		if s[i].hi < o[j].hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// fromTable converts a Unicode range table.
func fromTable(t *unicode.RangeTable) runeSet {
	var out runeSet
	for _, r := range t.R16 {
		out = appendStride(out, rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	for _, r := range t.R32 {
		out = appendStride(out, rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	return out.normalize()
}

func appendStride(out runeSet, lo, hi, stride rune) runeSet {
	if stride == 1 {
		return append(out, runeRange{lo, hi})
	}
	for c := lo; c <= hi; c += stride {
		out = append(out, runeRange{c, c})
	}
	return out
}

// goClass prints s as an RE2 bracket expression. Surrogate code points
// cannot occur in Go strings and are left out; an empty set becomes a class
// that matches nothing.
func (s runeSet) goClass() string {
	s = s.intersect(runeSet{{0, 0xD7FF}, {0xE000, unicode.MaxRune}})
	if len(s) == 0 {
		return `[^\x00-\x{10FFFF}]`
	}
	var b strings.Builder
	b.WriteByte('[')
	for _, r := range s {
		writeClassRune(&b, r.lo)
		if r.hi != r.lo {
			b.WriteByte('-')
			writeClassRune(&b, r.hi)
		}
	}
	b.WriteByte(']')
	return b.String()
}

func writeClassRune(b *strings.Builder, r rune) {
	if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		b.WriteRune(r)
		return
	}
	b.WriteString(`\x{`)
	b.WriteString(strconv.FormatInt(int64(r), 16))
	b.WriteByte('}')
}
