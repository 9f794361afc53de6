package token

import (
	"fmt"
	"regexp"
	"strings"
)

// audiencePatternChars is what a '*' in an audience pattern may stand for:
// one or more letters, digits, '-', '_' or '.'. So "*.example.com" matches
// "api.example.com" and "eu.api.example.com" but neither "example.com" nor
// "evil.com/x.example.com" nor "user@x.example.com", and
// "https://*.example.com" matches "https://api.example.com" but not
// "https://evil.com#.example.com".
const audiencePatternChars = `[A-Za-z0-9._-]+`

// audienceMatcher accepts a token audience that equals one configured
// audience or matches one configured pattern. Comparisons are case-sensitive
// (RFC 7519 section 2, StringOrURI).
type audienceMatcher struct {
	exact    map[string]bool
	patterns []*regexp.Regexp
}

func newAudienceMatcher(auds []string) (audienceMatcher, error) {
	m := audienceMatcher{exact: map[string]bool{}}
	for _, a := range auds {
		if a == "" {
			return m, fmt.Errorf("%w: empty audience", ErrConfig)
		}
		if !strings.Contains(a, "*") {
			m.exact[a] = true
			continue
		}
		if strings.Trim(a, "*") == "" {
			return m, fmt.Errorf("%w: audience pattern %q would match any audience", ErrConfig, a)
		}
		parts := strings.Split(a, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		m.patterns = append(m.patterns, regexp.MustCompile("^"+strings.Join(parts, audiencePatternChars)+"$"))
	}
	if len(m.exact) == 0 && len(m.patterns) == 0 {
		return m, fmt.Errorf("%w: at least one audience is required (WithAudience)", ErrConfig)
	}
	return m, nil
}

func (m audienceMatcher) match(aud string) bool {
	if m.exact[aud] {
		return true
	}
	for _, p := range m.patterns {
		if p.MatchString(aud) {
			return true
		}
	}
	return false
}
