// Package verdictv1connect holds the Connect (connectrpc.com/connect)
// clients and handlers generated from Verdict's public protobuf API in the
// parent directory, serving the same services as the gRPC bindings in
// verdictv1 over gRPC, gRPC-Web and the Connect protocol (JSON over
// HTTP/1.1 works with curl).
//
// Everything except this file is generated: edit the .proto files and run
// scripts/gen-proto.sh, never the .connect.go files.
package verdictv1connect
