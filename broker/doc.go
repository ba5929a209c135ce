// Package broker is JIT's domain root: tickets, their states and transitions,
// the one error type, and Service, which runs every use case.
//
// Broker imports only the standard library. Adapters (redisstore, tasks,
// federation, console, approvals, policies) import broker and implement the
// small interfaces declared here; cmd/jit wires them together.
package broker
