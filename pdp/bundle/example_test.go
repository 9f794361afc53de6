package bundle_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// Example shows both sides: the PAP builds and signs a bundle, a PDP that
// trusts the PAP's public key opens it, and refuses a replay of it.
func Example() {
	dir, err := os.MkdirTemp("", "verdict-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Producer: a key pair on disk, the public half handed to PDPs.
	key, err := bundle.GenerateSigningKey()
	if err != nil {
		log.Fatal(err)
	}
	if err := bundle.WritePrivateKeyFile(filepath.Join(dir, "signing.pem"), key); err != nil {
		log.Fatal(err)
	}
	if err := bundle.WriteKeyFile(filepath.Join(dir, "trusted-keys.json"), key.PublicKey()); err != nil {
		log.Fatal(err)
	}
	unsigned, err := bundle.New(bundle.Contents{
		Service:      "orders",
		Revision:     42,
		RootPolicyID: "orders-root",
		CreatedAt:    time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Modules:      map[string]string{"orders/main.rego": "package orders\n\ndefault allow := false\n"},
		Data:         map[string][]byte{"data.json": []byte(`{"roles":["admin"]}`)},
		Sources:      map[string][]byte{"orders.xml": []byte("<Policy PolicyId=\"orders-root\"/>")},
	})
	if err != nil {
		log.Fatal(err)
	}
	signed, err := unsigned.Sign(key)
	if err != nil {
		log.Fatal(err)
	}
	published, err := signed.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}

	// Consumer: trust the configured key file, open what arrived.
	trust, err := bundle.LoadTrustStore(filepath.Join(dir, "trusted-keys.json"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := bundle.Open(bytes.NewReader(published), trust, bundle.WithService("orders"), bundle.WithActiveRevision(41))
	if err != nil {
		log.Fatal(err)
	}
	m := b.Manifest()
	fmt.Println(m.Service, m.Revision, m.RootPolicyID, m.KeyID == key.KeyID())
	fmt.Println(slices.Sorted(maps.Keys(b.Modules())))
	fmt.Println(b.Digest())

	// Once revision 42 is active, the same bundle is a replay.
	_, err = bundle.Open(bytes.NewReader(published), trust, bundle.WithService("orders"), bundle.WithActiveRevision(42))
	fmt.Println(errors.Is(err, bundle.ErrStale))
	// Output:
	// orders 42 orders-root true
	// [orders/main.rego]
	// sha256:2633d02b5981ff2de51c7ca11d46f460802e90ec3fea66e4aaeb9d089c144a53
	// true
}

// ExampleTrustStore_Apply rotates the signing key with overlap: the old key
// vouches for the new one, which PDPs then accept.
func ExampleTrustStore_Apply() {
	oldKey, _ := bundle.GenerateSigningKey()
	newKey, _ := bundle.GenerateSigningKey()
	trust, err := bundle.NewTrustStore([]bundle.PublicKey{oldKey.PublicKey()})
	if err != nil {
		log.Fatal(err)
	}

	// The PAP announces the new key, and retires the old one a day later.
	retiring := oldKey.PublicKey()
	retiring.NotAfter = time.Now().Add(24 * time.Hour)
	set, err := bundle.SignKeySet(bundle.KeySet{
		Version:  1,
		IssuedAt: time.Now(),
		Keys:     []bundle.PublicKey{retiring, newKey.PublicKey()},
	}, oldKey)
	if err != nil {
		log.Fatal(err)
	}
	published, _ := set.MarshalBinary()

	// A PDP receives the key set and applies it.
	received, err := bundle.ParseKeySet(published)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(trust.Trusted(newKey.KeyID()))
	fmt.Println(trust.Apply(received), trust.Trusted(newKey.KeyID()), trust.Version())
	// Replaying it changes nothing.
	fmt.Println(errors.Is(trust.Apply(received), bundle.ErrStale))
	// Output:
	// false
	// <nil> true 1
	// true
}
