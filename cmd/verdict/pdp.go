package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.yaml.in/yaml/v3"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/pip/jsonfile"
	"github.com/verdict-authz/verdict/token"
	"github.com/verdict-authz/verdict/xacml"
)

// runPDPServe implements contract 2: a remote PDP serving compiled policy
// files over AuthZEN, Connect, gRPC and Envoy ext_authz until SIGINT or
// SIGTERM.
func runPDPServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("pdp serve", env.stderr)
	configPath := fs.String("config", "", "PDP configuration file (YAML)")
	httpAddr := fs.String("http", "", "HTTP listen address (overrides listen.http)")
	grpcAddr := fs.String("grpc", "", "gRPC listen address (overrides listen.grpc)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *configPath == "" {
		fs.Usage()
		return exitf(2, "usage: verdict pdp serve --config FILE [--http ADDR] [--grpc ADDR]")
	}
	cfg, err := loadPDPConfig(*configPath)
	if err != nil {
		return exitf(2, "%v", err)
	}
	if *httpAddr != "" {
		cfg.Listen.HTTP = *httpAddr
	}
	if *grpcAddr != "" {
		cfg.Listen.GRPC = *grpcAddr
	}
	if err := cfg.check(); err != nil {
		return exitf(2, "%s: %v", *configPath, err)
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil))
	tuneGC()
	p, err := newPDP(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer p.Close()

	var hl, gl net.Listener
	if cfg.Listen.HTTP != "" {
		if hl, err = net.Listen("tcp", cfg.Listen.HTTP); err != nil {
			return fmt.Errorf("listen http: %w", err)
		}
	}
	if cfg.Listen.GRPC != "" {
		if gl, err = net.Listen("tcp", cfg.Listen.GRPC); err != nil {
			if hl != nil {
				hl.Close()
			}
			return fmt.Errorf("listen grpc: %w", err)
		}
	}
	logger.Info("listening", "http", addrOf(hl), "grpc", addrOf(gl), "policy", p.policy, "revision", p.revision)
	if err := p.server.Serve(ctx, hl, gl); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// GC settings of a serving PDP, unless GOGC / GOMEMLIMIT say otherwise.
const (
	// serveGCPercent: a decision allocates tens of kilobytes that die at
	// once while the live heap (policy, PIP data) is small, so Go's
	// default of 100 collects thousands of times a second under load, and
	// every collection also shrinks the deep evaluation stacks that the
	// next request grows again. 400 cut that cost by more than half in
	// bench/run.sh's load test.
	serveGCPercent = 400
	// serveMemoryLimit is the soft limit that keeps that headroom from
	// growing the heap without bound under overload: near it the collector
	// runs as often as needed again.
	serveMemoryLimit = 1 << 30
)

// tuneGC applies serveGCPercent and serveMemoryLimit to this process
// unless the operator set GOGC or GOMEMLIMIT.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}

// addrOf is a listener's bound address for the listening line ("off" when
// that protocol is not served).
func addrOf(ln net.Listener) string {
	if ln == nil {
		return "off"
	}
	return ln.Addr().String()
}

// pdpConfig is the YAML configuration of contract 2. Paths are relative to
// the configuration file's directory (resolved by loadPDPConfig).
type pdpConfig struct {
	Listen struct {
		HTTP string `yaml:"http"`
		GRPC string `yaml:"grpc"`
	} `yaml:"listen"`
	TLS               *pdpTLSConfig `yaml:"tls"`
	InsecurePlaintext bool          `yaml:"insecure_plaintext"`
	// serverTLS, set in code by `verdict up` (never from YAML), takes the
	// place of tls: with the platform's renewing, revocation-aware mTLS
	// configuration.
	serverTLS *tls.Config
	// Policies are files or directories of XACML XML or YAML policies.
	Policies stringOrList `yaml:"policies"`
	// Root names the root policy when more than one is unreferenced.
	Root string `yaml:"root"`
	// Service names the protected service in logs and decisions.
	Service string `yaml:"service"`
	// Bundle is the alternative to Policies: follow a service's bundles.
	Bundle *struct {
		NATS        string `yaml:"nats"`
		Service     string `yaml:"service"`
		TrustedKeys string `yaml:"trusted_keys"`
		// Cache keeps the last-known-good bundle (default: a folder
		// next to the configuration file).
		Cache string `yaml:"cache"`
		// Wait bounds the wait for the first bundle (default 30s).
		Wait time.Duration `yaml:"wait"`
		// TLS is the client certificate for a tls:// NATS server
		// (default: the top-level tls: cert and key; see natsTLSConfig).
		TLS *natsTLSConfig `yaml:"tls"`
	} `yaml:"bundle"`
	PIPs []pipConfig `yaml:"pips"`
	// DecisionLog ships every decision to the audit collector over NATS
	// (see decisionLogConfig).
	DecisionLog *decisionLogConfig `yaml:"decision_log"`
	// dir is the configuration file's directory, for paths resolved late.
	dir string
	// Token turns bearer JWTs (ext_authz, DecisionService bearer_token)
	// into subject attributes.
	Token *tokenConfig `yaml:"token"`
	// BaseURL is the public URL advertised in the AuthZEN metadata.
	BaseURL string `yaml:"base_url"`
	// RejectUnknownFields answers 400 to AuthZEN requests with members the
	// API does not define (AuthZEN 1.0 says to ignore them: off by default).
	RejectUnknownFields bool `yaml:"reject_unknown_fields"`
	// Limits bound what one request may cost.
	Limits struct {
		MaxRequestBytes int64         `yaml:"max_request_bytes"`
		MaxBatch        int           `yaml:"max_batch"`
		MaxInFlight     int           `yaml:"max_in_flight"`
		RequestTimeout  time.Duration `yaml:"request_timeout"`
		// MaxQueued bounds the requests waiting for a slot (503 past it).
		MaxQueued int `yaml:"max_queued"`
		// MaxInFlightBytes bounds the request bodies decided at once.
		MaxInFlightBytes int64 `yaml:"max_in_flight_bytes"`
	} `yaml:"limits"`
}

// pipConfig is one entry of pips:.
type pipConfig struct {
	Type string `yaml:"type"`
	File string `yaml:"file"`
	Key  struct {
		Category  string `yaml:"category"`
		Attribute string `yaml:"attribute"`
	} `yaml:"key"`
	// Category of the attributes supplied, when not the key's.
	Category string `yaml:"category"`
	// EntityType is the AuthZEN type of the entities, for the search APIs.
	EntityType string `yaml:"entity_type"`
}

// tokenConfig configures bearer-token validation.
type tokenConfig struct {
	JWKS       string       `yaml:"jwks"`
	Issuer     stringOrList `yaml:"issuer"`
	Audience   stringOrList `yaml:"audience"`
	Algorithms stringOrList `yaml:"algorithms"`
}

// stringOrList accepts "a" as well as [a, b].
type stringOrList []string

func (s *stringOrList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = []string{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// loadPDPConfig reads the configuration strictly (an unknown key is an
// error: a misspelt tls: must not silently serve plaintext) and makes its
// paths absolute.
func loadPDPConfig(path string) (*pdpConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	cfg := &pdpConfig{}
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	cfg.dir = dir
	rel := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) && !strings.Contains(*p, "://") {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range cfg.Policies {
		rel(&cfg.Policies[i])
	}
	if cfg.TLS != nil {
		rel(&cfg.TLS.Cert)
		rel(&cfg.TLS.Key)
		rel(&cfg.TLS.ClientCA)
		if r := cfg.TLS.Revocation; r != nil {
			rel(&r.CRLIssuer)
		}
	}
	if cfg.Bundle != nil {
		rel(&cfg.Bundle.TrustedKeys)
		rel(&cfg.Bundle.Cache)
		cfg.Bundle.TLS.rel(rel)
	}
	if cfg.DecisionLog != nil {
		cfg.DecisionLog.TLS.rel(rel)
	}
	for i := range cfg.PIPs {
		rel(&cfg.PIPs[i].File)
	}
	if cfg.Token != nil {
		rel(&cfg.Token.JWKS)
	}
	return cfg, nil
}

// check validates what can be checked before loading anything.
func (c *pdpConfig) check() error {
	switch {
	case c.Listen.HTTP == "" && c.Listen.GRPC == "":
		return errors.New("listen: give an http or a grpc address")
	case c.TLS == nil && !c.InsecurePlaintext && c.serverTLS == nil:
		return errors.New("tls: required (cert and key), unless insecure_plaintext: true on loopback addresses")
	case c.TLS != nil && c.InsecurePlaintext:
		return errors.New("tls and insecure_plaintext: choose one")
	case c.TLS != nil && c.TLS.check() != nil:
		return c.TLS.check()
	case c.Bundle != nil && len(c.Policies) > 0:
		return errors.New("policies and bundle: choose one")
	case c.Bundle != nil && (c.Bundle.NATS == "" || c.Bundle.Service == "" || c.Bundle.TrustedKeys == ""):
		return errors.New("bundle: nats, service and trusted_keys are required")
	case c.Bundle != nil && c.Bundle.TLS.check("bundle") != nil:
		return c.Bundle.TLS.check("bundle")
	case c.DecisionLog != nil && c.DecisionLog.TLS.check("decision_log") != nil:
		return c.DecisionLog.TLS.check("decision_log")
	case c.Bundle != nil:
	case len(c.Policies) == 0:
		return errors.New("policies: give policy files or directories")
	}
	if c.InsecurePlaintext {
		for _, a := range []string{c.Listen.HTTP, c.Listen.GRPC} {
			if a == "" {
				continue
			}
			if err := server.CheckLoopback(a); err != nil {
				return fmt.Errorf("insecure_plaintext: %w", err)
			}
		}
	}
	for i, p := range c.PIPs {
		if p.Type != "json-file" {
			return fmt.Errorf("pips[%d]: unknown type %q (want json-file)", i, p.Type)
		}
		if p.File == "" || p.Key.Category == "" || p.Key.Attribute == "" {
			return fmt.Errorf("pips[%d]: json-file needs file and key {category, attribute}", i)
		}
	}
	if l := c.Limits; l.MaxRequestBytes < 0 || l.MaxBatch < 0 || l.MaxInFlight < 0 || l.RequestTimeout < 0 ||
		l.MaxQueued < 0 || l.MaxInFlightBytes < 0 {
		return errors.New("limits: values must be positive (0 keeps the default)")
	}
	if t := c.Token; t != nil && (t.JWKS == "" || len(t.Issuer) == 0 || len(t.Audience) == 0) {
		return errors.New("token: jwks, issuer and audience are required")
	}
	if b := c.Bundle; b != nil {
		if _, err := c.natsClientTLS("bundle", b.NATS, b.TLS); err != nil {
			return err
		}
	}
	if d := c.DecisionLog; d != nil && d.natsOptions == nil {
		if _, err := c.natsClientTLS("decision_log", d.NATS, d.TLS, c.bundleTLS()); err != nil {
			return err
		}
	}
	return nil
}

// bundleTLS is bundle.tls, nil without a bundle section.
func (c *pdpConfig) bundleTLS() *natsTLSConfig {
	if c.Bundle == nil {
		return nil
	}
	return c.Bundle.TLS
}

// decisionService is the service decisions are logged for: service:, else
// the service whose bundles the PDP follows (the only decision subject the
// platform's NATS lets that PDP publish on), else "default".
func (c *pdpConfig) decisionService() string {
	switch {
	case c.Service != "":
		return c.Service
	case c.Bundle != nil && c.Bundle.Service != "":
		return c.Bundle.Service
	}
	return "default"
}

// runningPDP is everything runPDPServe builds from a configuration.
type runningPDP struct {
	server   *server.Server
	engine   *pdp.Engine
	pips     *pip.Set
	policy   string
	revision uint64
	closers  []func() error
	// nats holds the client identities of the NATS connections.
	nats natsIdentities
}

// Close releases what the PDP holds (the server, a JWKS refresher).
func (p *runningPDP) Close() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	p.closers = nil
	return errors.Join(errs...)
}

// newPDP compiles the policies, builds the PIPs, the engine and the server.
// Configuration problems are exit code 2, as for the other commands.
func newPDP(ctx context.Context, cfg *pdpConfig, logger *slog.Logger) (*runningPDP, error) {
	var compiled *build.Compiled
	p := &runningPDP{}
	if cfg.Bundle == nil {
		policies, err := xacml.LoadPaths(cfg.Policies...)
		if err != nil {
			return nil, exitf(2, "%s", firstError(err))
		}
		if compiled, err = build.CompileRoot(policies, cfg.Root); err != nil {
			return nil, exitf(2, "%s", firstError(err))
		}
		p.policy = compiled.Output.RootID
	} else {
		p.policy = "bundle:" + cfg.Bundle.Service
	}
	var err error
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pipMetrics, err := pip.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	var sources []pip.Source
	opts := []server.Option{server.WithLogger(logger), server.WithRegistry(reg)}
	for i, pc := range cfg.PIPs {
		cat, err := pip.ParseCategory(pc.Key.Category)
		if err != nil {
			return nil, exitf(2, "pips[%d].key.category: %v", i, err)
		}
		jopts := []jsonfile.Option{jsonfile.WithLogger(logger)}
		if pc.Category != "" {
			supplied, err := pip.ParseCategory(pc.Category)
			if err != nil {
				return nil, exitf(2, "pips[%d].category: %v", i, err)
			}
			jopts = append(jopts, jsonfile.WithCategory(supplied))
		}
		prov, err := jsonfile.New(pc.File, pip.AttributeRef{Category: cat, ID: pc.Key.Attribute}, jopts...)
		if err != nil {
			return nil, exitf(2, "pips[%d]: %v", i, err)
		}
		name := fmt.Sprintf("json-file[%d]:%s", i, filepath.Base(pc.File))
		// The file is in memory: a fetch can neither hang nor fail, so the
		// timeout and the circuit breaker would only cost a goroutine.
		wrapped := pip.Wrap(prov, pip.WithName(name), pip.WithLogger(logger), pip.WithMetrics(pipMetrics),
			pip.WithTimeout(0), pip.WithBreaker(0, 0))
		sources = append(sources, pip.Source{Name: name, Provider: wrapped})
		if pc.EntityType != "" {
			opts = append(opts, server.WithEntityType(name, pc.EntityType))
		}
	}
	if p.pips, err = pip.NewSet(sources...); err != nil {
		return nil, exitf(2, "pips: %v", err)
	}
	p.engine = pdp.New(pdp.WithLogger(logger), pdp.WithPIPs(p.pips))
	opts = append(opts, server.WithPIPs(p.pips))
	if compiled != nil {
		if err := p.engine.Activate(ctx, compiled.EnginePolicy(cfg.Service, 0)); err != nil {
			return nil, fmt.Errorf("activate compiled policy: %w", err)
		}
		lits := policyLiterals(compiled.Checked)
		opts = append(opts,
			server.WithActionNames(lits.actions),
			server.WithKnownTypes(pdp.CategorySubject, lits.subjectTypes...),
			server.WithKnownTypes(pdp.CategoryResource, lits.resourceTypes...),
			server.WithPolicyEntityIDs(pdp.CategorySubject, lits.subjectIDs...),
			server.WithPolicyEntityIDs(pdp.CategoryResource, lits.resourceIDs...),
		)
	} else if err := p.followBundles(ctx, cfg, logger); err != nil {
		return nil, err
	}
	if cfg.BaseURL != "" {
		opts = append(opts, server.WithBaseURL(cfg.BaseURL))
	}
	if cfg.RejectUnknownFields {
		opts = append(opts, server.WithRejectUnknownFields())
	}
	opts = append(opts,
		server.WithMaxRequestBytes(cfg.Limits.MaxRequestBytes),
		server.WithMaxBatch(cfg.Limits.MaxBatch),
		server.WithMaxInFlight(cfg.Limits.MaxInFlight),
		server.WithRequestTimeout(cfg.Limits.RequestTimeout),
		server.WithMaxQueued(cfg.Limits.MaxQueued),
		server.WithMaxInFlightBytes(cfg.Limits.MaxInFlightBytes),
	)
	if cfg.serverTLS != nil {
		opts = append(opts, server.WithTLS(cfg.serverTLS))
	} else if cfg.InsecurePlaintext {
		opts = append(opts, server.WithInsecurePlaintext())
	} else {
		tlsOpts, err := p.serverTLS(ctx, cfg.TLS, logger)
		if err != nil {
			return nil, exitf(2, "tls: %v", err)
		}
		opts = append(opts, tlsOpts...)
	}
	if cfg.Token != nil {
		v, closeKeys, err := newTokenValidator(ctx, cfg.Token, logger)
		if err != nil {
			return nil, exitf(2, "token: %v", err)
		}
		p.closers = append(p.closers, closeKeys)
		opts = append(opts, server.WithTokenValidator(v))
	}
	if cfg.DecisionLog != nil {
		dl := *cfg.DecisionLog
		if dl.natsOptions == nil {
			tc, err := cfg.natsClientTLS("decision_log", dl.NATS, dl.TLS, cfg.bundleTLS())
			if err != nil {
				return nil, exitf(2, "%v", err)
			}
			if dl.natsOptions, _, err = p.natsOptions(ctx, tc, logger); err != nil {
				return nil, exitf(2, "decision_log.tls: %v", err)
			}
		}
		l, closeLog, err := openDecisionLog(ctx, dl, cfg.dir, reg, logger)
		if err != nil {
			return nil, exitf(2, "decision_log: %v", err)
		}
		// Closing flushes what is queued, even when the serve context ended.
		p.closers = append(p.closers, func() error { return closeLog(context.WithoutCancel(ctx)) })
		opts = append(opts, server.WithDecisionLog(l, cfg.decisionService()))
	}
	if p.server, err = server.New(p.engine, opts...); err != nil {
		return nil, err
	}
	p.closers = append(p.closers, p.server.Close)
	ok = true
	return p, nil
}

// tokenValidator adapts token.Verifier to server.TokenValidator: claims
// become attributes as DESIGN.md's table says (Claims.Attributes).
type tokenValidator struct{ v *token.Verifier }

func (t tokenValidator) Validate(ctx context.Context, raw string) (map[string][]any, error) {
	c, err := t.v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	return c.Attributes(), nil
}

// newTokenValidator builds a verifier over a JWKS file or https URL; the
// returned function stops its background refresh.
func newTokenValidator(ctx context.Context, tc *tokenConfig, logger *slog.Logger) (server.TokenValidator, func() error, error) {
	var f token.Fetcher
	if strings.Contains(tc.JWKS, "://") {
		hf, err := token.NewHTTPFetcher(tc.JWKS, nil)
		if err != nil {
			return nil, nil, err
		}
		f = hf
	} else {
		f = token.NewFileFetcher(tc.JWKS)
	}
	keys, err := token.NewKeySet(ctx, f, token.WithLogger(logger))
	if err != nil {
		return nil, nil, err
	}
	vopts := []token.VerifierOption{token.WithIssuer(tc.Issuer...), token.WithAudience(tc.Audience...)}
	if len(tc.Algorithms) > 0 {
		vopts = append(vopts, token.WithAlgorithms(tc.Algorithms...))
	}
	v, err := token.NewVerifier(keys, vopts...)
	if err != nil {
		keys.Close()
		return nil, nil, err
	}
	return tokenValidator{v}, keys.Close, nil
}

// followBundles feeds the engine from the service's signed bundles on NATS
// (the last-known-good one on disk first when NATS is away), returning once
// a bundle is active or the configured wait has passed.
func (p *runningPDP) followBundles(ctx context.Context, cfg *pdpConfig, logger *slog.Logger) error {
	b := cfg.Bundle
	trust, err := bundle.LoadTrustStore(b.TrustedKeys)
	if err != nil {
		return exitf(2, "bundle.trusted_keys: %v", err)
	}
	cache := b.Cache
	if cache == "" {
		cache = filepath.Join(cfg.dir, ".verdict-bundles")
	}
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return exitf(2, "bundle.cache: %v", err)
	}
	tc, err := cfg.natsClientTLS("bundle", b.NATS, b.TLS)
	if err != nil {
		return exitf(2, "%v", err)
	}
	natsOpts, idSrc, err := p.natsOptions(ctx, tc, logger)
	if err != nil {
		return exitf(2, "bundle.tls: %v", err)
	}
	refusals := &natsRefusals{}
	natsOpts = append([]nats.Option{nats.Name("verdict-pdp-serve"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ErrorHandler(refusals.handler(logger))}, natsOpts...)
	nc, err := nats.Connect(b.NATS, natsOpts...)
	if err != nil {
		return exitf(2, "bundle.nats: %v", err)
	}
	p.closers = append(p.closers, func() error { nc.Close(); return nil })
	wait := b.Wait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	host, _ := os.Hostname()
	src, err := bundlesource.New(wctx, nc, p.engine, bundlesource.WithService(b.Service), bundlesource.WithTrustStore(trust),
		bundlesource.WithCacheDir(cache), bundlesource.WithLogger(logger), bundlesource.WithInstance(fmt.Sprintf("%s-%d", host, os.Getpid())))
	if err != nil {
		if refused := refusals.err(); refused != nil {
			who := "this PDP's certificate"
			if idSrc != nil && !idSrc.SVID().ID.IsZero() {
				who = idSrc.SVID().ID.String()
			}
			return fmt.Errorf("bundle: no active bundle for %s: the NATS server refused %s (%w): the platform lets a service's PDP follow only that service's bundles; use a certificate issued for service %q",
				b.Service, who, refused, b.Service)
		}
		return fmt.Errorf("bundle: no active bundle for %s: %w", b.Service, err)
	}
	p.closers = append(p.closers, func() error { src.Close(); return nil })
	return nil
}
