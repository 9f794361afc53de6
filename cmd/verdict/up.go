package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"connectrpc.com/connect"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/pap/publish"
	papserver "github.com/verdict-authz/verdict/pap/server"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/natsauth"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// upPDPService is the example service the remote PDP of `verdict up`
// decides for.
const upPDPService = "authzen-todo"

// runUp implements contract 5: everything on one machine — embedded NATS
// with JetStream, the PAP on SQLite, a remote PDP fed by its bundle
// source, and the example policies pushed — until SIGINT or SIGTERM.
func runUp(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("up", env.stderr)
	dataDir := fs.String("data-dir", "./verdict-data", "where NATS, the PAP database, keys and caches live")
	policiesDir := fs.String("policies", "policies", "example policies pushed at start: each subdirectory is a service of that name (empty: none)")
	natsAddr := fs.String("nats", "127.0.0.1:0", "NATS listen address (port 0: a free port)")
	papAddr := fs.String("pap", "127.0.0.1:0", "PAP (Connect and gRPC over HTTP) listen address")
	pdpHTTP := fs.String("pdp-http", "127.0.0.1:0", "remote PDP HTTP listen address")
	pdpGRPC := fs.String("pdp-grpc", "127.0.0.1:0", "remote PDP gRPC listen address")
	caAddr := fs.String("ca", "127.0.0.1:0", "CA API (REST, OCSP, CRL) listen address")
	caRPCAddr := fs.String("ca-rpc", "127.0.0.1:0", "CA CertificateAuthorityService (gRPC, gRPC-Web, Connect) listen address")
	auditAddr := fs.String("audit", "127.0.0.1:0", "audit query API listen address")
	trustDomain := fs.String("trust-domain", caDefaultTD, "SPIFFE trust domain of the platform's identities")
	lifetime := fs.Duration("cert-lifetime", 0, "lifetime of the certificates the CA issues (default 24h; minutes are fine)")
	inlineLimit := fs.Int("bundle-inline-limit", 0, "largest bundle sent inside its NATS message; larger ones go to the service's Object Store bucket (0: the server's maximum payload)")
	plaintext := fs.Bool("insecure-plaintext", false, "no CA and no TLS: plaintext on loopback addresses only (the behaviour before the CA existed)")
	logLevel := fs.String("log-level", "warn", "log level on stderr: debug, info, warn or error")
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return exitf(2, "usage: verdict up [--data-dir DIR]")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return exitf(2, "--log-level: %v", err)
	}
	addrs := []string{*natsAddr, *papAddr, *pdpHTTP, *pdpGRPC, *auditAddr}
	if *plaintext {
		for _, a := range addrs {
			if err := server.CheckLoopback(a); err != nil {
				return exitf(2, "--insecure-plaintext serves on loopback addresses only: %v", err)
			}
		}
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	u := &upRun{env: env, dir: dir, log: logger, inlineLimit: *inlineLimit, endpoints: map[string]string{}, heads: map[string]int64{}, failed: make(chan error, 4)}
	defer u.shutdown()
	if !*plaintext {
		if err := u.startPKI(ctx, *trustDomain, *lifetime, certHosts(append(addrs, *caAddr, *caRPCAddr)...)); err != nil {
			return err
		}
	}
	if err := u.start(ctx, *natsAddr, *papAddr, *auditAddr); err != nil {
		return err
	}
	if u.pki != nil {
		if err := u.startCAServer(ctx, *caAddr, *caRPCAddr); err != nil {
			return err
		}
	}
	if *policiesDir != "" {
		if err := u.pushExamples(ctx, *policiesDir); err != nil {
			return err
		}
	}
	if err := u.startPDP(ctx, *policiesDir, *pdpHTTP, *pdpGRPC); err != nil {
		return err
	}
	pc := &platformConfig{Endpoints: u.endpoints}
	if u.pki != nil {
		pc.TLS = &platformTLS{CAFile: filepath.Join(upCADir, caRootFile), CertFile: caAdminCert, KeyFile: caAdminKey}
	}
	path, err := writePlatformConfig(dir, pc)
	if err != nil {
		return fmt.Errorf("writing the platform configuration: %w", err)
	}
	for _, name := range []string{"nats", "pap", "pdp-http", "pdp-grpc", "ca", "audit"} {
		if url, ok := u.endpoints[name]; ok {
			fmt.Fprintf(env.stdout, "%s: %s\n", name, url)
		}
	}
	fmt.Fprintln(env.stdout, "ready")
	logger.Info("platform ready", "config", path)

	select {
	case <-ctx.Done():
	case err := <-u.failed:
		return fmt.Errorf("a component stopped: %w", err)
	}
	fmt.Fprintln(env.stderr, "verdict up: shutting down")
	return nil
}

