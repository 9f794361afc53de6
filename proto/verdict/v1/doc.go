// Package verdictv1 holds the Go types and gRPC bindings generated from
// Verdict's public protobuf API (package verdict.v1, the .proto files in this
// directory): DecisionService (remote PDP), PolicyAdminService (PAP),
// AuditService (decision and policy-change logs) and
// CertificateAuthorityService (built-in CA). Connect bindings for the same
// services are in the verdictv1connect subpackage.
//
// Everything except this file is generated: edit the .proto files and run
// scripts/gen-proto.sh, never the .pb.go files.
package verdictv1
