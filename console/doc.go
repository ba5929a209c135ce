// Package console is JIT's web side: the JSON API under /api/v1 on Fiber,
// bearer-token authentication with OIDC ID tokens (go-oidc), and the health
// endpoints.
//
// Handlers are thin: they parse and validate the request, make one call to
// the ticket service with the caller in the context (broker.WithUser), and
// write the result. Authorization lives in the service. Every error, whether
// from the service, from request parsing or from Fiber itself, is written by
// one error handler as {"code": "...", "message": "..."} with the status
// that goes with the broker error code.
//
// The edge (edge.go) is built for hostile requests: bodies are streamed and
// read only after authentication, counted as sent against the body limit,
// never decompressed (any Content-Encoding is refused), and must not name a
// JSON key twice; headers are bounded by MaxHeaderBytes; each user's writes
// can be rate limited (Config.WriteLimiter); refused sign-ins are logged
// without the token and counted at /metrics.
package console
