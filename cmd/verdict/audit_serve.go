package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.yaml.in/yaml/v3"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/audit/sqlstore"
	"github.com/verdict-authz/verdict/pap/store"
	papostgres "github.com/verdict-authz/verdict/pap/store/postgres"
	papsqlite "github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/server"
)

// auditConfig is the YAML configuration of `verdict audit serve`.
type auditConfig struct {
	Listen            string `yaml:"listen"`
	InsecurePlaintext bool   `yaml:"insecure_plaintext"`
	TLS               *struct {
		Cert     string `yaml:"cert"`
		Key      string `yaml:"key"`
		ClientCA string `yaml:"client_ca"`
	} `yaml:"tls"`
	NATS struct {
		URL           string `yaml:"url"`
		Stream        string `yaml:"stream"`
		SubjectPrefix string `yaml:"subject_prefix"`
		Durable       string `yaml:"durable"`
	} `yaml:"nats"`
	Store       dbConfig  `yaml:"store"`
	PolicyStore *dbConfig `yaml:"policy_store"`
	// PAP is the policy administration point whose Diff shows what each
	// change of the policy change log changed (optional).
	PAP         *auditPAPConfig `yaml:"pap"`
	SigningKey  string          `yaml:"signing_key"`
	Checkpoints string          `yaml:"checkpoints"`
	// Retention removes records older than this (e.g. 2160h), leaving
	// signed tombstones; 0 keeps everything.
	Retention time.Duration `yaml:"retention"`
	// serverTLS and natsOptions are set in code by `verdict up` (never
	// from YAML): the platform's renewing, revocation-aware mTLS
	// configuration instead of tls:, and its NATS client certificate.
	serverTLS   *tls.Config
	natsOptions []nats.Option
}

// dbConfig names a SQLite file or a PostgreSQL database and schema.
type dbConfig struct {
	SQLite   string `yaml:"sqlite"`
	Postgres string `yaml:"postgres"`
	Schema   string `yaml:"schema"`
}

func loadAuditConfig(path string) (*auditConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := &auditConfig{}
	if err := yaml.Unmarshal(data, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	rel(&cfg.Store.SQLite)
	rel(&cfg.SigningKey)
	rel(&cfg.Checkpoints)
	if cfg.PolicyStore != nil {
		rel(&cfg.PolicyStore.SQLite)
	}
	if cfg.PAP != nil {
		rel(&cfg.PAP.CA)
		rel(&cfg.PAP.Cert)
		rel(&cfg.PAP.Key)
	}
	if cfg.TLS != nil {
		rel(&cfg.TLS.Cert)
		rel(&cfg.TLS.Key)
		rel(&cfg.TLS.ClientCA)
	}
	if cfg.NATS.Stream == "" {
		cfg.NATS.Stream = decisionlog.DefaultStream
	}
	if cfg.NATS.SubjectPrefix == "" {
		cfg.NATS.SubjectPrefix = decisionlog.DefaultSubjectPrefix
	}
	if cfg.NATS.Durable == "" {
		cfg.NATS.Durable = audit.DefaultDurable
	}
	switch {
	case cfg.Listen == "":
		return nil, errors.New("listen: address required")
	case cfg.NATS.URL == "":
		return nil, errors.New("nats.url: required")
	case (cfg.Store.SQLite == "") == (cfg.Store.Postgres == ""):
		return nil, errors.New("store: give exactly one of sqlite or postgres")
	case cfg.SigningKey == "" || cfg.Checkpoints == "":
		return nil, errors.New("signing_key and checkpoints: required (tamper evidence)")
	case cfg.TLS == nil && !cfg.InsecurePlaintext:
		return nil, errors.New("tls: required, unless insecure_plaintext: true on a loopback address")
	case cfg.InsecurePlaintext:
		if err := server.CheckLoopback(cfg.Listen); err != nil {
			return nil, fmt.Errorf("insecure_plaintext: %w", err)
		}
	}
	return cfg, nil
}

// loadOrCreateSigningKey reads the checkpoint signing key (PKCS#8 PEM),
// creating it on first start.
func loadOrCreateSigningKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
		return priv, nil
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return priv, nil
}

func openAuditStore(ctx context.Context, c dbConfig) (*sqlstore.Store, error) {
	if c.SQLite != "" {
		return sqlstore.OpenSQLite(ctx, c.SQLite)
	}
	return sqlstore.OpenPostgres(ctx, c.Postgres, c.Schema)
}

func openPolicyStore(ctx context.Context, c dbConfig) (store.Store, error) {
	if c.SQLite != "" {
		return papsqlite.Open(ctx, c.SQLite)
	}
	var opts []papostgres.Option
	if c.Schema != "" {
		opts = append(opts, papostgres.WithSchema(c.Schema))
	}
	return papostgres.Open(ctx, c.Postgres, opts...)
}

