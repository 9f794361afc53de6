package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"connectrpc.com/connect"

	"github.com/verdict-authz/verdict/pdp/server"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// auditPAPConfig is the `pap:` section of the audit configuration: the
// PAP whose Diff shows what each policy change changed (`verdict audit
// changes`).
//
//	pap:
//	  url: https://pap.example:8443
//	  ca: ca.pem               # trusted CAs (default: the system's)
//	  cert: audit.pem          # client certificate, when the PAP asks
//	  key: audit-key.pem
//	  insecure_plaintext: true # http:// on a loopback address only
type auditPAPConfig struct {
	URL               string `yaml:"url"`
	CA                string `yaml:"ca"`
	Cert              string `yaml:"cert"`
	Key               string `yaml:"key"`
	InsecurePlaintext bool   `yaml:"insecure_plaintext"`
	// client, set in code by `verdict up` (never from YAML), is the
	// platform's renewing mTLS client; it takes the place of ca/cert/key.
	client *http.Client
}

// papDiffer is audit.Differ over the PAP's PolicyAdminService.
type papDiffer struct {
	client verdictv1connect.PolicyAdminServiceClient
}

func (d papDiffer) Diff(ctx context.Context, req *verdictv1.DiffRequest) (*verdictv1.DiffResponse, error) {
	resp, err := d.client.Diff(ctx, connect.NewRequest(req))
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

// newPAPDiffer checks c and returns a client of the PAP's Diff: over TLS
// for https URLs, plaintext only when insecure_plaintext opts out on a
// loopback address.
func newPAPDiffer(c auditPAPConfig) (papDiffer, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return papDiffer{}, fmt.Errorf("pap.url: %w", err)
	}
	if c.client != nil {
		if u.Scheme != "https" {
			return papDiffer{}, fmt.Errorf("pap.url: %q: the platform's PAP client needs https", c.URL)
		}
		return papDiffer{client: verdictv1connect.NewPolicyAdminServiceClient(c.client, c.URL)}, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	switch u.Scheme {
	case "https":
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.CA != "" {
			if tc.RootCAs, err = loadCertPool(c.CA); err != nil {
				return papDiffer{}, fmt.Errorf("pap.ca: %w", err)
			}
		}
		if c.Cert != "" || c.Key != "" {
			cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
			if err != nil {
				return papDiffer{}, fmt.Errorf("pap.cert: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = tc
	case "http":
		if !c.InsecurePlaintext {
			return papDiffer{}, errors.New("pap.url: http:// needs insecure_plaintext: true (loopback only); use https")
		}
		host := u.Host
		if u.Port() == "" {
			host += ":80"
		}
		if err := server.CheckLoopback(host); err != nil {
			return papDiffer{}, fmt.Errorf("pap.insecure_plaintext: %w", err)
		}
	default:
		return papDiffer{}, fmt.Errorf("pap.url: %q is not an http(s) URL", c.URL)
	}
	return papDiffer{client: verdictv1connect.NewPolicyAdminServiceClient(&http.Client{Transport: tr}, c.URL)}, nil
}
