package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"

	"connectrpc.com/connect"
)

// AuthZEN 1.0 endpoint paths.
const (
	PathEvaluation     = "/access/v1/evaluation"
	PathEvaluations    = "/access/v1/evaluations"
	PathSearchSubject  = "/access/v1/search/subject"
	PathSearchResource = "/access/v1/search/resource"
	PathSearchAction   = "/access/v1/search/action"
	PathMetadata       = "/.well-known/authzen-configuration"
)

// requestIDHeader is echoed on every response (AuthZEN 1.0 transport).
const requestIDHeader = "X-Request-ID"

func (s *Server) newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PathEvaluation, s.instrument("authzen_evaluation", http.MethodPost, s.handleEvaluation))
	mux.Handle(PathEvaluations, s.instrument("authzen_evaluations", http.MethodPost, s.handleEvaluations))
	mux.Handle(PathSearchSubject, s.instrument("authzen_search_subject", http.MethodPost, s.searchHandler(searchSubject)))
	mux.Handle(PathSearchResource, s.instrument("authzen_search_resource", http.MethodPost, s.searchHandler(searchResource)))
	mux.Handle(PathSearchAction, s.instrument("authzen_search_action", http.MethodPost, s.searchHandler(searchAction)))
	mux.Handle(PathMetadata, s.instrument("authzen_metadata", http.MethodGet, s.handleMetadata))
	mux.Handle("/healthz", s.instrument("healthz", http.MethodGet, s.handleHealthz))
	mux.Handle("/metrics", promhttp.HandlerFor(s.cfg.registry, promhttp.HandlerOpts{}))
	path, h := verdictv1connect.NewDecisionServiceHandler(&connectDecisionService{svc: s},
		connect.WithReadMaxBytes(int(s.cfg.maxBytes)))
	mux.Handle(path, s.instrument("connect", "", h.ServeHTTP))
	mux.Handle("/", s.instrument("not_found", "", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, msg: "no such endpoint: " + r.URL.Path})
	}))
	return s.withRequestID(mux)
}

// withRequestID echoes the caller's X-Request-ID on every response, errors
// included, or generates one, so that PEP and PDP logs can be joined.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if id == "" {
			id = s.ids.next()
		}
		// The canonical form of X-Request-ID, set without Header.Set's
		// canonicalisation on every request.
		w.Header()["X-Request-Id"] = []string{id}
		next.ServeHTTP(w, r)
	})
}

// requestIDs generates request ids: a random per-server prefix and a
// counter, unique without reading the system's random source on every
// request (an id names a request in logs; it is not a secret).
type requestIDs struct {
	prefix [12]byte // hex of 6 random bytes
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	g := &requestIDs{}
	hex.Encode(g.prefix[:], b[:])
	return g
}

// next returns 24 hex digits, as the random ids before did.
func (g *requestIDs) next() string {
	var out [24]byte
	copy(out[:], g.prefix[:])
	n := g.n.Add(1)
	const digits = "0123456789abcdef"
	for i := 23; i >= 12; i-- {
		out[i] = digits[n&0xf]
		n >>= 4
	}
	return string(out[:])
}

