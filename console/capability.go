package console

import "github.com/jitaccess/jit/broker"

// notEnabled is the one answer for a route whose capability the server was
// built without (a nil Config field): 503 with code "unavailable" and the
// message "<what> not enabled".
func notEnabled(what string) error {
	return broker.Errorf(broker.EUNAVAILABLE, "%s not enabled", what)
}
