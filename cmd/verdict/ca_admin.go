package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"connectrpc.com/connect"

	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/caserver"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
)

// caFlags are the flags of the `verdict ca` commands that talk to a running
// CA as an administrator: the platform configuration (contract 6), or the
// CA's URL and the admin credentials given one by one.
type caFlags struct {
	config *string
	url    *string
	cert   *string
	key    *string
	caFile *string
	output *string
	rpc    *bool
}

func addCAFlags(fs *flag.FlagSet) *caFlags {
	return &caFlags{
		config: fs.String("config", "", "platform configuration (default $VERDICT_CONFIG, then ./verdict-data/verdict.yaml)"),
		url:    fs.String("ca-url", "", "CA URL, https://host:port (instead of --config)"),
		cert:   fs.String("cert", "", "admin client certificate (with --ca-url)"),
		key:    fs.String("key", "", "admin client key (with --ca-url)"),
		caFile: fs.String("ca-file", "", "trust bundle holding the CA root (with --ca-url)"),
		output: fs.String("output", "text", "output format: text or json"),
		rpc: fs.Bool("rpc", false, "use the CA's CertificateAuthorityService over Connect (the ca-rpc endpoint of --config, or --ca-url)"+
			" instead of its REST API"),
	}
}

func (f *caFlags) json() bool { return *f.output == "json" }

