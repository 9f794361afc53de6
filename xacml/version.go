package xacml

import (
	"cmp"
	"strings"
)

// Policy versions and version constraints (XACML 3.0 section 5.13):
// VersionType is (\d+\.)*\d+ and VersionMatchType is ((\d+|\*)\.)*(\d+|\*|\+).
// In a match, a number matches itself, "*" matches any single number, and a
// trailing "+" matches any one or more remaining numbers, so "1.2.3",
// "1.*.3", "1.2.*" and "1.+" all match 1.2.3.

// ValidVersion reports whether v is a VersionType.
func ValidVersion(v string) bool {
	if v == "" {
		return false
	}
	for part := range strings.SplitSeq(v, ".") {
		if part == "" || digits(part) != len(part) {
			return false
		}
	}
	return true
}

// ValidVersionMatch reports whether m is a VersionMatchType.
func ValidVersionMatch(m string) bool {
	if m == "" {
		return false
	}
	parts := strings.Split(m, ".")
	for i, part := range parts {
		switch {
		case part == "*":
		case part == "+":
			if i != len(parts)-1 {
				return false
			}
		case part == "" || digits(part) != len(part):
			return false
		}
	}
	return true
}

// compareVersionNumber compares two decimal numbers of any length.
func compareVersionNumber(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
}

// CompareVersions orders two valid versions numerically, component by
// component; when one is a prefix of the other, the shorter is earlier
// ("1.0" < "1.0.1"). It picks the latest of several matching versions.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if c := compareVersionNumber(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

// versionMatches reports whether version satisfies the pattern m exactly.
func versionMatches(version, m string) bool {
	pv, pm := strings.Split(version, "."), strings.Split(m, ".")
	for i, part := range pm {
		if part == "+" {
			return i < len(pv)
		}
		if i >= len(pv) {
			return false
		}
		if part != "*" && compareVersionNumber(part, pv[i]) != 0 {
			return false
		}
	}
	return len(pv) == len(pm)
}

// compareToPattern compares version with a pattern bound, treating "*" as
// equal to any number and "+" as equal to any rest: it returns <0, 0 or >0
// as version is before, within or after the pattern.
func compareToPattern(version, m string) int {
	pv, pm := strings.Split(version, "."), strings.Split(m, ".")
	for i, part := range pm {
		if part == "+" {
			if i < len(pv) {
				return 0
			}
			return -1
		}
		if i >= len(pv) {
			return -1
		}
		if part == "*" {
			continue
		}
		if c := compareVersionNumber(pv[i], part); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(pv), len(pm))
}

// VersionSatisfies reports whether a policy's version meets a reference's
// constraints: Version (exact, with wildcards), EarliestVersion (at or
// after) and LatestVersion (at or before). Empty constraints accept any
// version.
func VersionSatisfies(version string, ref *Reference) bool {
	if !ValidVersion(version) {
		return false
	}
	if ref.Version != "" && !versionMatches(version, ref.Version) {
		return false
	}
	if ref.EarliestVersion != "" && compareToPattern(version, ref.EarliestVersion) < 0 {
		return false
	}
	if ref.LatestVersion != "" && compareToPattern(version, ref.LatestVersion) > 0 {
		return false
	}
	return true
}
