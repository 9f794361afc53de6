package xacmlfn

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// translateRegexp rewrites an XPath regular expression (XML Schema Part 2
// Appendix F plus the fn:matches extensions: '^' and '$' anchors,
// reluctant quantifiers, non-capturing groups) as RE2 syntax with the same
// meaning, for regexp-match, which XACML 3.0 defines as fn:matches without
// flags.
//
// Differences handled: '.' excludes CR as well as LF; \d, \w, \s, \i, \c and
// their complements use the XML Schema sets, not RE2's ASCII ones;
// character-class subtraction and Unicode block escapes (\p{IsBasicLatin})
// are computed as explicit sets. Back-references have no RE2 equivalent and
// are refused with ErrUnsupported.
func translateRegexp(pattern string) (string, error) {
	if !utf8.ValidString(pattern) {
		return "", fmt.Errorf("%w: regular expression is not valid UTF-8", ErrSyntax)
	}
	t := regexpTranslator{src: pattern}
	t.out.Grow(len(pattern) + 8)
	if err := t.regExp(0); err != nil {
		return "", fmt.Errorf("regular expression %q: %w", pattern, err)
	}
	if t.pos != len(t.src) {
		return "", fmt.Errorf("regular expression %q: %w: unbalanced ')' at offset %d", pattern, ErrSyntax, t.pos)
	}
	return t.out.String(), nil
}

type regexpTranslator struct {
	src string
	pos int
	out strings.Builder
}

