package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/caserver"
	"github.com/verdict-authz/verdict/pki/caservice"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// Files `verdict ca init` writes next to the CA's own state, named so that
// DIR/verdict.yaml can point at them (contract 6).
const (
	caRootFile     = "root.pem" // written by pki/ca itself
	caAdminCert    = "admin.pem"
	caAdminKey     = "admin-key.pem"
	caDefaultTD    = "verdict.local"
	caDefaultListn = "127.0.0.1:8443"
)

// caInit opens (or creates) the CA in dir and makes sure the administrator
// client credentials exist and are not past two thirds of their lifetime.
// It reports whether it minted new ones.
func caInit(ctx context.Context, dir, trustDomain string, logger *slog.Logger, opts ...ca.Option) (*ca.CA, bool, error) {
	if dir == "" {
		return nil, false, exitf(2, "--dir is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	c, err := ca.New(ctx, dir, append([]ca.Option{ca.WithTrustDomain(trustDomain), ca.WithLogger(logger),
		ca.WithAuditSink(ca.SlogAudit(logger))}, opts...)...)
	if err != nil {
		return nil, false, err
	}
	_, maxLifetime := c.Lifetimes()
	minted, err := ensureAdmin(ctx, c, filepath.Join(dir, caAdminCert), filepath.Join(dir, caAdminKey), maxLifetime)
	if err != nil {
		_ = c.Close()
		return nil, false, err
	}
	return c, minted, nil
}

// ensureAdmin makes sure the administrator client credentials at certPath
// and keyPath exist, belong to c and are not past two thirds of their
// lifetime, minting new ones (for lifetime) otherwise. It reports whether
// it minted.
func ensureAdmin(ctx context.Context, c *ca.CA, certPath, keyPath string, lifetime time.Duration) (bool, error) {
	if svid, err := x509svid.Load(certPath, keyPath); err == nil && adminUsable(c, svid) {
		return false, nil
	}
	key, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		return false, err
	}
	issued, err := c.Issue(ctx, ca.IssueRequest{PublicKey: key.Public(), Service: c.Admins()[0].Service(),
		Profile: ca.ProfileClient, Lifetime: lifetime})
	if err != nil {
		return false, fmt.Errorf("admin certificate: %w", err)
	}
	svid, err := x509svid.New(issued.Chain(), key)
	if err == nil {
		err = svid.WriteFiles(certPath, keyPath)
	}
	if err != nil {
		return false, fmt.Errorf("admin certificate: %w", err)
	}
	return true, nil
}

// adminUsable reports whether existing admin credentials belong to this CA
// and have more than a third of their lifetime left.
func adminUsable(c *ca.CA, svid *x509svid.SVID) bool {
	leaf := svid.Leaf()
	if leaf.CheckSignatureFrom(c.Issuer()) != nil {
		return false
	}
	if _, revoked := c.Revocations().Lookup(leaf.SerialNumber); revoked {
		return false
	}
	left := time.Until(leaf.NotAfter)
	return left > leaf.NotAfter.Sub(leaf.NotBefore)/3
}

