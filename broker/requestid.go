package broker

import (
	"context"
	"log/slog"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id ctx carries, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewLogHandler wraps h so that every record logged with a context that
// carries a request id (WithRequestID) has it as "request_id".
func NewLogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }

type ticketIDKey struct{}

// WithTicketID returns ctx carrying the ticket a call is made for, so
// that lower layers (the AWS call audit) can name it.
func WithTicketID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ticketIDKey{}, id)
}

// TicketIDFrom returns the ticket id ctx carries, or "".
func TicketIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(ticketIDKey{}).(string)
	return id
}