// statusRecorder remembers the status written, for metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Connect needs
// flushing and full duplex).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument records metrics for an API and answers other methods than
// method (when set) with a JSON 405.
func (s *Server) instrument(api, method string, h http.HandlerFunc) http.Handler {
	am := s.metrics.forAPI(api)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		if method != "" && r.Method != method {
			rec.Header().Set("Allow", method)
			writeError(rec, &apiError{status: http.StatusMethodNotAllowed, msg: "method " + r.Method + " not allowed (use " + method + ")"})
		} else {
			h(rec, r)
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		am.observe(rec.status, time.Since(start))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError writes {"error": msg} with the error's status (what
// json.Marshal of that map gives, without reflection).
func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	b := make([]byte, 0, len(e.msg)+16)
	b = append(b, `{"error":`...)
	b = appendJSONString(b, e.msg)
	writeBody(w, e.status, append(b, "}\n"...))
}

// decisionError maps an error of s.decide or s.acquire to an HTTP answer.
func decisionError(err error) *apiError {
	switch {
	case errors.Is(err, ErrNotReady):
		return &apiError{status: http.StatusServiceUnavailable, msg: "the PDP has no active policy yet"}
	case errors.Is(err, ErrBusy):
		return &apiError{status: http.StatusServiceUnavailable, msg: "the PDP is overloaded: " + err.Error(), retryAfter: true}
	case errors.Is(err, pdp.ErrBadRequest):
		return badRequest("%v", err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{status: http.StatusServiceUnavailable, msg: "request deadline exceeded", retryAfter: true}
	}
	return &apiError{status: http.StatusInternalServerError, msg: err.Error()}
}

// handleEvaluation serves POST /access/v1/evaluation.
func (s *Server) handleEvaluation(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.withDeadline(r.Context())
	defer cancel()
	weight := s.bodyWeight(r)
	err := s.acquireBody(ctx, weight)
	if err != nil {
		writeError(w, decisionError(err))
		return
	}
	defer s.releaseBody(weight)
	body, aerr := s.readJSONObject(w, r)
	if aerr == nil && s.cfg.rejectUnknown {
		aerr = checkKnown(body, "subject", "action", "resource", "context")
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	resp, aerr := s.evaluateSingle(ctx, body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	s.writeEvaluation(w, &resp)
}

// evaluateSingle decides the 4-tuple at the top level of body.
func (s *Server) evaluateSingle(ctx context.Context, body map[string]any) (evaluationResponse, *apiError) {
	ev, aerr := parseEvaluation(body, "")
	if aerr != nil {
		return evaluationResponse{}, aerr
	}
	if err := ev.check("", fullRequirement); err != nil {
		return evaluationResponse{}, badRequest("%v", err)
	}
	req, err := ev.request()
	if err != nil {
		return evaluationResponse{}, badRequest("%v", err)
	}
	d, err := s.decide(ctx, req)
	if err != nil {
		return evaluationResponse{}, decisionError(err)
	}
	return toEvaluationResponse(d), nil
}

// Evaluations semantics (AuthZEN options.evaluations_semantic).
type semantic int

const (
	executeAll semantic = iota
	denyOnFirstDeny
	permitOnFirstPermit
)

func parseSemantic(v any) (semantic, *apiError) {
	if v == nil {
		return executeAll, nil
	}
	const want = "execute_all, deny_on_first_deny or permit_on_first_permit"
	str, ok := v.(string)
	if !ok {
		return 0, badRequest("options.evaluations_semantic must be a string (%s), got %s", want, jsonKind(v))
	}
	switch str {
	case "execute_all":
		return executeAll, nil
	case "deny_on_first_deny":
		return denyOnFirstDeny, nil
	case "permit_on_first_permit":
		return permitOnFirstPermit, nil
	}
	return 0, badRequest("options.evaluations_semantic %q is not one of %s", str, want)
}

// evaluationsResponse is an AuthZEN Access Evaluations response.
type evaluationsResponse struct {
	Evaluations []evaluationResponse `json:"evaluations"`
}

// handleEvaluations serves POST /access/v1/evaluations.
func (s *Server) handleEvaluations(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.withDeadline(r.Context())
	defer cancel()
	weight := s.bodyWeight(r)
	err := s.acquireBody(ctx, weight)
	if err != nil {
		writeError(w, decisionError(err))
		return
	}
	defer s.releaseBody(weight)
	body, aerr := s.readJSONObject(w, r)
	if aerr == nil && s.cfg.rejectUnknown {
		aerr = checkKnown(body, "subject", "action", "resource", "context", "evaluations", "options")
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	sem := executeAll
	if o, ok := body["options"]; ok && o != nil {
		om, ok := o.(map[string]any)
		if !ok {
			writeError(w, badRequest("options must be an object, got %s", jsonKind(o)))
			return
		}
		if sem, aerr = parseSemantic(om["evaluations_semantic"]); aerr != nil {
			writeError(w, aerr)
			return
		}
	}
	var items []any
	switch x := body["evaluations"].(type) {
	case nil:
	case []any:
		items = x
	default:
		writeError(w, badRequest("evaluations must be an array, got %s", jsonKind(x)))
		return
	}
	if len(items) == 0 {
		// AuthZEN: without items the endpoint is the single evaluation.
		resp, aerr := s.evaluateSingle(ctx, body)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		s.writeEvaluation(w, &resp)
		return
	}
	if len(items) > s.cfg.maxBatch {
		writeError(w, badRequest("evaluations has %d items, more than the limit of %d", len(items), s.cfg.maxBatch))
		return
	}
	defaults, aerr := parseEvaluation(body, "")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	evs := make([]evaluation, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			writeError(w, badRequest("evaluations[%d] must be an object, got %s", i, jsonKind(it)))
			return
		}
		if evs[i], aerr = parseEvaluation(m, "evaluations["+strconv.Itoa(i)+"]."); aerr != nil {
			writeError(w, aerr)
			return
		}
	}
	out := evaluationsResponse{Evaluations: make([]evaluationResponse, 0, len(evs))}
	for i, it := range evs {
		resp, err := s.evaluateItem(ctx, it.merged(defaults), "evaluations["+strconv.Itoa(i)+"].")
		if err != nil {
			writeError(w, decisionError(err))
			return
		}
		out.Evaluations = append(out.Evaluations, resp)
		if (sem == denyOnFirstDeny && !resp.Decision) || (sem == permitOnFirstPermit && resp.Decision) {
			break
		}
	}
	s.writeEvaluations(w, &out)
}

// evaluateItem decides one merged batch item. An item that cannot be
// evaluated is an item-level error (false, the error under its context);
// only a PDP that cannot decide at all fails the whole batch.
func (s *Server) evaluateItem(ctx context.Context, ev evaluation, prefix string) (evaluationResponse, error) {
	if err := ev.check(prefix, fullRequirement); err != nil {
		return failedItem(http.StatusBadRequest, err.Error()), nil
	}
	req, err := ev.request()
	if err != nil {
		return failedItem(http.StatusBadRequest, prefix+err.Error()), nil
	}
	d, err := s.decide(ctx, req)
	if errors.Is(err, pdp.ErrBadRequest) {
		return failedItem(http.StatusBadRequest, prefix+err.Error()), nil
	}
	if err != nil {
		return evaluationResponse{}, err
	}
	return toEvaluationResponse(d), nil
}

// handleHealthz serves GET /healthz: 200 once a policy is active.
func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	if !s.health.ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "NOT_SERVING", "reason": "no active policy"})
		return
	}
	st := map[string]any{"status": "SERVING"}
	if p := s.engine.Active(); p != nil {
		st["revision"] = p.Revision
		if p.Digest != "" {
			st["digest"] = p.Digest
		}
	}
	writeJSON(w, http.StatusOK, st)
}