// upRun holds what `verdict up` started, to stop it in reverse order.
type upRun struct {
	env       *cliEnv
	dir       string
	log       *slog.Logger
	endpoints map[string]string
	key       *bundle.SigningKey
	failed    chan error
	heads     map[string]int64 // latest revision of each example service
	pki       *upPKI           // nil with --insecure-plaintext
	// inlineLimit is the publisher's, 0 for its default.
	inlineLimit int

	stops []func() // run in reverse by shutdown
}

func (u *upRun) onStop(f func()) { u.stops = append(u.stops, f) }

func (u *upRun) shutdown() {
	for i := len(u.stops) - 1; i >= 0; i-- {
		u.stops[i]()
	}
}

// serve runs a server with its own context until it returns; an early
// failure ends `up`. Shutting down cancels the context and waits for the
// server to finish, before what it uses is closed.
func (u *upRun) serve(ctx context.Context, name string, f func(ctx context.Context) error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f(sctx); err != nil {
			select {
			case u.failed <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
	u.onStop(func() { cancel(); <-done })
}

// start brings up NATS, the signing key, the store, the publisher, the
// PAP and the audit collector.
func (u *upRun) start(ctx context.Context, natsAddr, papAddr, auditAddr string) error {
	natsURL, err := u.startNATS(ctx, natsAddr)
	if err != nil {
		return err
	}
	if u.pki != nil {
		if err := u.publishRevocations(ctx, natsURL); err != nil {
			return err
		}
	}
	if u.key, err = upSigningKey(filepath.Join(u.dir, "keys")); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, filepath.Join(u.dir, "pap.db"))
	if err != nil {
		return err
	}
	u.onStop(func() { st.Close() })
	natsOpts := []nats.Option{nats.Name("verdict-pap"), nats.MaxReconnects(-1)}
	papOpts := []papserver.Option{papserver.WithInsecurePlaintext()}
	if u.pki != nil {
		src, err := u.identity(ctx, natsauth.ServicePAP, ca.ProfilePeer)
		if err != nil {
			return err
		}
		natsOpts = append(natsOpts, u.pki.natsOptions(src, natsauth.ServicePAP)...)
		papOpts = []papserver.Option{papserver.WithTLS(u.pki.serverTLS(src))}
	}
	nc, err := nats.Connect(natsURL, natsOpts...)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	u.onStop(nc.Close)
	reg := prometheus.NewRegistry()
	pubOpts := []publish.Option{publish.WithLogger(u.log), publish.WithRegisterer(reg), publish.WithInlineLimit(u.inlineLimit),
		// A rotation (`verdict policy keys rotate`) survives a restart.
		publish.WithKeyFile(filepath.Join(u.dir, "keys", "bundle-signing.pem"))}
	if u.pki != nil {
		// NATS permissions give each service's PDPs its own bucket only.
		pubOpts = append(pubOpts, publish.WithServiceBuckets())
	}
	pub, err := publish.New(ctx, nc, u.key, pubOpts...)
	if err != nil {
		return err
	}
	fleet, err := papserver.NewFleet(nc, pub.Subjects(), papserver.WithFleetLogger(u.log))
	if err != nil {
		return err
	}
	u.onStop(func() { fleet.Close() })
	pap, err := papserver.New(st, pub, append(papOpts, papserver.WithFleet(fleet),
		papserver.WithLogger(u.log), papserver.WithRegisterer(reg))...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", papAddr)
	if err != nil {
		return fmt.Errorf("pap: %w", err)
	}
	u.serve(ctx, "pap", func(ctx context.Context) error { return pap.Serve(ctx, ln, nil) })
	u.endpoints["pap"] = u.scheme("http") + "://" + ln.Addr().String()
	return u.startAudit(ctx, natsURL, auditAddr)
}

// scheme returns the TLS form of a URL scheme ("http" → "https", "nats" →
// "tls") unless the platform runs in plaintext.
func (u *upRun) scheme(plain string) string {
	if u.pki == nil {
		return plain
	}
	if plain == "nats" {
		return "tls"
	}
	return plain + "s"
}

// startNATS runs the embedded NATS server with JetStream. With the CA it
// listens with TLS only, requires a client certificate of the trust domain
// and maps each identity to its permissions (pki/natsauth).
func (u *upRun) startNATS(ctx context.Context, addr string) (string, error) {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return "", exitf(2, "--nats: %v", err)
	}
	if port == 0 {
		port = -1 // nats-server: pick a free port
	}
	opts := &natsserver.Options{
		ServerName: "verdict-up", Host: host, Port: port, JetStream: true,
		StoreDir: filepath.Join(u.dir, "nats"), NoSigs: true, NoLog: true,
	}
	if u.pki != nil {
		src, err := u.identity(ctx, upNATSService, ca.ProfileServer)
		if err != nil {
			return "", err
		}
		tc := u.pki.serverTLS(src)
		// Only reported in the server's INFO: the per-connection
		// configuration requires and verifies the certificate.
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		opts.TLSConfig, opts.TLSVerify, opts.TLSTimeout = tc, true, 5
		opts.CustomClientAuthentication = natsauth.NewAuthenticator(u.pki.td, natsauth.Layout{}, u.log)
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return "", fmt.Errorf("nats: %w", err)
	}
	ns.Start()
	u.onStop(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(30 * time.Second) {
		return "", errors.New("nats: not ready after 30s")
	}
	url := u.scheme("nats") + "://" + ns.Addr().String()
	u.endpoints["nats"] = url
	return url, nil
}

// startAudit runs the audit collector and query API on the platform's
// NATS, with its store, signing key and checkpoints in the data directory.
func (u *upRun) startAudit(ctx context.Context, natsURL, addr string) error {
	cfg := &auditConfig{Listen: addr, InsecurePlaintext: u.pki == nil}
	cfg.NATS.URL = natsURL
	cfg.NATS.Stream = decisionlog.DefaultStream
	cfg.NATS.SubjectPrefix = decisionlog.DefaultSubjectPrefix
	cfg.NATS.Durable = audit.DefaultDurable
	cfg.Store = dbConfig{SQLite: filepath.Join(u.dir, "audit.db")}
	cfg.PolicyStore = &dbConfig{SQLite: filepath.Join(u.dir, "pap.db")}
	cfg.PAP = &auditPAPConfig{URL: u.endpoints["pap"], InsecurePlaintext: u.pki == nil}
	cfg.SigningKey = filepath.Join(u.dir, "keys", "audit-signing.pem")
	cfg.Checkpoints = filepath.Join(u.dir, "audit-checkpoints")
	if u.pki != nil {
		src, err := u.identity(ctx, natsauth.ServiceAudit, ca.ProfilePeer)
		if err != nil {
			return err
		}
		cfg.serverTLS = u.pki.serverTLS(src)
		cfg.natsOptions = u.pki.natsOptions(src, natsauth.ServiceAudit)
		cfg.PAP.client = tlsconfig.HTTPClient(src,
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(u.pki.td, natsauth.ServicePAP))),
			tlsconfig.WithLogger(u.log))
	}
	a, err := startAuditServer(ctx, cfg, u.log)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	u.onStop(func() { _ = a.Close(context.WithoutCancel(ctx)) })
	u.endpoints["audit"] = u.scheme("http") + "://" + a.Addr()
	return nil
}