// runAuditServe implements `verdict audit serve --config FILE`: the
// collector (JetStream → store, checkpoints) and the AuditService over
// Connect and gRPC on one port. It logs `listening audit=ADDR`.
func runAuditServe(ctx context.Context, env *cliEnv, args []string) error {
	fset := newFlagSet("audit serve", env.stderr)
	configPath := fset.String("config", "", "audit configuration file (YAML)")
	listen := fset.String("listen", "", "listen address (overrides listen)")
	if _, err := parseInterleaved(fset, args); err != nil {
		return err
	}
	if *configPath == "" {
		return exitf(2, "usage: verdict audit serve --config FILE [--listen ADDR]")
	}
	cfg, err := loadAuditConfig(*configPath)
	if err != nil {
		return exitf(2, "%s: %v", *configPath, err)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil))
	a, err := startAuditServer(ctx, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("listening", "audit", a.Addr())
	select {
	case <-ctx.Done():
	case err = <-a.failed:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = errors.Join(err, a.Close(sctx))
	logger.Info("stopped")
	return err
}

// auditServer is the collector and the AuditService of one auditConfig,
// running; `verdict up` starts one in-process the same way.
type auditServer struct {
	ln      net.Listener
	hs      *http.Server
	cancel  context.CancelFunc
	failed  chan error
	stopped chan struct{}
	closers []func() error
	once    sync.Once
	err     error
}

// startAuditServer opens the stores, connects to NATS (retrying in the
// background when it is down), starts the collector and serves the API.
func startAuditServer(ctx context.Context, cfg *auditConfig, logger *slog.Logger) (a *auditServer, err error) {
	a = &auditServer{failed: make(chan error, 2), stopped: make(chan struct{})}
	defer func() {
		if err != nil {
			a.closeAll()
		}
	}()
	key, err := loadOrCreateSigningKey(cfg.SigningKey)
	if err != nil {
		return nil, exitf(2, "signing_key: %v", err)
	}
	signer := audit.NewSigner(key)
	st, err := openAuditStore(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, st.Close)
	var policies audit.PolicySource
	var changes audit.ChangeSource
	if cfg.PolicyStore != nil {
		ps, err := openPolicyStore(ctx, *cfg.PolicyStore)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, ps.Close)
		policies, changes = storePolicies{st: ps}, ps
	}
	nc, err := nats.Connect(cfg.NATS.URL, append([]nats.Option{nats.Name("verdict-audit"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true)}, cfg.natsOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	a.closers = append(a.closers, func() error { nc.Close(); return nil })
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	cpFile := audit.NewCheckpointFile(cfg.Checkpoints)
	collector := audit.NewCollector(js, st, signer,
		audit.WithStream(cfg.NATS.Stream, cfg.NATS.SubjectPrefix), audit.WithDurable(cfg.NATS.Durable),
		audit.WithCollectorLogger(logger),
		audit.WithCheckpoints(audit.DefaultCheckpointInterval, cpFile, audit.NewNATSCheckpoints(nc, audit.CheckpointSubjectPrefix)))
	var svcOpts []audit.ServiceOption
	if cfg.PAP != nil {
		d, err := newPAPDiffer(*cfg.PAP)
		if err != nil {
			return nil, exitf(2, "%v", err)
		}
		svcOpts = append(svcOpts, audit.WithDiffer(d))
	}
	svc := audit.NewService(st, audit.NewKeys(signer.PublicKey()), cpFile, policies, changes, svcOpts...)

	mux := http.NewServeMux()
	mux.Handle(svc.ConnectHandler())
	a.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols),
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	a.hs.Protocols.SetHTTP1(true)
	if a.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if cfg.serverTLS != nil {
		a.hs.Protocols.SetHTTP2(true)
		a.ln = tls.NewListener(a.ln, cfg.serverTLS)
	} else if cfg.TLS != nil {
		tc, err := auditTLSConfig(cfg.TLS.Cert, cfg.TLS.Key, cfg.TLS.ClientCA)
		if err != nil {
			a.ln.Close()
			return nil, exitf(2, "tls: %v", err)
		}
		a.hs.Protocols.SetHTTP2(true)
		a.ln = tls.NewListener(a.ln, tc)
	} else {
		a.hs.Protocols.SetUnencryptedHTTP2(true)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := collector.Run(runCtx); err != nil {
			a.failed <- err
		}
	}()
	go func() {
		defer wg.Done()
		if cfg.Retention > 0 {
			retainLoop(runCtx, st, signer, cfg.Retention, logger)
		}
	}()
	go func() {
		if err := a.hs.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.failed <- err
		}
	}()
	go func() { wg.Wait(); close(a.stopped) }()
	return a, nil
}

// Addr is the bound address of the API.
func (a *auditServer) Addr() string { return a.ln.Addr().String() }

// Close stops serving, lets the collector write its final checkpoint and
// closes the stores and the connection. It is safe to call more than once.
func (a *auditServer) Close(ctx context.Context) error {
	a.once.Do(func() {
		a.err = a.hs.Shutdown(ctx)
		a.cancel()
		select {
		case <-a.stopped:
		case <-ctx.Done():
			a.err = errors.Join(a.err, ctx.Err())
		}
		a.err = errors.Join(a.err, a.closeAll())
	})
	return a.err
}

func (a *auditServer) closeAll() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// auditTLSConfig serves with cert/key and, when clientCA is set, requires
// client certificates from it (auditors' data is sensitive).
func auditTLSConfig(cert, key, clientCA string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if clientCA != "" {
		pool, err := loadCertPool(clientCA)
		if err != nil {
			return nil, fmt.Errorf("client_ca: %w", err)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// retainLoop applies the retention period hourly to every service.
func retainLoop(ctx context.Context, st audit.Store, signer *audit.Signer, keep time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		services, err := st.Services(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Warn("audit retention: list services", "err", err)
		}
		for _, svc := range services {
			t, err := audit.Retain(ctx, st, signer, svc, time.Now().Add(-keep))
			switch {
			case err == nil:
				logger.Info("audit retention: removed records", "service", svc, "first", t.First, "last", t.Last)
			case !errors.Is(err, audit.ErrNothingToRetain) && ctx.Err() == nil:
				logger.Warn("audit retention", "service", svc, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
