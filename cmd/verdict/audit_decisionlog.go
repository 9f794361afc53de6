package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
)

// decisionLogConfig is the `decision_log:` section a PDP configuration
// (pdp serve, an SDK service's config) uses to ship its decisions to the
// audit collector:
//
//	decision_log:
//	  nats: tls://127.0.0.1:4222         # or nats:// (plaintext)
//	  tls: {cert: pdp.pem, key: pdp-key.pem, ca: root.pem}  # default: bundle.tls, then tls:
//	  stream: VERDICT_DECISIONS          # default
//	  subject_prefix: verdict.decisions  # default
//	  spool: spool/                      # disk spool, relative to the config file
//	  spool_max_bytes: 1073741824        # past it records are dropped (counted)
//	  instance: pdp-1
//	  mask_key_file: mask.key            # keys the hashes
//	  mask:
//	    - {path: subject/email, action: hash}
//	    - {path: subject/token, action: drop}
type decisionLogConfig struct {
	NATS          string     `yaml:"nats"`
	Stream        string     `yaml:"stream"`
	SubjectPrefix string     `yaml:"subject_prefix"`
	Spool         string     `yaml:"spool"`
	SpoolMaxBytes int64      `yaml:"spool_max_bytes"`
	Instance      string     `yaml:"instance"`
	MaskKeyFile   string     `yaml:"mask_key_file"`
	Mask          []maskRule `yaml:"mask"`
	// TLS is the client certificate for a tls:// NATS server (default:
	// bundle.tls, then the top-level tls:; see natsTLSConfig).
	TLS *natsTLSConfig `yaml:"tls"`
	// natsOptions, set in code by `verdict up`, add the platform's client
	// certificate and inbox prefix to the connection.
	natsOptions []nats.Option
}

type maskRule struct {
	Path   string `yaml:"path"`
	Action string `yaml:"action"`
}

// openDecisionLog connects to NATS and starts a decision Logger from c
// (paths relative to dir). close flushes the Logger, then closes the
// connection.
func openDecisionLog(ctx context.Context, c decisionLogConfig, dir string, reg prometheus.Registerer, logger *slog.Logger) (l *decisionlog.Logger, closeFn func(context.Context) error, err error) {
	if c.NATS == "" {
		return nil, nil, errors.New("decision_log.nats: required")
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	opts := []decisionlog.Option{decisionlog.WithLogger(logger), decisionlog.WithRegisterer(reg), decisionlog.WithInstance(c.Instance)}
	if c.SubjectPrefix != "" {
		opts = append(opts, decisionlog.WithSubjectPrefix(c.SubjectPrefix))
	}
	if c.Spool != "" {
		max := c.SpoolMaxBytes
		if max == 0 {
			max = decisionlog.DefaultSpoolMaxBytes
		}
		opts = append(opts, decisionlog.WithSpool(rel(c.Spool), max))
	}
	if len(c.Mask) > 0 {
		var key []byte
		if c.MaskKeyFile != "" {
			if key, err = os.ReadFile(rel(c.MaskKeyFile)); err != nil {
				return nil, nil, fmt.Errorf("decision_log.mask_key_file: %w", err)
			}
		}
		rules := make([]decisionlog.Rule, len(c.Mask))
		for i, r := range c.Mask {
			rules[i] = decisionlog.Rule{Path: r.Path, Action: decisionlog.MaskAction(r.Action)}
		}
		m, err := decisionlog.NewMasker(key, rules...)
		if err != nil {
			return nil, nil, fmt.Errorf("decision_log.mask: %w", err)
		}
		opts = append(opts, decisionlog.WithMasker("", m))
	}
	// The PDP must start (and decide) while NATS is down: records spool.
	nc, err := nats.Connect(c.NATS, append([]nats.Option{nats.Name("verdict-decision-log"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true)}, c.natsOptions...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("decision_log.nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("decision_log.nats: %w", err)
	}
	l, err = decisionlog.New(ctx, natspub.New(js), opts...)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return l, func(ctx context.Context) error {
		err := l.Close(ctx)
		nc.Close()
		return err
	}, nil
}
