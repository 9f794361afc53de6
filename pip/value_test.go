package pip

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []any
		err  bool
	}{
		{"nil", nil, nil, false},
		{"string", "x", []any{"x"}, false},
		{"bool", true, []any{true}, false},
		{"int", 7, []any{int64(7)}, false},
		{"int32", int32(-3), []any{int64(-3)}, false},
		{"uint64 fits", uint64(9), []any{int64(9)}, false},
		{"uint64 overflow", uint64(math.MaxUint64), nil, true},
		{"float32", float32(1.5), []any{1.5}, false},
		{"float64", 2.25, []any{2.25}, false},
		{"NaN", math.NaN(), nil, true},
		{"Inf", math.Inf(1), nil, true},
		{"json integer", json.Number("42"), []any{int64(42)}, false},
		{"json double kept", json.Number("27.50"), []any{json.Number("27.50")}, false},
		{"json exponent", json.Number("1e3"), []any{json.Number("1e3")}, false},
		{"json huge integer", json.Number("123456789012345678901"), []any{json.Number("123456789012345678901")}, false},
		{"json out of range", json.Number("1e400"), nil, true},
		{"json not a number", json.Number("Inf"), nil, true},
		{"json hex", json.Number("0x10"), nil, true},
		{"[]string", []string{"a", "b"}, []any{"a", "b"}, false},
		{"[]int", []int{1, 2}, []any{int64(1), int64(2)}, false},
		{"nested flattened", []any{"a", []any{"b", []string{"c"}}, nil}, []any{"a", "b", "c"}, false},
		{"array", [2]bool{true, false}, []any{true, false}, false},
		{"empty slice", []any{}, nil, false},
		{"bytes refused", []byte("x"), nil, true},
		{"map refused", map[string]any{"a": 1}, nil, true},
		{"struct refused", struct{}{}, nil, true},
		{"map inside slice refused", []any{"a", map[string]any{}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.err {
				if !errors.Is(err, ErrInvalidValue) {
					t.Fatalf("Normalize(%#v) error = %v, want ErrInvalidValue", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%#v): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Normalize(%#v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFromJSON(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []any
		err  bool
	}{
		{"string", `"editor"`, []any{"editor"}, false},
		{"true", `true`, []any{true}, false},
		{"integer", `42`, []any{int64(42)}, false},
		{"negative integer", `-7`, []any{int64(-7)}, false},
		{"double keeps lexical form", `27.50`, []any{json.Number("27.50")}, false},
		{"double with trailing zero", `2.0`, []any{json.Number("2.0")}, false},
		{"exponent is a double", `1E2`, []any{json.Number("1E2")}, false},
		{"integer beyond int64 is a double", `9223372036854775808`, []any{json.Number("9223372036854775808")}, false},
		{"null is empty", `null`, nil, false},
		{"array is a bag", `["admin", "evil_genius"]`, []any{"admin", "evil_genius"}, false},
		{"mixed array", `[1, 1.5, "x", false]`, []any{int64(1), json.Number("1.5"), "x", false}, false},
		{"nested array flattened", `[[1], [2, [3]]]`, []any{int64(1), int64(2), int64(3)}, false},
		{"empty array", `[]`, []any{}, false},
		{"object refused", `{"a": 1}`, nil, true},
		{"object in array refused", `[{"a": 1}]`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tt.json))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			got, err := FromJSON(v)
			if tt.err {
				if !errors.Is(err, ErrInvalidValue) {
					t.Fatalf("FromJSON(%s) error = %v, want ErrInvalidValue", tt.json, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromJSON(%s): %v", tt.json, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("FromJSON(%s) = %#v, want %#v", tt.json, got, tt.want)
			}
			// Every value printed back gives the JSON it came from.
			if len(got) == 1 && !strings.HasPrefix(tt.json, "[") {
				lex, err := Lexical(got[0])
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.Trim(tt.json, `"`); lex != want {
					t.Fatalf("Lexical = %q, want %q", lex, want)
				}
			}
		})
	}
}

func TestFromJSONWithoutUseNumber(t *testing.T) {
	got, err := FromJSON(3.0)
	if err != nil || !reflect.DeepEqual(got, []any{3.0}) {
		t.Fatalf("FromJSON(3.0) = %#v, %v", got, err)
	}
	if _, err := FromJSON(struct{}{}); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("FromJSON(struct) error = %v, want ErrInvalidValue", err)
	}
}

func TestLexical(t *testing.T) {
	tests := []struct {
		in   any
		want string
		err  bool
	}{
		{"alice", "alice", false},
		{true, "true", false},
		{int64(-12), "-12", false},
		{42, "42", false},
		{0.1, "0.1", false},
		{1e21, "1e+21", false},
		{json.Number("27.50"), "27.50", false},
		{json.Number("nope"), "", true},
		{math.NaN(), "", true},
		{[]string{"a", "b"}, "", true},
		{[]string{"a"}, "a", false},
		{map[string]int{}, "", true},
	}
	for _, tt := range tests {
		got, err := Lexical(tt.in)
		if tt.err {
			if !errors.Is(err, ErrInvalidValue) {
				t.Errorf("Lexical(%#v) error = %v, want ErrInvalidValue", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Lexical(%#v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	valid := []string{"0", "-0", "1", "-12", "0.5", "10.25", "1e5", "1E+5", "1e-5", "-0.0e0"}
	invalid := []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "Inf", "NaN", "0x1", "1_000", " 1", "1 "}
	for _, s := range valid {
		if !isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = false, want true", s)
		}
	}
	for _, s := range invalid {
		if isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = true, want false", s)
		}
	}
}

func TestNormalizeValues(t *testing.T) {
	clean := Values{"a": {"x", int64(1), 1.5, json.Number("2.50"), true}}
	got, err := NormalizeValues(clean)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(got).Pointer() != reflect.ValueOf(clean).Pointer() {
		t.Fatal("normalized values were copied")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = NormalizeValues(clean) }); n != 0 {
		t.Fatalf("NormalizeValues on clean values allocates %v times", n)
	}

	loose := Values{"n": {7, []string{"a", "b"}, json.Number("3")}, "empty": nil}
	got, err = NormalizeValues(loose)
	if err != nil {
		t.Fatal(err)
	}
	want := Values{"n": {int64(7), "a", "b", int64(3)}, "empty": nil}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("NormalizeValues = %#v, want %#v", got, want)
	}

	_, err = NormalizeValues(Values{"bad": {map[string]any{}}})
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("NormalizeValues(bad) error = %v, want ErrInvalidValue naming the attribute", err)
	}
}
