package token

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/integration/conformance"
)

type wycheproofFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Public  json.RawMessage `json:"public"`
		Private json.RawMessage `json:"private"`
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			JWS     string   `json:"jws"`
			Result  string   `json:"result"`
			Flags   []string `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// vectorException is a Wycheproof vector whose expected result Verdict does
// not reproduce, and why.
type vectorException struct {
	reason string
	// check asserts what Verdict does instead, so the exception cannot hide
	// an unrelated failure.
	check func(t *testing.T, jws string, err error, byID map[int]string)
}

// rejectedAlgMismatch: "valid" vectors whose header alg differs from the
// alg of the JWK that must verify them. Verdict binds every key to its JWK
// alg, so it rejects them on purpose (DESIGN.md, "Conformance data").
func rejectedAlgMismatch(reason string) vectorException {
	return vectorException{reason: reason, check: func(t *testing.T, _ string, err error, _ map[int]string) {
		if !errors.Is(err, ErrAlgorithm) {
			t.Errorf("want ErrAlgorithm (key-bound algorithm), got %v", err)
		}
	}}
}

// sameAs: the vector is byte-for-byte another vector with the opposite
// expected result (upstream lost the character that made it different), so
// it necessarily gets that vector's result.
func sameAs(other int, reason string) vectorException {
	return vectorException{reason: reason, check: func(t *testing.T, jws string, err error, byID map[int]string) {
		if byID[other] != jws {
			t.Fatalf("vector is no longer identical to tcId %d: remove this exception", other)
		}
		if err != nil {
			t.Errorf("identical to valid tcId %d, must verify like it: %v", other, err)
		}
	}}
}

// rejectedNonBase64: "valid" vectors with a character outside the base64url
// alphabet. Accepting them would mean ignoring characters in the signed
// input, making tokens malleable (Wycheproof's own Java harness lists them
// as known-defective expectations too).
func rejectedNonBase64(reason string) vectorException {
	return vectorException{reason: reason, check: func(t *testing.T, _ string, err error, _ map[int]string) {
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("want ErrMalformed (non-base64url character), got %v", err)
		}
	}}
}

// TestWycheproofJWS runs the Wycheproof JSON Web Signature and JSON Web Key
// vectors at the JWS layer (their payloads are mostly not JWT claims)
// through the same header, key and signature checks a Verifier uses. Every
// invalid vector must be rejected and every valid one verified, except the
// exceptions listed with their reason.
func TestWycheproofJWS(t *testing.T) {
	dir := filepath.Join(conformance.Dir(t), "jws")
	files := map[string]map[int]vectorException{
		"wycheproof_json_web_signature_test.json": {
			346: rejectedAlgMismatch("RFC 7520 Figure 20: header alg PS384, JWK alg PS256"),
			347: rejectedAlgMismatch("RFC 7520 Figure 27: header alg ES512, JWK alg ES521 (not a JWS algorithm)"),
			350: rejectedAlgMismatch("RFC 7520 Figure 20 with key_ops: header alg PS384, JWK alg PS256"),
			351: rejectedAlgMismatch("RFC 7520 Figure 27 with key_ops: header alg ES512, JWK alg ES521"),
			367: sameAs(357, "invalidBase64Padding: identical to valid tcId 357 (the padding was lost upstream)"),
			370: sameAs(357, "invalidBase64PaddingInPayload: identical to valid tcId 357 (the padding was lost upstream)"),
			372: rejectedNonBase64("InvalidCharacterInsertedInHeader: '?' in the header segment, labelled valid upstream"),
			373: rejectedNonBase64("InvalidCharacterInsertedInPayload: '?' in the payload segment, labelled valid upstream"),
		},
		"wycheproof_json_web_key_test.json": {},
	}
	policy := &jwsPolicy{algs: mustAlgorithms(t), critical: map[string]bool{}}
	for name, exceptions := range files {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			var f wycheproofFile
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			byID := map[int]string{}
			for _, g := range f.TestGroups {
				for _, tc := range g.Tests {
					byID[tc.TcID] = tc.JWS
				}
			}
			ran, valid, invalid, excepted := 0, 0, 0, 0
			for _, g := range f.TestGroups {
				keyJSON := g.Public
				if len(keyJSON) == 0 {
					keyJSON = g.Private // symmetric keys exist only as "private"
				}
				set, setErr := ParseJWKS(keyJSON)
				for _, tc := range g.Tests {
					ran++
					var err error
					if setErr != nil {
						err = setErr
					} else {
						_, err = policy.verify(context.Background(), tc.JWS, set)
					}
					if ex, ok := exceptions[tc.TcID]; ok {
						excepted++
						t.Run(tcName(tc.TcID, tc.Comment), func(t *testing.T) {
							t.Logf("exception: %s", ex.reason)
							ex.check(t, tc.JWS, err, byID)
						})
						continue
					}
					switch tc.Result {
					case "valid":
						valid++
						if err != nil {
							t.Errorf("tcId %d (%s/%s) valid, rejected: %v", tc.TcID, g.Comment, tc.Comment, err)
						}
					case "invalid":
						invalid++
						if err == nil {
							t.Errorf("tcId %d (%s/%s) invalid, accepted", tc.TcID, g.Comment, tc.Comment)
						}
					default:
						t.Errorf("tcId %d: unknown result %q", tc.TcID, tc.Result)
					}
				}
			}
			if ran != f.NumberOfTests {
				t.Errorf("ran %d vectors, file declares %d", ran, f.NumberOfTests)
			}
			for id := range exceptions {
				if _, ok := byID[id]; !ok {
					t.Errorf("exception for tcId %d, which the file does not have", id)
				}
			}
			t.Logf("%s: %d vectors: %d valid verified, %d invalid rejected, %d listed exceptions", name, ran, valid, invalid, excepted)
		})
	}
}

func tcName(id int, comment string) string {
	b, _ := json.Marshal(id)
	return "tcId_" + string(b) + "_" + comment
}

func mustAlgorithms(t *testing.T) algorithmSet {
	t.Helper()
	algs, err := newAlgorithmSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	return algs
}
