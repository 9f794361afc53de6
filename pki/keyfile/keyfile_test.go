package keyfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/pki/keyfile"
)

func TestWriteReadPermissions(t *testing.T) {
	for _, alg := range []keyfile.Algorithm{keyfile.ECDSAP256, keyfile.ECDSAP384, keyfile.Ed25519, keyfile.RSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			key, err := keyfile.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "key.pem")
			if err := keyfile.Write(path, key); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v %v", fi.Mode(), err)
			}
			back, err := keyfile.Read(path)
			if err != nil || !keyfile.MatchesPublic(back, key.Public()) {
				t.Fatalf("read back: %v", err)
			}
			if err := os.Chmod(path, 0o640); err != nil {
				t.Fatal(err)
			}
			if _, err := keyfile.Read(path); !errors.Is(err, keyfile.ErrPermissions) {
				t.Fatalf("0640 key: err = %v", err)
			}
			if _, err := keyfile.ReadUnchecked(path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	cases := []struct {
		algo string
		size int
		want keyfile.Algorithm
	}{
		{"", 0, keyfile.ECDSAP256}, {"ecdsa", 256, keyfile.ECDSAP256}, {"ecdsa", 384, keyfile.ECDSAP384},
		{"rsa", 2048, keyfile.RSA2048}, {"rsa", 3072, keyfile.RSA3072}, {"ed25519", 0, keyfile.Ed25519},
	}
	for _, c := range cases {
		if got, err := keyfile.ParseAlgorithm(c.algo, c.size); err != nil || got != c.want {
			t.Errorf("ParseAlgorithm(%q, %d) = %v, %v", c.algo, c.size, got, err)
		}
	}
	for _, bad := range []struct {
		algo string
		size int
	}{{"ecdsa", 521}, {"rsa", 1024}, {"dsa", 0}} {
		if _, err := keyfile.ParseAlgorithm(bad.algo, bad.size); !errors.Is(err, keyfile.ErrUnsupported) {
			t.Errorf("ParseAlgorithm(%q, %d) accepted", bad.algo, bad.size)
		}
	}
	if _, err := keyfile.Parse([]byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")); !errors.Is(err, keyfile.ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
}
