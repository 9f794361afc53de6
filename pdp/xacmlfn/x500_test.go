package xacmlfn

import "testing"

func TestX500MatchBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		{`xacml.x500_match("o=Sun,c=US", "cn=Anne,ou=Labs,o=Sun,c=US")`, `true`},
		{`xacml.x500_match("O=SUN, C=us", "cn=Anne, ou=Labs, o=Sun, c=US")`, `true`},
		{`xacml.x500_match("cn=Anne,ou=Labs,o=Sun,c=US", "cn=Anne,ou=Labs,o=Sun,c=US")`, `true`},
		{`xacml.x500_match("", "cn=Anne,o=Sun")`, `true`},
		// Not a terminal sequence.
		{`xacml.x500_match("ou=Labs,o=Sun", "cn=Anne,ou=Labs,o=Sun,c=US")`, `false`},
		{`xacml.x500_match("cn=Anne,ou=Labs,o=Sun,c=US", "o=Sun,c=US")`, `false`},
		// Whole RDNs, not string suffixes.
		{`xacml.x500_match("o=Sun,c=US", "cn=Anne,o=BigSun,c=US")`, `false`},
		{`xacml.x500_match("o=un,c=US", "cn=Anne,o=Sun,c=US")`, `false`},
		// Multi-valued RDNs compare as sets.
		{`xacml.x500_match("cn=A+uid=1,o=Sun", "cn=x,UID=1+CN=a,o=Sun")`, `true`},
		{`xacml.x500_match("o=Sun,", "cn=Anne,o=Sun")`, undefined},
		{`xacml.x500_match("o=Sun", "cn")`, undefined},
	})
}

func TestParseX500(t *testing.T) {
	cases := []struct {
		a, b  string
		equal bool
	}{
		{"CN=Steve Kille,O=Isode Limited,C=GB", "cn=steve kille, o=isode limited, c=gb", true},
		{"CN=Steve Kille;O=Isode Limited;C=GB", "CN=Steve Kille,O=Isode Limited,C=GB", true},
		{"OU=Sales+CN=J. Smith,O=Widget Inc.,C=US", "CN=J. Smith+OU=Sales,O=Widget Inc.,C=US", true},
		{"CN=L. Eagle,O=Sue\\, Grabbit and Runn,C=GB", "CN=L. Eagle,O=\"Sue, Grabbit and Runn\",C=GB", true},
		{"CN=Before\\0DAfter,O=Test,C=GB", "CN=Before\rAfter,O=Test,C=GB", true},
		{"1.3.6.1.4.1.1466.0=#04024869,O=Test,C=GB", "1.3.6.1.4.1.1466.0=#04024869,O=Test,C=GB", true},
		{"SN=Lu\\C4\\8Di\\C4\\87", "sn=LUČIĆ", true},
		{"OID.2.5.4.3=x", "cn=X", true},
		{"cn=a  b", "cn= a b ", true},
		{"cn=a\\,b", "cn=a\\2Cb", true},
		{"cn=a\\,b", "cn=a,b=", false},
		{"cn=a=b", "CN=A\\=B", true},
		{"cn=a+cn=b", "cn=a,cn=b", false},
		{"emailAddress=a@b.c", "E=A@B.C", true},
		{"dc=example,dc=com", "DC=Example,DC=COM", true},
	}
	for _, c := range cases {
		got, err := equalX500(c.a, c.b)
		if err != nil {
			t.Errorf("equalX500(%q, %q): %v", c.a, c.b, err)
			continue
		}
		if got != c.equal {
			t.Errorf("equalX500(%q, %q) = %v, want %v", c.a, c.b, got, c.equal)
		}
	}
	for _, bad := range []string{"cn", "cn=a,", "=a", "cn=a\\", "cn=a\\zz", "cn=\"a", "cn=\"a\"b", "c n=a", "cn=#zz", "cn=a<b", "1.=a", "cn=\xff"} {
		if _, err := parseX500(bad); err == nil {
			t.Errorf("parseX500(%q) succeeded, want an error", bad)
		}
	}
}
