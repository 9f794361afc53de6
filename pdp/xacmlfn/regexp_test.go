package xacmlfn

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestRegexpMatchBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		// Conformance cases IIC165 and IIC169.
		{`xacml.regexp_match("string", " *This  is.* IT!  ", "   This  is IT!  ")`, `true`},
		{`xacml.regexp_match("string", " *This  is.* IT!  ", "   This  is also IT!  ")`, `true`},
		{`xacml.regexp_match("string", "   This  is n*o*t* *IT!  ", "   This  is not IT!  ")`, `true`},
		{`xacml.regexp_match("string", "   This  is n*o*t* *IT!  ", "   This  is IT!  ")`, `true`},
		{`xacml.regexp_match("string", "   This  is n*o*t* *IT!  ", "Julius Hibbert")`, `false`},
		// fn:matches is not anchored; ^ and $ anchor to the whole string.
		{`xacml.regexp_match("string", "b", "abc")`, `true`},
		{`xacml.regexp_match("string", "^b", "abc")`, `false`},
		{`xacml.regexp_match("string", "^a.*c$", "abc")`, `true`},
		{`xacml.regexp_match("string", "^a$", "a\nb")`, `false`},
		{`xacml.regexp_match("string", "", "anything")`, `true`},
		// '.' matches neither LF nor CR.
		{`xacml.regexp_match("string", "a.b", "a b")`, `true`},
		{`xacml.regexp_match("string", "a.b", "a\nb")`, `false`},
		{`xacml.regexp_match("string", "a.b", "a\rb")`, `false`},
		// XML Schema's \d, \w, \s.
		{`xacml.regexp_match("string", "^\\d+$", "١٢٣")`, `true`},
		{`xacml.regexp_match("string", "^\\D+$", "abc")`, `true`},
		{`xacml.regexp_match("string", "^\\w+$", "héllo")`, `true`},
		{`xacml.regexp_match("string", "^\\w+$", "a-b")`, `false`},
		{`xacml.regexp_match("string", "^\\W$", "-")`, `true`},
		{`xacml.regexp_match("string", "\\s", "a\fb")`, `false`},
		{`xacml.regexp_match("string", "\\s", "a\tb")`, `true`},
		{`xacml.regexp_match("string", "^\\S+$", "a\fb")`, `true`},
		// \i and \c: XML name characters.
		{`xacml.regexp_match("string", "^\\i\\c*$", "_abc-1.x")`, `true`},
		{`xacml.regexp_match("string", "^\\i\\c*$", "1abc")`, `false`},
		{`xacml.regexp_match("string", "^\\I", "1abc")`, `true`},
		{`xacml.regexp_match("string", "^\\C", " ")`, `true`},
		// Character class subtraction.
		{`xacml.regexp_match("string", "^[a-z-[aeiou]]+$", "bcd")`, `true`},
		{`xacml.regexp_match("string", "^[a-z-[aeiou]]+$", "bad")`, `false`},
		{`xacml.regexp_match("string", "^[^a-z-[XYZ]]$", "A")`, `true`},
		{`xacml.regexp_match("string", "^[^a-z-[XYZ]]$", "X")`, `false`},
		{`xacml.regexp_match("string", "^[\\p{L}-[\\p{Lu}]]+$", "abcé")`, `true`},
		{`xacml.regexp_match("string", "^[\\p{L}-[\\p{Lu}]]+$", "abCé")`, `false`},
		{`xacml.regexp_match("string", "^[a-z-[b-y-[c]]]+$", "acz")`, `true`},
		{`xacml.regexp_match("string", "^[a-z-[b-y-[c]]]+$", "abz")`, `false`},
		// Classes with '-' at either end and escaped metacharacters.
		{`xacml.regexp_match("string", "^[-a]+$", "a-a")`, `true`},
		{`xacml.regexp_match("string", "^[a-]+$", "-a")`, `true`},
		{`xacml.regexp_match("string", "^[\\-\\[\\]]+$", "-[]")`, `true`},
		{`xacml.regexp_match("string", "^\\$\\^\\.\\*$", "$^.*")`, `true`},
		// Categories and blocks.
		{`xacml.regexp_match("string", "^\\p{Lu}+$", "ABC")`, `true`},
		{`xacml.regexp_match("string", "^\\p{Lu}+$", "AbC")`, `false`},
		{`xacml.regexp_match("string", "^\\P{Lu}+$", "abc")`, `true`},
		{`xacml.regexp_match("string", "^\\p{N}+$", "3½")`, `true`},
		{`xacml.regexp_match("string", "^\\p{IsBasicLatin}+$", "abc")`, `true`},
		{`xacml.regexp_match("string", "^\\p{IsBasicLatin}+$", "é")`, `false`},
		{`xacml.regexp_match("string", "^\\p{IsGreek}+$", "αβγ")`, `true`},
		{`xacml.regexp_match("string", "^\\P{IsGreek}$", "a")`, `true`},
		{`xacml.regexp_match("string", "^\\p{Cn}$", "\u0378")`, `true`},
		{`xacml.regexp_match("string", "^\\p{C}$", "\u0378")`, `true`},
		{`xacml.regexp_match("string", "^\\p{C}$", "a")`, `false`},
		// Groups and quantifiers.
		{`xacml.regexp_match("string", "^(ab){2,3}$", "ababab")`, `true`},
		{`xacml.regexp_match("string", "^(ab){2,3}$", "ab")`, `false`},
		{`xacml.regexp_match("string", "^(?:ab)+?c$", "ababc")`, `true`},
		{`xacml.regexp_match("string", "^a{2,}$", "aaaa")`, `true`},
		{`xacml.regexp_match("string", "^(a|b)c$", "bc")`, `true`},
		// Other data types match their string form.
		{`xacml.regexp_match("ipAddress", "^10\\.", "10.0.0.1")`, `true`},
		{`xacml.regexp_match("dnsName", "\\.example\\.com$", "www.example.com")`, `true`},
		{`xacml.regexp_match("rfc822Name", "@sun\\.com$", "anne@sun.com")`, `true`},
		{`xacml.regexp_match("x500Name", "o=Sun", "cn=Anne,o=Sun,c=US")`, `true`},
		{`xacml.regexp_match("anyURI", "^https://", "http://a")`, `false`},
		{`xacml.regexp_match("integer", "1", "1")`, undefined},
		// Invalid or untranslatable patterns are Indeterminate.
		{`xacml.regexp_match("string", "(a)\\1", "aa")`, undefined},
		{`xacml.regexp_match("string", "[a-", "a")`, undefined},
		{`xacml.regexp_match("string", "a{2,1}", "a")`, undefined},
		{`xacml.regexp_match("string", "a{,1}", "a")`, undefined},
		{`xacml.regexp_match("string", "(", "a")`, undefined},
		{`xacml.regexp_match("string", "a)", "a")`, undefined},
		{`xacml.regexp_match("string", "*a", "a")`, undefined},
		{`xacml.regexp_match("string", "\\q", "a")`, undefined},
		{`xacml.regexp_match("string", "\\b", "a")`, undefined},
		{`xacml.regexp_match("string", "[]", "a")`, undefined},
		{`xacml.regexp_match("string", "[a-c-e]", "a")`, undefined},
		{`xacml.regexp_match("string", "[z-a]", "a")`, undefined},
		{`xacml.regexp_match("string", "\\p{IsKlingon}", "a")`, undefined},
		{`xacml.regexp_match("string", "\\p{Xx}", "a")`, undefined},
		{`xacml.regexp_match("string", "a{1001}", "a")`, undefined},
	})
}