// runCAInit creates the CA and its administrator credentials.
func runCAInit(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("ca init", env.stderr)
	dir := fs.String("dir", "", "directory of the CA's keys, database and admin credentials")
	td := fs.String("trust-domain", caDefaultTD, "SPIFFE trust domain of every issued identity")
	output := fs.String("output", "text", "output format: text or json")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return exitf(2, "--output must be text or json, not %q", *output)
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, minted, err := caInit(ctx, *dir, *td, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	out := struct {
		Dir         string `json:"dir"`
		TrustDomain string `json:"trust_domain"`
		Fingerprint string `json:"root_fingerprint"`
		Root        string `json:"root_file"`
		AdminCert   string `json:"admin_cert_file"`
		AdminKey    string `json:"admin_key_file"`
		AdminMinted bool   `json:"admin_minted"`
	}{*dir, c.TrustDomain(), x509bundle.FingerprintOf(c.Root()).String(), filepath.Join(*dir, caRootFile),
		filepath.Join(*dir, caAdminCert), filepath.Join(*dir, caAdminKey), minted}
	if *output == "json" {
		return writeJSON(env.stdout, out)
	}
	fmt.Fprintf(env.stdout, "trust domain: %s\nroot fingerprint: %s\nroot: %s\nadmin certificate: %s\nadmin key: %s\n",
		out.TrustDomain, out.Fingerprint, out.Root, out.AdminCert, out.AdminKey)
	return nil
}

// runCAServe runs the CA's HTTPS API (REST, OCSP, CRL) until interrupted,
// publishing revocations on NATS when given a server.
func runCAServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("ca serve", env.stderr)
	dir := fs.String("dir", "", "directory of the CA's keys, database and admin credentials (created when missing)")
	listen := fs.String("listen", caDefaultListn, "listen address of the HTTPS API")
	td := fs.String("trust-domain", caDefaultTD, "SPIFFE trust domain of every issued identity")
	lifetime := fs.Duration("lifetime", 0, "default lifetime of issued certificates (default 24h; minutes are fine)")
	rpcAddr := fs.String("rpc", "", "also serve CertificateAuthorityService (gRPC, gRPC-Web, Connect) on this address")
	natsURL := fs.String("nats", "", "NATS server to publish revocation events on (subject "+revocation.Subject+")")
	natsCert := fs.String("nats-cert", "", "client certificate for a NATS server that requires mTLS")
	natsKey := fs.String("nats-key", "", "key of --nats-cert")
	natsCA := fs.String("nats-ca", "", "trust bundle to verify the NATS server with (default: system roots)")
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP of the serving certificate (repeatable; default localhost)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil))
	opts := []ca.Option{ca.WithLifetime(*lifetime, 0)}
	if *natsURL != "" {
		natsOpts := []nats.Option{nats.Name("verdict-ca"), nats.MaxReconnects(-1)}
		if *natsCert != "" || *natsKey != "" {
			natsOpts = append(natsOpts, nats.ClientCert(*natsCert, *natsKey))
		}
		if *natsCA != "" {
			natsOpts = append(natsOpts, nats.RootCAs(*natsCA))
		}
		nc, err := nats.Connect(*natsURL, natsOpts...)
		if err != nil {
			return exitf(1, "nats %s: %v", *natsURL, err)
		}
		defer nc.Close()
		opts = append(opts, ca.WithRevocationNotifier(revocation.NewPublisher(nc, revocation.WithNATSLogger(logger))))
	}
	c, _, err := caInit(ctx, *dir, *td, logger, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	srvOpts := []caserver.Option{caserver.WithAddr(*listen), caserver.WithLogger(logger)}
	if len(hosts) > 0 {
		srvOpts = append(srvOpts, caserver.WithHosts(hosts...))
	}
	srv, err := caserver.New(ctx, c, srvOpts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	rpc := "off"
	if *rpcAddr != "" {
		svc := caservice.New(c, caservice.WithLogger(logger), caservice.WithEndpoints(srv.URL()+caapi.PathCRLDER, srv.URL()+caapi.PathOCSP))
		rs, err := svc.Listen(ctx, *rpcAddr, srv.Source())
		if err != nil {
			return err
		}
		defer rs.Close()
		rpc = rs.Addr().String()
	}
	endpoints := map[string]string{"ca": srv.URL()}
	if *rpcAddr != "" {
		// `verdict ca ... --rpc --config DIR/verdict.yaml` reach it there.
		endpoints["ca-rpc"] = "https://" + rpc
	}
	cfgPath, err := writePlatformConfig(*dir, &platformConfig{
		Endpoints: endpoints,
		TLS:       &platformTLS{CAFile: caRootFile, CertFile: caAdminCert, KeyFile: caAdminKey},
	})
	if err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	logger.Info("listening", "ca", srv.Addr().String(), "rpc", rpc, "url", srv.URL(),
		"root_fingerprint", srv.Fingerprint().String(), "config", cfgPath)
	<-ctx.Done()
	if err := srv.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
