// Package wire holds the JSON bodies of JIT's HTTP API, once: what the
// handlers in console decode and write, what the typed client in
// console/client sends and reads, and what the OpenAPI document served at
// GET /api/v1/openapi.json is generated from (Routes and OpenAPI). It also
// holds the API's one parser of start, end and duration fields.
//
// It imports only broker and the standard library: response bodies reuse
// broker's domain types (broker.Ticket, broker.Delegation, ...), and the
// envelopes around them (lists, cursors, errors) are defined here.
package wire