// upSigningKey loads the bundle-signing key of the data directory,
// creating it (and the public key file PDPs trust) on first start.
func upSigningKey(dir string) (*bundle.SigningKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "bundle-signing.pem")
	key, err := bundle.LoadSigningKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if key, err = bundle.GenerateSigningKey(); err != nil {
			return nil, err
		}
		if err = bundle.WritePrivateKeyFile(path, key); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bundle-signing key: %w", err)
	}
	if err := bundle.WriteKeyFile(filepath.Join(dir, "trusted-keys.json"), key.PublicKey()); err != nil {
		return nil, err
	}
	return key, nil
}

// pushExamples pushes every subdirectory of dir as the service of that
// name, through the PAP's own API, unless the latest revision already has
// the same files.
func (u *upRun) pushExamples(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(u.env.stderr, "verdict up: no %s directory; no example policies pushed\n", dir)
		return nil
	}
	if err != nil {
		return err
	}
	hc := http.DefaultClient
	if u.pki != nil {
		hc = u.pki.adminHTTP(natsauth.ServicePAP)
	}
	client := verdictv1connect.NewPolicyAdminServiceClient(hc, u.endpoints["pap"])
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, service := range names {
		if err := store.ValidateService(service); err != nil {
			fmt.Fprintf(u.env.stderr, "verdict up: skipping %s: not a service name\n", filepath.Join(dir, service))
			continue
		}
		srcs, err := collectSources([]string{filepath.Join(dir, service)})
		if err != nil {
			return exitf(2, "example policies %s: %v", service, err)
		}
		diff, err := client.Diff(ctx, connect.NewRequest(&verdictv1.DiffRequest{Service: service, ToSources: srcs}))
		if err == nil && len(diff.Msg.GetFiles()) == 0 {
			u.log.Info("example policies unchanged", "service", service, "revision", diff.Msg.GetFrom().GetNumber())
			u.heads[service] = diff.Msg.GetFrom().GetNumber()
			continue
		}
		if err != nil && connect.CodeOf(err) != connect.CodeNotFound {
			return fmt.Errorf("example policies %s: %w", service, err)
		}
		resp, err := client.Push(ctx, connect.NewRequest(&verdictv1.PushRequest{Service: service, Sources: srcs, Message: "example policies pushed by verdict up"}))
		if err != nil {
			return rpcFailure(u.env, "pushing example policies "+service, err)
		}
		u.log.Info("example policies pushed", "service", service, "revision", resp.Msg.GetRevision().GetNumber())
		u.heads[service] = resp.Msg.GetRevision().GetNumber()
	}
	return nil
}

