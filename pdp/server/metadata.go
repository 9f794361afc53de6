package server

import (
	"net/http"
	"strings"
)

// metadata is the AuthZEN PDP metadata document
// (/.well-known/authzen-configuration): where each API lives, so that a
// PEP configured with the PDP's base URL alone can find them.
type metadata struct {
	PolicyDecisionPoint       string `json:"policy_decision_point"`
	AccessEvaluationEndpoint  string `json:"access_evaluation_endpoint"`
	AccessEvaluationsEndpoint string `json:"access_evaluations_endpoint"`
	SearchSubjectEndpoint     string `json:"search_subject_endpoint"`
	SearchResourceEndpoint    string `json:"search_resource_endpoint"`
	SearchActionEndpoint      string `json:"search_action_endpoint"`
}

// baseURL is the PDP's base URL: WithBaseURL, else the scheme and Host the
// request reached us with.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.baseURL != "" {
		return strings.TrimRight(s.cfg.baseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// handleMetadata serves GET /.well-known/authzen-configuration.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	writeJSON(w, http.StatusOK, metadata{
		PolicyDecisionPoint:       base,
		AccessEvaluationEndpoint:  base + PathEvaluation,
		AccessEvaluationsEndpoint: base + PathEvaluations,
		SearchSubjectEndpoint:     base + PathSearchSubject,
		SearchResourceEndpoint:    base + PathSearchResource,
		SearchActionEndpoint:      base + PathSearchAction,
	})
}
