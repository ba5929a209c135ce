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
package console
