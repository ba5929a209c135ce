package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// entitled is the one home of the decision that lets a person hold a
// ticket's access: its requester may request the permission set in the
// account (ActRequest), and, when the beneficiary is someone else, may
// request for other people (ActRequestForOthers); for a break-glass
// ticket, instead, a break-glass rule names the requester for it, and the
// beneficiary is the requester. CreateTicket asks it for every
// beneficiary; Activate and every credential or console link ask it again
// under the registry in force (holdable). EFORBIDDEN when not.
func (s *Service) entitled(ctx context.Context, requester User, beneficiary, accountID, permissionSet string, breakGlass bool) error {
	if breakGlass {
		if beneficiary != requester.Email {
			return Errorf(EFORBIDDEN, "a break-glass ticket is for its requester alone")
		}
		_, err := s.breakGlassRule(ctx, requester, accountID, permissionSet)
		return err
	}
	if ok, err := s.cfg.Authorizer.Allowed(ctx, requester, ActRequest, accountID, permissionSet); err != nil {
		return err
	} else if !ok {
		return Errorf(EFORBIDDEN, "%s may not request %s in account %s", requester.Email, permissionSet, accountID)
	}
	if beneficiary != requester.Email {
		if ok, err := s.cfg.Authorizer.Allowed(ctx, requester, ActRequestForOthers, accountID, permissionSet); err != nil {
			return err
		} else if !ok {
			return Errorf(EFORBIDDEN, "%s may not request access for other people", requester.Email)
		}
	}
	return nil
}

// holdable reports, as EFORBIDDEN with the reason, why beneficiary may no
// longer hold t's access under the registry in force: the account or the
// permission set is no longer registered, or the request-time decision
// (entitled) now says no. requester is who the decision is about: the
// ticket's requester with the groups their sign-in carried when they filed
// it, or fresher groups when they are the caller. Other errors are
// internal.
func (s *Service) holdable(ctx context.Context, t *Ticket, requester User, beneficiary string) error {
	refuse := func(why string) error {
		return Errorf(EFORBIDDEN, "%s may no longer hold %s in account %s under the current registry: %s", beneficiary, t.PermissionSet, t.AccountID, why)
	}
	if _, err := s.cfg.Registry.Account(ctx, t.AccountID); ErrorCode(err) == ENOTFOUND {
		return refuse(fmt.Sprintf("account %s is no longer registered", t.AccountID))
	} else if err != nil {
		return err
	}
	if _, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet); ErrorCode(err) == ENOTFOUND {
		return refuse(fmt.Sprintf("permission set %s is no longer registered", t.PermissionSet))
	} else if err != nil {
		return err
	}
	if err := s.entitled(ctx, requester, beneficiary, t.AccountID, t.PermissionSet, t.BreakGlass != nil); ErrorCode(err) == EFORBIDDEN {
		return refuse(ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return nil
}

// ticketRequester is the requester as they were when they filed t: their
// email and the groups their sign-in carried then.
func ticketRequester(t *Ticket) User {
	return User{Email: t.Requester, Groups: slices.Clone(t.RequesterGroups)}
}

// recheck asks again, for each beneficiary of an approved ticket about to
// start, whether they may still hold its access under the registry in
// force (holdable, the same decision as at request time). Those who may not
// are taken off the ticket, with the reason in its history; when nobody is
// left the ticket ends (terminated, with the reason as its closing comment)
// and recheck returns a nil ticket. The ticket returned is the stored one.
func (s *Service) recheck(ctx context.Context, t *Ticket) (*Ticket, error) {
	var keep []string
	var refused []string
	for _, b := range t.Beneficiaries {
		err := s.holdable(ctx, t, ticketRequester(t), b)
		switch ErrorCode(err) {
		case "":
			keep = append(keep, b)
		case EFORBIDDEN:
			refused = append(refused, ErrorMessage(err))
		default:
			return nil, err
		}
	}
	switch {
	case len(refused) == 0:
		return t, nil
	case len(keep) == 0:
		cause := Errorf(EFORBIDDEN, "nobody on the ticket may hold this access any more: %s", strings.Join(refused, "; "))
		return nil, s.failActivation(ctx, t.ID, cause)
	}
	next, err := s.transition(ctx, t.ID, func(t *Ticket) error {
		if t.State != StateApproved {
			return errNoop
		}
		now := s.now()
		t.Beneficiaries = slices.DeleteFunc(t.Beneficiaries, func(b string) bool { return !slices.Contains(keep, b) })
		for _, why := range refused {
			t.History = append(t.History, Event{At: now, Actor: "jit", Action: "remove beneficiary", Comment: why})
		}
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil, nil
	}
	return next, ignoreNotFound(err)
}
