package main

import (
	"crypto/x509"
	"fmt"
	"os"
)

// loadCertPool reads the PEM certificates of path into a pool, for the
// trust anchors that configuration files and flags name (ca_file,
// client_ca, pap.ca, --jwks-ca). Any certificate is accepted, as
// crypto/tls accepts it, so that a pinned self-signed server certificate
// works too; a file without one is an error naming it.
func loadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return pool, nil
}
