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
	SigningKey  string    `yaml:"signing_key"`
	Checkpoints string    `yaml:"checkpoints"`
	// Retention removes records older than this (e.g. 2160h), leaving
	// signed tombstones; 0 keeps everything.
	Retention time.Duration `yaml:"retention"`
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
	if *listen != "" && err == nil {
		cfg.Listen = *listen
	}
	if err != nil {
		return exitf(2, "%s: %v", *configPath, err)
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil))

	key, err := loadOrCreateSigningKey(cfg.SigningKey)
	if err != nil {
		return exitf(2, "signing_key: %v", err)
	}
	signer := audit.NewSigner(key)
	st, err := openAuditStore(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	var policies audit.PolicySource
	var changes audit.ChangeSource
	if cfg.PolicyStore != nil {
		ps, err := openPolicyStore(ctx, *cfg.PolicyStore)
		if err != nil {
			return err
		}
		defer ps.Close()
		policies, changes = storePolicies{st: ps}, ps
	}
	nc, err := nats.Connect(cfg.NATS.URL, nats.Name("verdict-audit"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	cpFile := audit.NewCheckpointFile(cfg.Checkpoints)
	collector := audit.NewCollector(js, st, signer,
		audit.WithStream(cfg.NATS.Stream, cfg.NATS.SubjectPrefix), audit.WithDurable(cfg.NATS.Durable),
		audit.WithCollectorLogger(logger),
		audit.WithCheckpoints(audit.DefaultCheckpointInterval, cpFile, audit.NewNATSCheckpoints(nc, audit.CheckpointSubjectPrefix)))
	svc := audit.NewService(st, audit.NewKeys(signer.PublicKey()), cpFile, policies, changes)

	mux := http.NewServeMux()
	mux.Handle(svc.ConnectHandler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols)}
	hs.Protocols.SetHTTP1(true)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.TLS != nil {
		tc, err := auditTLSConfig(cfg.TLS.Cert, cfg.TLS.Key, cfg.TLS.ClientCA)
		if err != nil {
			ln.Close()
			return exitf(2, "tls: %v", err)
		}
		hs.Protocols.SetHTTP2(true)
		ln = tls.NewListener(ln, tc)
	} else {
		hs.Protocols.SetUnencryptedHTTP2(true)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	collected := make(chan error, 1)
	go func() { collected <- collector.Run(ctx) }()
	if cfg.Retention > 0 {
		go retainLoop(ctx, st, signer, cfg.Retention, logger)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	logger.Info("listening", "audit", ln.Addr().String())
	select {
	case <-ctx.Done():
	case err = <-collected:
	case err = <-served:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	serr := hs.Shutdown(sctx)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		err = serr
	}
	logger.Info("stopped")
	return err
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
		data, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("client_ca %s: no PEM certificate found", clientCA)
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