func TestTranslateRegexpErrors(t *testing.T) {
	for pattern, want := range map[string]error{
		`(a)\1`:          ErrUnsupported,
		`\p{IsKlingon}`:  ErrUnsupported,
		`a{1001}`:        ErrUnsupported,
		`[a-`:            ErrSyntax,
		`a)`:             ErrSyntax,
		`\`:              ErrSyntax,
		"\xff":           ErrSyntax,
		`[a-z-[aeiou]x]`: ErrSyntax,
	} {
		if _, err := compileRegexp(pattern); !errors.Is(err, want) {
			t.Errorf("compileRegexp(%q) error = %v, want %v", pattern, err, want)
		}
	}
}

func TestRegexpCache(t *testing.T) {
	c := newRegexpCache(2)
	for _, p := range []string{"a", "b", "a", "c"} {
		if _, err := c.get(p); err != nil {
			t.Fatal(err)
		}
	}
	// "b" was least recently used when "c" arrived.
	if n := c.len(); n != 2 {
		t.Fatalf("len = %d, want 2", n)
	}
	if _, ok := c.entries["b"]; ok {
		t.Error(`"b" should have been evicted`)
	}
	if _, ok := c.entries["a"]; !ok {
		t.Error(`"a" should still be cached`)
	}
	// Failures are cached as failures.
	_, err1 := c.get("(")
	_, err2 := c.get("(")
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("cached failure: %v, %v", err1, err2)
	}
	// Disabled cache still compiles.
	off := newRegexpCache(0)
	if re, err := off.get("a+"); err != nil || !re.MatchString("caat") || off.len() != 0 {
		t.Errorf("uncached get: %v, %v, len %d", re, err, off.len())
	}
}

func TestRegexpCacheConcurrent(t *testing.T) {
	c := newRegexpCache(8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				p := fmt.Sprintf("^x%d$", (g*7+i)%16)
				re, err := c.get(p)
				if err != nil {
					t.Error(err)
					return
				}
				if !re.MatchString(fmt.Sprintf("x%d", (g*7+i)%16)) {
					t.Errorf("%s does not match", p)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := c.len(); n > 8 {
		t.Errorf("cache grew to %d entries, bound is 8", n)
	}
}
