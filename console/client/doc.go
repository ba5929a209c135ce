// Package client is a typed Go client of JIT's HTTP API, built on the
// bodies of console/wire: one method per route, errors as *Error (the
// server's code and message with the HTTP status), and the bearer token
// from a TokenSource asked before every request, so a token that
// refreshes itself (jit login's) keeps working. The jit command line uses
// it for every call it makes to the server.
//
//	c := client.New("https://jit.example.com", client.StaticToken(tok))
//	t, err := c.CreateTicket(ctx, wire.CreateTicket{AccountID: "111111111111",
//		PermissionSet: "ReadOnlyAccess", Duration: "1h", Reason: "debug"})
package client
