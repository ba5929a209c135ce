package metrics

import (
	"context"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Revoker wraps a broker.Revoker and observes, for each ticket whose
// sessions it cut, the time from the ticket's end to the cut.
type Revoker struct {
	Next    broker.Revoker
	Tickets interface {
		Ticket(ctx context.Context, id string) (*broker.Ticket, error)
	}
	Metrics *Metrics
	Now     func() time.Time // default time.Now
}

var _ broker.Revoker = (*Revoker)(nil)

// Revoke cuts the ticket's sessions through Next and observes the latency
// of a cut that ends a ticket (not a beneficiary's "done").
func (r *Revoker) Revoke(ctx context.Context, req broker.RevokeRequest) error {
	if err := r.Next.Revoke(ctx, req); err != nil {
		return err
	}
	if req.User != "" || r.Tickets == nil {
		return nil
	}
	t, err := r.Tickets.Ticket(ctx, req.TicketID)
	if err != nil || !t.State.Final() {
		return nil
	}
	ended := t.End
	if t.Closed != nil && t.Closed.At.Before(ended) {
		ended = t.Closed.At
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	r.Metrics.revocation.Observe(seconds(now().Sub(ended)))
	return nil
}