// startPDP starts the remote PDP for the example service: the engine and
// PIPs of its pdp.yaml, fed by the service's bundles from NATS.
func (u *upRun) startPDP(ctx context.Context, policiesDir, httpAddr, grpcAddr string) error {
	cfgPath := filepath.Join(policiesDir, upPDPService, "pdp.yaml")
	if policiesDir == "" {
		fmt.Fprintln(u.env.stderr, "verdict up: no example policies; no remote PDP started")
		return nil
	}
	if _, err := os.Stat(cfgPath); err != nil {
		fmt.Fprintf(u.env.stderr, "verdict up: no %s; no remote PDP started\n", cfgPath)
		return nil
	}
	cfg, err := loadPDPConfig(cfgPath)
	if err != nil {
		return exitf(2, "%v", err)
	}
	cfg.Listen.HTTP, cfg.Listen.GRPC = httpAddr, grpcAddr
	cfg.TLS, cfg.InsecurePlaintext = nil, u.pki == nil
	cfg.Service = upPDPService
	// Every decision goes to the audit collector started with the platform.
	cfg.DecisionLog = &decisionLogConfig{NATS: u.endpoints["nats"], Spool: filepath.Join(u.dir, "pdp", "decision-spool"), Instance: "verdict-up"}
	natsOpts := []nats.Option{nats.Name("verdict-pdp"), nats.MaxReconnects(-1)}
	if u.pki != nil {
		// The remote PDP has the identity of the service it decides for.
		src, err := u.identity(ctx, upPDPService, ca.ProfilePeer)
		if err != nil {
			return err
		}
		cfg.serverTLS = u.pki.serverTLS(src)
		cfg.DecisionLog.natsOptions = u.pki.natsOptions(src, upPDPService)
		natsOpts = append(natsOpts, u.pki.natsOptions(src, upPDPService)...)
	}
	if err := cfg.check(); err != nil {
		return exitf(2, "%s: %v", cfgPath, err)
	}
	p, err := newPDP(ctx, cfg, u.log)
	if err != nil {
		return err
	}
	u.onStop(func() { p.Close() })

	nc, err := nats.Connect(u.endpoints["nats"], natsOpts...)
	if err != nil {
		return fmt.Errorf("pdp: nats: %w", err)
	}
	u.onStop(nc.Close)
	trust, err := bundle.NewTrustStore([]bundle.PublicKey{u.key.PublicKey()})
	if err != nil {
		return err
	}
	cache := filepath.Join(u.dir, "pdp")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return err
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	src, err := bundlesource.New(wait, nc, p.engine, bundlesource.WithService(upPDPService),
		bundlesource.WithTrustStore(trust), bundlesource.WithCacheDir(cache), bundlesource.WithLogger(u.log),
		bundlesource.WithInstance("verdict-up-pdp"))
	if err != nil {
		return fmt.Errorf("pdp: %w", err)
	}
	u.onStop(func() { src.Close() })
	// A last-known-good bundle makes New return at once: wait for the
	// revision just pushed, so that `ready` means the PDP runs it.
	if err := src.WaitForRevision(wait, uint64(u.heads[upPDPService])); err != nil {
		return fmt.Errorf("pdp: revision %d of %s not active: %w (last error: %v)", u.heads[upPDPService], upPDPService, err, src.LastError())
	}

	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("pdp: %w", err)
	}
	gl, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		hl.Close()
		return fmt.Errorf("pdp: %w", err)
	}
	u.serve(ctx, "pdp", func(ctx context.Context) error { return p.server.Serve(ctx, hl, gl) })
	u.endpoints["pdp-http"] = u.scheme("http") + "://" + hl.Addr().String()
	u.endpoints["pdp-grpc"] = gl.Addr().String()
	u.log.Info("remote PDP serving", "service", upPDPService, "revision", src.Revision())
	return nil
}

// splitHostPort parses host:port with a numeric port.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	var port int
	if _, err := fmt.Sscanf(p, "%d", &port); err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return host, port, nil
}
