package xacmlfn

import "testing"

func TestRFC822MatchBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		// The examples of XACML 3.0 A.3.14.
		{`xacml.rfc822_match("Anderson@sun.com", "Anderson@sun.com")`, `true`},
		{`xacml.rfc822_match("Anderson@sun.com", "Anderson@SUN.COM")`, `true`},
		{`xacml.rfc822_match("Anderson@sun.com", "Anne.Anderson@sun.com")`, `false`},
		{`xacml.rfc822_match("Anderson@sun.com", "anderson@sun.com")`, `false`},
		{`xacml.rfc822_match("Anderson@sun.com", "Anderson@east.sun.com")`, `false`},
		{`xacml.rfc822_match("sun.com", "Anderson@sun.com")`, `true`},
		{`xacml.rfc822_match("sun.com", "Baxter@SUN.COM")`, `true`},
		{`xacml.rfc822_match("sun.com", "Anderson@east.sun.com")`, `false`},
		{`xacml.rfc822_match(".east.sun.com", "Anderson@east.sun.com")`, `true`},
		{`xacml.rfc822_match(".east.sun.com", "anne.anderson@ISRG.EAST.SUN.COM")`, `true`},
		{`xacml.rfc822_match(".east.sun.com", "Anderson@sun.com")`, `false`},
		{`xacml.rfc822_match(".east.sun.com", "Anderson@northeast.sun.com")`, `false`},
		// Conformance case IIC083.
		{`xacml.rfc822_match("hibbert@medico.com", "Julius_Hibbert@MEDICO.COM")`, `false`},
		{`xacml.rfc822_match("", "a@sun.com")`, undefined},
		{`xacml.rfc822_match("sun.com", "not-a-mailbox")`, undefined},
		{`xacml.rfc822_match("@sun.com", "a@sun.com")`, undefined},
		{`xacml.rfc822_match("..sun.com", "a@sun.com")`, undefined},
	})
}
