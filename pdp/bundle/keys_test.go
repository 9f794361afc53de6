package bundle_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

func TestKeyFilesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	privPath, pubPath := filepath.Join(dir, "signing.pem"), filepath.Join(dir, "keys.json")
	if err := bundle.WritePrivateKeyFile(privPath, k); err != nil {
		t.Fatal(err)
	}
	if err := bundle.WriteKeyFile(pubPath, k.PublicKey()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{privPath: 0o600, pubPath: 0o644} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), st.Mode().Perm(), want)
		}
	}

	loaded, err := bundle.LoadSigningKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.KeyID() != k.KeyID() {
		t.Fatalf("loaded key id %s, want %s", loaded.KeyID(), k.KeyID())
	}
	trust, err := bundle.LoadTrustStore(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Open(bytes.NewReader(archive(t, build(t, contents("orders", 1), loaded))), trust); err != nil {
		t.Fatalf("bundle signed with the loaded key: %v", err)
	}

	// A second write must not destroy the key.
	err = bundle.WritePrivateKeyFile(privPath, newKey(t))
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwrite: %v", err)
	}
	if again, err := bundle.LoadSigningKey(privPath); err != nil || again.KeyID() != k.KeyID() {
		t.Fatalf("key changed by a refused overwrite: %v", err)
	}
}

func TestKeyFileFormat(t *testing.T) {
	k := newKey(t)
	pub := k.PublicKey()
	pub.NotBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pub.NotAfter = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := bundle.WriteKeyFile(path, pub); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"kid":        k.KeyID(),
		"alg":        "EdDSA",
		"public_key": base64.StdEncoding.EncodeToString(pub.Key),
		"not_before": "2025-01-01T00:00:00Z",
		"not_after":  "2026-01-01T00:00:00Z",
	}
	if len(doc.Keys) != 1 || len(doc.Keys[0]) != len(want) {
		t.Fatalf("key file = %s", data)
	}
	for f, v := range want {
		if doc.Keys[0][f] != v {
			t.Errorf("%s = %q, want %q", f, doc.Keys[0][f], v)
		}
	}
	keys, err := bundle.ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !bytes.Equal(keys[0].Key, pub.Key) || !keys[0].NotBefore.Equal(pub.NotBefore) || !keys[0].NotAfter.Equal(pub.NotAfter) {
		t.Errorf("read back %+v", keys)
	}
}

func TestKeyFileRefusals(t *testing.T) {
	k, other := newKey(t), newKey(t)
	b64 := base64.StdEncoding.EncodeToString(k.PublicKey().Key)
	entry := func(kid, alg, key string) string {
		return `{"kid":"` + kid + `","alg":"` + alg + `","public_key":"` + key + `"}`
	}
	good := entry(k.KeyID(), "EdDSA", b64)
	tests := map[string]string{
		"not JSON":        `{"keys":[`,
		"no keys":         `{"keys":[]}`,
		"missing keys":    `{}`,
		"unknown field":   `{"keys":[` + good + `],"extra":true}`,
		"key field typo":  `{"keys":[{"kid":"` + k.KeyID() + `","alg":"EdDSA","publickey":"` + b64 + `"}]}`,
		"kid of another":  `{"keys":[` + entry(other.KeyID(), "EdDSA", b64) + `]}`,
		"no kid":          `{"keys":[` + entry("", "EdDSA", b64) + `]}`,
		"other alg":       `{"keys":[` + entry(k.KeyID(), "RS256", b64) + `]}`,
		"bad base64":      `{"keys":[` + entry(k.KeyID(), "EdDSA", "!!!") + `]}`,
		"base64url":       `{"keys":[` + entry(k.KeyID(), "EdDSA", base64.RawURLEncoding.EncodeToString(k.PublicKey().Key)) + `]}`,
		"short key":       `{"keys":[` + entry(k.KeyID(), "EdDSA", "AAAA") + `]}`,
		"duplicate":       `{"keys":[` + good + `,` + good + `]}`,
		"empty window":    `{"keys":[{"kid":"` + k.KeyID() + `","alg":"EdDSA","public_key":"` + b64 + `","not_before":"2025-02-01T00:00:00Z","not_after":"2025-01-01T00:00:00Z"}]}`,
		"trailing object": `{"keys":[` + good + `]} {}`,
	}
	dir := t.TempDir()
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := bundle.ReadKeyFile(path)
			wantErr(t, err, bundle.ErrFormat)
			_, err = bundle.LoadTrustStore(path)
			wantErr(t, err, bundle.ErrFormat)
		})
	}
	// The same entry with a kid that matches loads.
	path := filepath.Join(dir, "good.json")
	os.WriteFile(path, []byte(`{"keys":[`+good+`]}`), 0o644)
	trust, err := bundle.LoadTrustStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if !trust.Trusted(k.KeyID()) || trust.Trusted(other.KeyID()) {
		t.Error("hand-written key file not honoured")
	}
	_, err = bundle.LoadTrustStore(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key file: %v", err)
	}
	_, err = bundle.NewTrustStore(nil)
	wantErr(t, err, bundle.ErrInvalid)
	wantErr(t, bundle.WriteKeyFile(filepath.Join(dir, "none.json")), bundle.ErrInvalid)
}

// TestPrivateKeyInterop loads the Ed25519 example of RFC 8410 §10.3, whose
// public key is given in §10.1, so that keys made with other tools (openssl
// genpkey -algorithm ed25519) load.
func TestPrivateKeyInterop(t *testing.T) {
	const rfcPriv = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n"
	const rfcPub = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
	path := filepath.Join(t.TempDir(), "rfc8410.pem")
	if err := os.WriteFile(path, []byte(rfcPriv), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := bundle.LoadSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(rfcPub)
	want, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	if got := k.PublicKey().Key; !got.Equal(want) {
		t.Errorf("public key %x, RFC 8410 says %x", []byte(got), want)
	}
}

func TestPrivateKeyRefusals(t *testing.T) {
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	tests := map[string][]byte{
		"empty":      nil,
		"not PEM":    []byte("hello"),
		"wrong type": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}),
		"not PKCS#8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
		"ECDSA key":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			os.WriteFile(path, data, 0o600)
			_, err := bundle.LoadSigningKey(path)
			wantErr(t, err, bundle.ErrFormat)
		})
	}
	_, err = bundle.NewSigningKey([]byte("short"))
	wantErr(t, err, bundle.ErrInvalid)
}

func TestKeyIDsAreDerived(t *testing.T) {
	k := newKey(t)
	if len(k.KeyID()) != 22 || strings.ContainsAny(k.KeyID(), "+/=") {
		t.Errorf("key id %q is not 22 base64url characters", k.KeyID())
	}
	if k.KeyID() != k.PublicKey().KeyID() {
		t.Error("signing and public key ids differ")
	}
	if k.KeyID() == newKey(t).KeyID() {
		t.Error("two keys share an id")
	}
}
