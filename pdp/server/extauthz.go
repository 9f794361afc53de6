package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/verdict-authz/verdict/pdp"
)

// Obligation and advice identifiers ext_authz fulfils (see the package
// documentation).
const (
	// ObligationHTTPHeader adds each assignment (AttributeId = header name)
	// to the upstream request on OK, or to the denied response.
	ObligationHTTPHeader = "urn:verdict:obligation:http-header"
	// ObligationHTTPResponseHeader adds each assignment to the response
	// sent downstream on OK.
	ObligationHTTPResponseHeader = "urn:verdict:obligation:http-response-header"
	// HeaderAssignmentPrefix marks an assignment of any obligation or
	// advice whose AttributeId "header:NAME" adds header NAME like
	// ObligationHTTPHeader.
	HeaderAssignmentPrefix = "header:"
)

// extAuthz implements Envoy's external authorization service.
type extAuthz struct {
	authv3.UnimplementedAuthorizationServer
	svc *Server
}

// Check decides an HTTP request Envoy is about to route.
func (x *extAuthz) Check(ctx context.Context, in *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	s := x.svc
	h := in.GetAttributes().GetRequest().GetHttp()
	if h == nil || h.GetMethod() == "" {
		return nil, status.Error(codes.InvalidArgument, "attributes.request.http with a method is required")
	}
	err := s.acquire(ctx)
	if err != nil {
		return nil, grpcError(rpcDecisionError(err))
	}
	defer s.release()
	req, err := s.extAuthzRequest(ctx, in)
	if err != nil {
		if errors.Is(err, errInvalidToken) {
			return deniedResponse(codes.Unauthenticated, typev3.StatusCode_Unauthorized,
				[]*corev3.HeaderValueOption{header("www-authenticate", `Bearer error="invalid_token"`)},
				errorBody(err.Error())), nil
		}
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	d, err := s.decide(ctx, req)
	if errors.Is(err, pdp.ErrBadRequest) {
		return deniedResponse(codes.InvalidArgument, typev3.StatusCode_BadRequest, nil, errorBody(err.Error())), nil
	}
	if err != nil {
		return nil, grpcError(rpcDecisionError(err))
	}
	return checkResponse(d), nil
}

// errInvalidToken marks a bearer token the validator refused.
var errInvalidToken = errors.New("invalid bearer token")

// extAuthzRequest maps the HTTP request to attributes as DESIGN.md's
// table says for the HTTP PEP and ext_authz.
func (s *Server) extAuthzRequest(ctx context.Context, in *authv3.CheckRequest) (*pdp.Request, error) {
	attrs := in.GetAttributes()
	h := attrs.GetRequest().GetHttp()
	p := h.GetPath()
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	req := &pdp.Request{Attributes: make([]pdp.Attribute, 0, 8)}
	str := func(v string) pdp.Value { return pdp.Value{Type: "string", Lexical: v, Untyped: true} }
	req.Add(pdp.CategoryAction, "name", str(h.GetMethod()))
	req.Add(pdp.CategoryResource, "type", str("route"))
	req.Add(pdp.CategoryResource, "id", str(p))
	req.Add(pdp.CategoryResource, "path", str(p))
	req.Add(pdp.CategoryEnvironment, "time", pdp.Value{Type: "dateTime", Lexical: s.cfg.now().Format(time.RFC3339Nano)})
	if principal := attrs.GetSource().GetPrincipal(); principal != "" {
		req.Add(pdp.CategorySubject, "workload", str(principal))
	}
	if s.cfg.validator == nil {
		return req, nil
	}
	token, ok := bearerToken(h)
	if !ok {
		return req, nil
	}
	claims, err := s.cfg.validator.Validate(ctx, token)
	if err != nil {
		return nil, errors.Join(errInvalidToken, err)
	}
	if err := addClaims(req, claims); err != nil {
		return nil, errors.Join(errInvalidToken, err)
	}
	return req, nil
}

// bearerToken finds "authorization: Bearer TOKEN" in the request headers
// (the headers map, or header_map when Envoy sends that instead).
func bearerToken(h *authv3.AttributeContext_HttpRequest) (string, bool) {
	v, ok := h.GetHeaders()["authorization"]
	if !ok {
		for _, hv := range h.GetHeaderMap().GetHeaders() {
			if strings.EqualFold(hv.GetKey(), "authorization") {
				v, ok = hv.GetValue(), true
				if v == "" {
					v = string(hv.GetRawValue())
				}
				break
			}
		}
	}
	if !ok {
		return "", false
	}
	scheme, tok, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func header(name, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: name, Value: value},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 5.6.2).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// headerEffects collects the headers a decision's obligations and advice
// ask for, and the obligations ext_authz cannot fulfil.
type headerEffects struct {
	upstream, downstream []*corev3.HeaderValueOption
	unfulfilled          []string
}

func collectHeaders(d *pdp.Decision) headerEffects {
	var he headerEffects
	visit := func(o pdp.Obligation, mandatory bool) {
		ok := true
		found := false
		for _, a := range o.Assignments {
			name, target := "", &he.upstream
			switch {
			case o.ID == ObligationHTTPHeader:
				name = a.AttributeID
			case o.ID == ObligationHTTPResponseHeader:
				name, target = a.AttributeID, &he.downstream
			case strings.HasPrefix(a.AttributeID, HeaderAssignmentPrefix):
				name = strings.TrimPrefix(a.AttributeID, HeaderAssignmentPrefix)
			default:
				continue
			}
			if !validHeaderName(name) || strings.ContainsAny(a.Value, "\r\n\x00") {
				ok = false
				continue
			}
			found = true
			*target = append(*target, header(strings.ToLower(name), a.Value))
		}
		if mandatory && (!ok || (!found && o.ID != ObligationHTTPHeader && o.ID != ObligationHTTPResponseHeader)) {
			he.unfulfilled = append(he.unfulfilled, o.ID)
		}
	}
	for _, o := range d.Obligations {
		visit(o, true)
	}
	for _, a := range d.Advice {
		visit(a, false)
	}
	return he
}

// checkResponse turns a decision into Envoy's answer.
func checkResponse(d *pdp.Decision) *authv3.CheckResponse {
	he := collectHeaders(d)
	if d.Effect == pdp.EffectPermit && len(he.unfulfilled) == 0 {
		return &authv3.CheckResponse{
			Status: &rpcstatus.Status{Code: int32(codes.OK)},
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
				Headers:              he.upstream,
				ResponseHeadersToAdd: he.downstream,
			}},
		}
	}
	resp := toEvaluationResponse(d)
	if resp.Decision {
		// A Permit whose obligations cannot be fulfilled is not a grant.
		resp.Decision = false
		resp.Context.ReasonAdmin = map[string]string{"en": "permitted, but ext_authz cannot fulfil obligation " + strings.Join(he.unfulfilled, ", ")}
	}
	body, _ := json.Marshal(resp)
	return deniedResponse(codes.PermissionDenied, typev3.StatusCode_Forbidden, he.upstream, string(body))
}

// deniedResponse answers a refused request; the body is always JSON.
func deniedResponse(code codes.Code, httpStatus typev3.StatusCode, hdrs []*corev3.HeaderValueOption, body string) *authv3.CheckResponse {
	hdrs = append(hdrs[:len(hdrs):len(hdrs)], header("content-type", "application/json"))
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(code), Message: code.String()},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: httpStatus},
			Headers: hdrs,
			Body:    body,
		}},
	}
}

func errorBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}