// client connects to the CA with the administrator's certificate, over
// the REST API (endpoint ca) or, with --rpc, CertificateAuthorityService
// (endpoint ca-rpc).
func (f *caFlags) client(env *cliEnv) (caAdmin, error) {
	if *f.output != "text" && *f.output != "json" {
		return nil, exitf(2, "--output must be text or json, not %q", *f.output)
	}
	url, joinURL, files := *f.url, "", tlsconfig.Files{Cert: *f.cert, Key: *f.key, Bundle: *f.caFile}
	if url == "" {
		cfg, err := loadPlatformConfig(platformConfigPath(*f.config))
		if err != nil {
			return nil, exitf(2, "%v", err)
		}
		endpoint := "ca"
		if *f.rpc {
			endpoint = "ca-rpc"
		}
		joinURL = cfg.Endpoints["ca"]
		if url, err = cfg.endpoint(endpoint); err != nil {
			return nil, exitf(2, "%v", err)
		}
		if cfg.TLS == nil {
			return nil, exitf(2, "the platform configuration has no tls section: the CA needs the admin certificate")
		}
		files = tlsconfig.Files{Cert: cfg.path(cfg.TLS.CertFile), Key: cfg.path(cfg.TLS.KeyFile), Bundle: cfg.path(cfg.TLS.CAFile)}
	}
	if files.Cert == "" || files.Key == "" || files.Bundle == "" {
		return nil, exitf(2, "--ca-url needs --cert, --key and --ca-file")
	}
	src, err := tlsconfig.LoadFiles(files)
	if err != nil {
		return nil, exitf(2, "admin credentials: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *f.rpc {
		c, err := newRPCCA(url, joinURL, src, tlsconfig.WithLogger(logger))
		if err != nil {
			return nil, exitf(2, "%v", err)
		}
		return c, nil
	}
	c, err := caclient.New(url, caclient.WithSource(src), caclient.WithLogger(logger))
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	return c, nil
}

// caFailure maps a CA API error to an exit code: refused or malformed
// requests exit 2, anything else 1.
func caFailure(what string, err error) error {
	var apiErr *caclient.APIError
	if errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 {
		return exitf(2, "%s: %v", what, err)
	}
	if errors.Is(err, errRPCUnsupported) {
		return exitf(2, "%s: %v", what, err)
	}
	switch connect.CodeOf(err) {
	case connect.CodeInvalidArgument, connect.CodePermissionDenied, connect.CodeUnauthenticated, connect.CodeNotFound,
		connect.CodeAlreadyExists, connect.CodeFailedPrecondition:
		return exitf(2, "%s: %v", what, err)
	}
	return exitf(1, "%s: %v", what, err)
}

// runCATokenCreate creates a one-time join token for a new instance.
func runCATokenCreate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("ca token create", env.stderr)
	af := addCAFlags(fs)
	service := fs.String("service", "", "service the token's certificate will identify")
	ttl := fs.Duration("ttl", 10*time.Minute, "how long the token stays redeemable")
	profile := fs.String("profile", "peer", "certificate profile: server, client or peer")
	lifetime := fs.Duration("lifetime", 0, "lifetime of the issued certificate (default: the CA's)")
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP the certificate may carry (repeatable)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *service == "" {
		return exitf(2, "--service is required")
	}
	c, err := af.client(env)
	if err != nil {
		return err
	}
	req := caapi.JoinTokenRequest{Service: *service, Profile: *profile, Hosts: hosts, TTL: ttl.String()}
	if *lifetime > 0 {
		req.Lifetime = lifetime.String()
	}
	tok, err := c.CreateJoinToken(ctx, req)
	if err != nil {
		return caFailure("create join token", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return caFailure("info", err)
	}
	out := struct {
		caapi.JoinTokenResult
		Fingerprint string `json:"root_fingerprint"`
		URL         string `json:"ca_url"`
	}{tok, info.Fingerprint, joinURLOf(c)}
	if af.json() {
		return writeJSON(env.stdout, out)
	}
	fmt.Fprintln(env.stdout, tok.Token)
	fmt.Fprintf(env.stderr, "identity %s, profile %s, expires %s\nredeem with: verdict ca bootstrap --url %s --token TOKEN --fingerprint %s --service %s --out DIR\n",
		tok.Identity, tok.Profile, tok.ExpiresAt.UTC().Format(time.RFC3339), joinURLOf(c), info.Fingerprint, *service)
	return nil
}

// runCARevoke revokes a certificate by serial.
func runCARevoke(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("ca revoke", env.stderr)
	af := addCAFlags(fs)
	serialFlag := fs.String("serial", "", "serial number, decimal (or 0x-prefixed / colon-separated hex)")
	reason := fs.String("reason", "", "RFC 5280 reason: keyCompromise, superseded, cessationOfOperation, ...")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *serialFlag == "" {
		return exitf(2, "--serial is required")
	}
	serial, err := caserver.ParseSerial(*serialFlag)
	if err != nil {
		return exitf(2, "%v", err)
	}
	c, err := af.client(env)
	if err != nil {
		return err
	}
	if err := c.Revoke(ctx, serial, *reason); err != nil {
		return caFailure("revoke", err)
	}
	if af.json() {
		return writeJSON(env.stdout, map[string]any{"serial": serial.String(), "revoked": true})
	}
	fmt.Fprintf(env.stdout, "revoked %s\n", serial)
	return nil
}

// runCAInfo describes the running CA.
func runCAInfo(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("ca info", env.stderr)
	af := addCAFlags(fs)
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	c, err := af.client(env)
	if err != nil {
		return err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return caFailure("info", err)
	}
	if af.json() {
		return writeJSON(env.stdout, info)
	}
	printCAInfo(env.stdout, c.URL(), info)
	return nil
}

func printCAInfo(w io.Writer, url string, info *caapi.InfoResult) {
	fmt.Fprintf(w, "url: %s\ntrust domain: %s\nroot fingerprint: %s\ndefault lifetime: %s\n", url, info.TrustDomain, info.Fingerprint, info.Expiry)
	if b, err := x509bundle.Parse([]byte(info.TrustBundle)); err == nil {
		for _, r := range b.Certificates() {
			fmt.Fprintf(w, "root: %s (expires %s)\n", r.Subject, r.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	names := make([]string, 0, len(info.Profiles))
	for n := range info.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "profile %s: %v\n", n, info.Profiles[n].Usages)
	}
}

// runCAToken dispatches `verdict ca token <sub>`: the command table holds
// two words, and join tokens have one verb so far.
func runCAToken(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return exitf(2, "usage: verdict ca token create --service NAME [--ttl 10m] [--config FILE | --ca-url URL --cert F --key F --ca-file F]")
	}
	return runCATokenCreate(ctx, env, args[1:])
}
