package broker

import (
	"context"
)

// Done is the requester's or a beneficiary's "I'm done": it terminates an
// approved or active ticket the same way Terminate does, cutting every
// session already issued. Errors: EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN,
// ECONFLICT.
func (s *Service) Done(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if comment, err = cleanComment(comment); err != nil {
		return nil, err
	}
	if comment == "" {
		comment = "done"
	}
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		if !t.Involves(u.Email) {
			return Errorf(EFORBIDDEN, "only the requester or a beneficiary may say ticket %s is done", t.ID)
		}
		return s.end(t, u.Email, comment)
	})
	if err != nil {
		return nil, err
	}
	return t, s.afterEnd(ctx, t)
}
