package xacmlfn

import "testing"

func TestArithmeticBuiltins(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		// integer-divide truncates toward zero.
		{`xacml.idiv(7, 2)`, `3`},
		{`xacml.idiv(-7, 2)`, `-3`},
		{`xacml.idiv(7, -2)`, `-3`},
		{`xacml.idiv(-7, -2)`, `3`},
		{`xacml.idiv(45, 10)`, `4`},
		{`xacml.idiv(0, 5)`, `0`},
		{`xacml.idiv(-9223372036854775808, -1)`, `9223372036854775808`},
		{`xacml.idiv(100000000000000000000000, 3)`, `33333333333333333333333`},
		{`xacml.idiv(-100000000000000000000000, 3)`, `-33333333333333333333333`},
		{`xacml.idiv(7, 0)`, undefined},
		{`xacml.idiv(7, 100000000000000000000000)`, `0`},
		{`xacml.idiv(7.5, 2)`, undefined},
		// integer-mod: the sign of the dividend.
		{`xacml.imod(7, 3)`, `1`},
		{`xacml.imod(-7, 3)`, `-1`},
		{`xacml.imod(7, -3)`, `1`},
		{`xacml.imod(-7, -3)`, `-1`},
		{`xacml.imod(6, 3)`, `0`},
		{`xacml.imod(-9223372036854775808, -1)`, `0`},
		{`xacml.imod(100000000000000000000001, 10)`, `1`},
		{`xacml.imod(-100000000000000000000001, 10)`, `-1`},
		{`xacml.imod(7, 0)`, undefined},
		// round: IEEE 754 ties to even.
		{`xacml.round(2.5)`, `2`},
		{`xacml.round(3.5)`, `4`},
		{`xacml.round(-2.5)`, `-2`},
		{`xacml.round(-2.6)`, `-3`},
		{`xacml.round(2.4999)`, `2`},
		{`xacml.round(0.5)`, `0`},
		{`xacml.round(1.5)`, `2`},
		{`xacml.round(7)`, `7`},
		{`xacml.round(1e300)`, `1e+300`},
		{`xacml.round("INF")`, `"INF"`},
		{`xacml.round("-INF")`, `"-INF"`},
		{`xacml.round("NaN")`, `"NaN"`},
		{`xacml.round("2.5")`, undefined},
		// double-to-integer truncates toward zero.
		{`xacml.to_integer(2.9)`, `2`},
		{`xacml.to_integer(-2.9)`, `-2`},
		{`xacml.to_integer(-0.5)`, `0`},
		{`xacml.to_integer(5)`, `5`},
		{`xacml.to_integer(1e20)`, `100000000000000000000`},
		{`xacml.to_integer(-1.5e19)`, `-15000000000000000000`},
		{`xacml.to_integer("INF")`, undefined},
		{`xacml.to_integer("-INF")`, undefined},
		{`xacml.to_integer("NaN")`, undefined},
		{`xacml.to_integer(true)`, undefined},
	})
}

func TestCanonicalDouble(t *testing.T) {
	for f, want := range map[float64]string{
		27.5:    "2.75E1",
		100:     "1.0E2",
		1:       "1.0E0",
		-1:      "-1.0E0",
		0.001:   "1.0E-3",
		1.25e21: "1.25E21",
		0:       "0.0E0",
	} {
		if got := canonicalDouble(f); got != want {
			t.Errorf("canonicalDouble(%v) = %q, want %q", f, got, want)
		}
	}
}
