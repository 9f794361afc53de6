// Package server is the PAP's admin API, PolicyAdminService: one
// implementation served over gRPC (google.golang.org/grpc) and over
// Connect (connectrpc.com/connect, which also answers gRPC and gRPC-Web
// clients on the same HTTP port).
//
// A push is parsed, validated, compiled and trial-activated in an engine
// before anything is stored; a refused push stores nothing and carries
// every diagnostic (file, line, element) in a PolicyValidationFailure
// error detail. An accepted push becomes the service's next revision in the
// store and is published as a signed bundle; a Fleet aggregates the PDPs'
// heartbeats into the rollout view ("revision N active on M of K PDPs").
//
// The author of a revision is the caller's mTLS identity (the client
// certificate's URI SAN), never a request field; on the explicit plaintext
// loopback opt-out it is "anonymous".
package server