func (t *regexpTranslator) peek() (rune, int) {
	if t.pos >= len(t.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(t.src[t.pos:])
}

func (t *regexpTranslator) errorf(class error, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", class, fmt.Sprintf(format, args...), t.pos)
}

// regExp ::= branch ('|' branch)*
func (t *regexpTranslator) regExp(depth int) error {
	for {
		if err := t.branch(depth); err != nil {
			return err
		}
		if r, _ := t.peek(); r != '|' {
			return nil
		}
		t.pos++
		t.out.WriteByte('|')
	}
}

// branch ::= piece*
func (t *regexpTranslator) branch(depth int) error {
	for {
		r, _ := t.peek()
		if r == -1 || r == '|' || r == ')' {
			if r == ')' && depth == 0 {
				return t.errorf(ErrSyntax, "unbalanced ')'")
			}
			return nil
		}
		if err := t.piece(depth); err != nil {
			return err
		}
	}
}

// piece ::= atom quantifier?
func (t *regexpTranslator) piece(depth int) error {
	if err := t.atom(depth); err != nil {
		return err
	}
	r, _ := t.peek()
	switch r {
	case '?', '*', '+':
		t.pos++
		t.out.WriteRune(r)
	case '{':
		if err := t.quantity(); err != nil {
			return err
		}
	default:
		return nil
	}
	if r, _ := t.peek(); r == '?' { // reluctant
		t.pos++
		t.out.WriteByte('?')
	}
	return nil
}

// quantity ::= '{' n (',' m?)? '}'
func (t *regexpTranslator) quantity() error {
	end := strings.IndexByte(t.src[t.pos:], '}')
	if end < 0 {
		return t.errorf(ErrSyntax, "unterminated quantifier")
	}
	body := t.src[t.pos+1 : t.pos+end]
	lo, hi, comma := strings.Cut(body, ",")
	n, err := strconv.Atoi(lo)
	if err != nil || n < 0 || !allDigits(lo) {
		return t.errorf(ErrSyntax, "bad quantifier {%s}", body)
	}
	if comma && hi != "" {
		m, err := strconv.Atoi(hi)
		if err != nil || !allDigits(hi) || m < n {
			return t.errorf(ErrSyntax, "bad quantifier {%s}", body)
		}
	}
	t.out.WriteString(t.src[t.pos : t.pos+end+1])
	t.pos += end + 1
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// atom ::= normal char | '.' | '^' | '$' | escape | class | '(' regExp ')'
func (t *regexpTranslator) atom(depth int) error {
	r, size := t.peek()
	switch r {
	case '(':
		t.pos++
		if strings.HasPrefix(t.src[t.pos:], "?:") {
			t.pos += 2
			t.out.WriteString("(?:")
		} else {
			t.out.WriteByte('(')
		}
		if err := t.regExp(depth + 1); err != nil {
			return err
		}
		if r, _ := t.peek(); r != ')' {
			return t.errorf(ErrSyntax, "missing ')'")
		}
		t.pos++
		t.out.WriteByte(')')
	case '.':
		t.pos++
		t.out.WriteString(`[^\n\r]`)
	case '^', '$':
		t.pos++
		t.out.WriteRune(r)
	case '\\':
		set, single, err := t.escape()
		if err != nil {
			return err
		}
		if set != nil {
			t.out.WriteString(set.goClass())
		} else {
			t.out.WriteString(regexp.QuoteMeta(string(single)))
		}
	case '[':
		t.pos++
		set, err := t.class()
		if err != nil {
			return err
		}
		t.out.WriteString(set.goClass())
	case '?', '*', '+', '{':
		return t.errorf(ErrSyntax, "quantifier %q without an atom", r)
	case '}', ']':
		return t.errorf(ErrSyntax, "unescaped %q", r)
	default:
		t.pos += size
		t.out.WriteString(regexp.QuoteMeta(string(r)))
	}
	return nil
}

// escape reads a backslash escape and returns either a set (multi-character
// and category escapes) or a single character.
func (t *regexpTranslator) escape() (runeSet, rune, error) {
	t.pos++ // '\'
	r, size := t.peek()
	if r == -1 {
		return nil, 0, t.errorf(ErrSyntax, "trailing backslash")
	}
	t.pos += size
	switch r {
	case 'n':
		return nil, '\n', nil
	case 'r':
		return nil, '\r', nil
	case 't':
		return nil, '\t', nil
	case '\\', '|', '.', '?', '*', '+', '(', ')', '{', '}', '-', '[', ']', '^', '$':
		return nil, r, nil
	case 's', 'S', 'i', 'I', 'c', 'C', 'd', 'D', 'w', 'W':
		set := multiCharEscape(unicode.ToLower(r))
		if unicode.IsUpper(r) {
			set = set.complement()
		}
		return set, 0, nil
	case 'p', 'P':
		if r, _ := t.peek(); r != '{' {
			return nil, 0, t.errorf(ErrSyntax, `\%c without {name}`, r)
		}
		end := strings.IndexByte(t.src[t.pos:], '}')
		if end < 0 {
			return nil, 0, t.errorf(ErrSyntax, "unterminated \\%c{", r)
		}
		name := t.src[t.pos+1 : t.pos+end]
		t.pos += end + 1
		set, err := categoryEscape(name)
		if err != nil {
			return nil, 0, fmt.Errorf("%w at offset %d", err, t.pos)
		}
		if r == 'P' {
			set = set.complement()
		}
		return set, 0, nil
	}
	if r >= '1' && r <= '9' {
		return nil, 0, t.errorf(ErrUnsupported, "back-reference \\%c (RE2 has no back-references)", r)
	}
	return nil, 0, t.errorf(ErrSyntax, "unknown escape \\%c", r)
}

// class reads a character class after its '[', up to and including ']':
// '^'? items ('-' '[' class)? ']'.
func (t *regexpTranslator) class() (runeSet, error) {
	neg := false
	if r, _ := t.peek(); r == '^' {
		neg = true
		t.pos++
	}
	var set runeSet
	var sub runeSet
	first := true
	for {
		r, size := t.peek()
		switch {
		case r == -1:
			return nil, t.errorf(ErrSyntax, "unterminated character class")
		case r == ']' && first:
			return nil, t.errorf(ErrSyntax, "empty character class")
		case r == ']' && !first:
			t.pos++
			set = set.normalize()
			if neg {
				set = set.complement()
			}
			if sub != nil {
				set = set.subtract(sub)
			}
			return set, nil
		case r == '-' && strings.HasPrefix(t.src[t.pos:], "-["):
			if first {
				return nil, t.errorf(ErrSyntax, "empty class before subtraction")
			}
			t.pos += 2
			s, err := t.class()
			if err != nil {
				return nil, err
			}
			if r, _ := t.peek(); r != ']' {
				return nil, t.errorf(ErrSyntax, "subtraction must end the class")
			}
			sub = s.normalize()
			continue
		case r == '[':
			return nil, t.errorf(ErrSyntax, "unescaped '[' in character class")
		case r == '-' && !first && !strings.HasPrefix(t.src[t.pos:], "-]"):
			return nil, t.errorf(ErrSyntax, "unescaped '-' inside character class")
		}
		first = false
		var lo rune
		if r == '\\' {
			esc, single, err := t.escape()
			if err != nil {
				return nil, err
			}
			if esc != nil {
				set = append(set, esc...)
				continue
			}
			lo = single
		} else {
			t.pos += size
			lo = r
		}
		// A range lo-hi, unless the '-' closes the class or starts a
		// subtraction.
		if strings.HasPrefix(t.src[t.pos:], "-") && !strings.HasPrefix(t.src[t.pos:], "-]") && !strings.HasPrefix(t.src[t.pos:], "-[") {
			t.pos++
			hr, hsize := t.peek()
			var hi rune
			switch hr {
			case -1:
				return nil, t.errorf(ErrSyntax, "unterminated range")
			case '\\':
				esc, single, err := t.escape()
				if err != nil {
					return nil, err
				}
				if esc != nil {
					return nil, t.errorf(ErrSyntax, "multi-character escape as range end")
				}
				hi = single
			case '[', ']', '-':
				return nil, t.errorf(ErrSyntax, "bad range end %q", hr)
			default:
				t.pos += hsize
				hi = hr
			}
			if hi < lo {
				return nil, t.errorf(ErrSyntax, "range %q-%q out of order", lo, hi)
			}
			set = append(set, runeRange{lo, hi})
			continue
		}
		set = append(set, runeRange{lo, lo})
	}
}

// multiCharEscape returns the XML Schema set for \s, \i, \c, \d, \w.
func multiCharEscape(r rune) runeSet {
	switch r {
	case 's':
		return runeSet{{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}}
	case 'i':
		return nameStartChars()
	case 'c':
		return nameStartChars().union(runeSet{
			{'-', '.'}, {'0', '9'}, {0xB7, 0xB7}, {0x300, 0x36F}, {0x203F, 0x2040},
		})
	case 'd':
		return fromTable(unicode.Nd)
	default: // 'w': everything but punctuation, separators and "other"
		return fromTable(unicode.P).union(fromTable(unicode.Z)).union(fromTable(unicode.C)).complement()
	}
}

// nameStartChars is the XML 1.0 (fifth edition) NameStartChar production,
// used for \i; XML Schema 1.0 refers to XML 1.0's Letter | '_' | ':', which
// later editions of XML replaced by this simpler range list.
func nameStartChars() runeSet {
	return runeSet{
		{':', ':'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}, {0xC0, 0xD6}, {0xD8, 0xF6},
		{0xF8, 0x2FF}, {0x370, 0x37D}, {0x37F, 0x1FFF}, {0x200C, 0x200D},
		{0x2070, 0x218F}, {0x2C00, 0x2FEF}, {0x3001, 0xD7FF}, {0xF900, 0xFDCF},
		{0xFDF0, 0xFFFD}, {0x10000, 0xEFFFF},
	}.normalize()
}

// categoryEscape resolves the name in \p{name}: a general category or an
// "Is" Unicode block. Go's tables include Cn, and its C includes Cn as XML
// Schema's does, so categories map directly.
func categoryEscape(name string) (runeSet, error) {
	if strings.HasPrefix(name, "Is") {
		ranges, ok := unicodeBlock(name[2:])
		if !ok {
			return nil, fmt.Errorf("%w: unknown Unicode block %q", ErrUnsupported, name)
		}
		return ranges, nil
	}
	if len(name) <= 2 {
		if table, ok := unicode.Categories[name]; ok {
			return fromTable(table), nil
		}
	}
	return nil, fmt.Errorf("%w: unknown character category %q", ErrSyntax, name)
}

// unicodeBlock returns the code points of the Unicode blocks XML Schema 1.0
// names (Unicode 3.1 block names without spaces).
func unicodeBlock(name string) (runeSet, bool) {
	r := func(lo, hi rune) (runeSet, bool) { return runeSet{{lo, hi}}, true }
	switch name {
	case "BasicLatin":
		return r(0x0000, 0x007F)
	case "Latin-1Supplement":
		return r(0x0080, 0x00FF)
	case "LatinExtended-A":
		return r(0x0100, 0x017F)
	case "LatinExtended-B":
		return r(0x0180, 0x024F)
	case "IPAExtensions":
		return r(0x0250, 0x02AF)
	case "SpacingModifierLetters":
		return r(0x02B0, 0x02FF)
	case "CombiningDiacriticalMarks":
		return r(0x0300, 0x036F)
	case "Greek":
		return r(0x0370, 0x03FF)
	case "Cyrillic":
		return r(0x0400, 0x04FF)
	case "Armenian":
		return r(0x0530, 0x058F)
	case "Hebrew":
		return r(0x0590, 0x05FF)
	case "Arabic":
		return r(0x0600, 0x06FF)
	case "Syriac":
		return r(0x0700, 0x074F)
	case "Thaana":
		return r(0x0780, 0x07BF)
	case "Devanagari":
		return r(0x0900, 0x097F)
	case "Bengali":
		return r(0x0980, 0x09FF)
	case "Gurmukhi":
		return r(0x0A00, 0x0A7F)
	case "Gujarati":
		return r(0x0A80, 0x0AFF)
	case "Oriya":
		return r(0x0B00, 0x0B7F)
	case "Tamil":
		return r(0x0B80, 0x0BFF)
	case "Telugu":
		return r(0x0C00, 0x0C7F)
	case "Kannada":
		return r(0x0C80, 0x0CFF)
	case "Malayalam":
		return r(0x0D00, 0x0D7F)
	case "Sinhala":
		return r(0x0D80, 0x0DFF)
	case "Thai":
		return r(0x0E00, 0x0E7F)
	case "Lao":
		return r(0x0E80, 0x0EFF)
	case "Tibetan":
		return r(0x0F00, 0x0FFF)
	case "Myanmar":
		return r(0x1000, 0x109F)
	case "Georgian":
		return r(0x10A0, 0x10FF)
	case "HangulJamo":
		return r(0x1100, 0x11FF)
	case "Ethiopic":
		return r(0x1200, 0x137F)
	case "Cherokee":
		return r(0x13A0, 0x13FF)
	case "UnifiedCanadianAboriginalSyllabics":
		return r(0x1400, 0x167F)
	case "Ogham":
		return r(0x1680, 0x169F)
	case "Runic":
		return r(0x16A0, 0x16FF)
	case "Khmer":
		return r(0x1780, 0x17FF)
	case "Mongolian":
		return r(0x1800, 0x18AF)
	case "LatinExtendedAdditional":
		return r(0x1E00, 0x1EFF)
	case "GreekExtended":
		return r(0x1F00, 0x1FFF)
	case "GeneralPunctuation":
		return r(0x2000, 0x206F)
	case "SuperscriptsandSubscripts":
		return r(0x2070, 0x209F)
	case "CurrencySymbols":
		return r(0x20A0, 0x20CF)
	case "CombiningMarksforSymbols":
		return r(0x20D0, 0x20FF)
	case "LetterlikeSymbols":
		return r(0x2100, 0x214F)
	case "NumberForms":
		return r(0x2150, 0x218F)
	case "Arrows":
		return r(0x2190, 0x21FF)
	case "MathematicalOperators":
		return r(0x2200, 0x22FF)
	case "MiscellaneousTechnical":
		return r(0x2300, 0x23FF)
	case "ControlPictures":
		return r(0x2400, 0x243F)
	case "OpticalCharacterRecognition":
		return r(0x2440, 0x245F)
	case "EnclosedAlphanumerics":
		return r(0x2460, 0x24FF)
	case "BoxDrawing":
		return r(0x2500, 0x257F)
	case "BlockElements":
		return r(0x2580, 0x259F)
	case "GeometricShapes":
		return r(0x25A0, 0x25FF)
	case "MiscellaneousSymbols":
		return r(0x2600, 0x26FF)
	case "Dingbats":
		return r(0x2700, 0x27BF)
	case "BraillePatterns":
		return r(0x2800, 0x28FF)
	case "CJKRadicalsSupplement":
		return r(0x2E80, 0x2EFF)
	case "KangxiRadicals":
		return r(0x2F00, 0x2FDF)
	case "IdeographicDescriptionCharacters":
		return r(0x2FF0, 0x2FFF)
	case "CJKSymbolsandPunctuation":
		return r(0x3000, 0x303F)
	case "Hiragana":
		return r(0x3040, 0x309F)
	case "Katakana":
		return r(0x30A0, 0x30FF)
	case "Bopomofo":
		return r(0x3100, 0x312F)
	case "HangulCompatibilityJamo":
		return r(0x3130, 0x318F)
	case "Kanbun":
		return r(0x3190, 0x319F)
	case "BopomofoExtended":
		return r(0x31A0, 0x31BF)
	case "EnclosedCJKLettersandMonths":
		return r(0x3200, 0x32FF)
	case "CJKCompatibility":
		return r(0x3300, 0x33FF)
	case "CJKUnifiedIdeographsExtensionA":
		return r(0x3400, 0x4DB5)
	case "CJKUnifiedIdeographs":
		return r(0x4E00, 0x9FFF)
	case "YiSyllables":
		return r(0xA000, 0xA48F)
	case "YiRadicals":
		return r(0xA490, 0xA4CF)
	case "HangulSyllables":
		return r(0xAC00, 0xD7A3)
	case "HighSurrogates":
		return r(0xD800, 0xDB7F)
	case "HighPrivateUseSurrogates":
		return r(0xDB80, 0xDBFF)
	case "LowSurrogates":
		return r(0xDC00, 0xDFFF)
	case "PrivateUse":
		// XML Schema 1.0 second edition: the BMP area and planes 15-16.
		return runeSet{{0xE000, 0xF8FF}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD}}, true
	case "CJKCompatibilityIdeographs":
		return r(0xF900, 0xFAFF)
	case "AlphabeticPresentationForms":
		return r(0xFB00, 0xFB4F)
	case "ArabicPresentationForms-A":
		return r(0xFB50, 0xFDFF)
	case "CombiningHalfMarks":
		return r(0xFE20, 0xFE2F)
	case "CJKCompatibilityForms":
		return r(0xFE30, 0xFE4F)
	case "SmallFormVariants":
		return r(0xFE50, 0xFE6F)
	case "ArabicPresentationForms-B":
		return r(0xFE70, 0xFEFE)
	case "Specials":
		return runeSet{{0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFD}}, true
	case "HalfwidthandFullwidthForms":
		return r(0xFF00, 0xFFEF)
	case "OldItalic":
		return r(0x10300, 0x1032F)
	case "Gothic":
		return r(0x10330, 0x1034F)
	case "Deseret":
		return r(0x10400, 0x1044F)
	case "ByzantineMusicalSymbols":
		return r(0x1D000, 0x1D0FF)
	case "MusicalSymbols":
		return r(0x1D100, 0x1D1FF)
	case "MathematicalAlphanumericSymbols":
		return r(0x1D400, 0x1D7FF)
	case "CJKUnifiedIdeographsExtensionB":
		return r(0x20000, 0x2A6D6)
	case "CJKCompatibilityIdeographsSupplement":
		return r(0x2F800, 0x2FA1F)
	case "Tags":
		return r(0xE0000, 0xE007F)
	}
	return nil, false
}

// compileRegexp translates and compiles an XPath regular expression.
func compileRegexp(pattern string) (*regexp.Regexp, error) {
	goPattern, err := translateRegexp(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(goPattern)
	if err != nil {
		var serr *syntax.Error
		if errors.As(err, &serr) && (serr.Code == syntax.ErrLarge || serr.Code == syntax.ErrInvalidRepeatSize) {
			return nil, fmt.Errorf("regular expression %q: %w: %w", pattern, ErrUnsupported, err)
		}
		return nil, fmt.Errorf("regular expression %q: %w: %w", pattern, ErrSyntax, err)
	}
	return re, nil
}
