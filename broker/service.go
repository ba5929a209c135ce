package broker

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for ServiceConfig fields left zero.
const (
	DefaultStartSkew = 2 * time.Minute
	// DefaultMaxLeadTime is how far ahead a ticket may start by default.
	DefaultMaxLeadTime = 30 * 24 * time.Hour
	maxReasonLength    = 1000
	maxCommentLength   = 1000
	maxEmailLength     = 254
	maxBeneficiaries   = 20
	casRetries         = 20
)

// ServiceConfig holds what Service needs; the zero value of optional fields
// means the default.
type ServiceConfig struct {
	Store     TicketStore
	Scheduler Scheduler
	// Rescheduler moves a job without a gap (the tasks scheduler); nil
	// unschedules the job and schedules it again.
	Rescheduler Rescheduler
	Registry    Registry
	Authorizer  Authorizer
	// BreakGlass decides who may break glass; nil: nobody may.
	BreakGlass BreakGlassRules
	Approvals  ApprovalEngine
	Minter     SessionMinter
	Revoker    Revoker
	// Delegations keeps approval delegations; nil means none can be made.
	Delegations DelegationStore
	// PreApprovals keeps pre-approvals; nil means none can be made.
	PreApprovals PreApprovalStore
	// OnCall tells who is on call for rules with auto_approve_on_call;
	// nil means nobody is auto-approved as on call.
	OnCall OnCallSource
	// Directory resolves beneficiaries (the Identity Store, or the users
	// the config lists: ListDirectory); nil means JIT knows only the
	// caller, so tickets can only be for oneself.
	Directory Directory
	// Groups tells a delegator's groups now, so a delegate acts with them
	// (Delegation); nil means delegators' group rights do not pass on.
	Groups GroupDirectory
	// Notifier tells approvers about tickets waiting for them; nil means none are sent.
	Notifier Notifier
	Signer   ConsoleSigner // optional: console sign-in links
	// Activity looks up CloudTrail activity of tickets; nil makes Activity EUNAVAILABLE.
	Activity ActivitySource
	// Grants reads what a permission set's policies allow (least-privilege
	// hints); nil leaves hints without the granted count.
	Grants GrantReader
	// Identity Center path (optional; needed by permission sets that use it).
	Assigner      Assigner
	PortalRevoker PortalRevoker
	Holds         Holds
	Locker        Locker
	// Cleaner and AssignmentLister serve the reconciler (optional).
	Cleaner          Cleaner
	AssignmentLister AssignmentLister
	// Outbox lists tickets whose consequences may be missing after a crash;
	// nil disables DrainOutbox (the store marks every write, see outbox.go).
	Outbox Outbox
	// Agenda lists tickets by their next due time, for RunOverdue; nil
	// disables the overdue sweep.
	Agenda Agenda
	// Audit receives an event for every ticket change, registry change and
	// reconciler action (audit.go).
	Audit AuditLog
	// AuditReader reads the audit log for AuditEvents and Timeline; nil
	// makes them EUNAVAILABLE.
	AuditReader AuditReader
	// Observer is told about every stored ticket change (metrics); nil: nobody.
	Observer Observer
	Clock    Clock        // default SystemClock
	Logger   *slog.Logger // default slog.Default()
	// StartSkew is how far in the past a requested start may lie.
	StartSkew time.Duration
	// MaxLeadTime is how far ahead a requested start may lie; default
	// DefaultMaxLeadTime.
	MaxLeadTime time.Duration
	// RegistryStore keeps the registry document; nil disables the
	// administration use cases (registry_admin.go).
	RegistryStore RegistryStore
	// OnRegistryChange, if set, is called after every successful registry
	// change (cmd wires the authorizer's reload across replicas).
	OnRegistryChange func(ctx context.Context) error
	// Importer reads accounts and permission sets from AWS; nil disables import.
	Importer RegistryImporter
	// NewID returns a fresh ticket id; default: random base32.
	NewID func() string
	// Crash, if set, is called at each crash point (crashpoint.go); only
	// the crash suite sets it.
	Crash func(point string)
}

// Service runs every ticket use case. Its methods take the caller from the
// context (WithUser), except the scheduled ones (Activate, Expire, Revoke),
// which the system runs.
type Service struct {
	cfg ServiceConfig
}

// NewService checks cfg and fills in defaults.
func NewService(cfg ServiceConfig) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("broker: Store is required")
	case cfg.Scheduler == nil:
		return nil, errors.New("broker: Scheduler is required")
	case cfg.Registry == nil:
		return nil, errors.New("broker: Registry is required")
	case cfg.Authorizer == nil:
		return nil, errors.New("broker: Authorizer is required")
	case cfg.Approvals == nil:
		return nil, errors.New("broker: Approvals is required")
	case cfg.Minter == nil:
		return nil, errors.New("broker: Minter is required")
	case cfg.Revoker == nil:
		return nil, errors.New("broker: Revoker is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StartSkew == 0 {
		cfg.StartSkew = DefaultStartSkew
	}
	if cfg.MaxLeadTime == 0 {
		cfg.MaxLeadTime = DefaultMaxLeadTime
	}
	if cfg.MaxLeadTime < 0 {
		return nil, errors.New("broker: MaxLeadTime must not be negative")
	}
	if cfg.NewID == nil {
		cfg.NewID = NewTicketID
	}
	return &Service{cfg: cfg}, nil
}

// NewTicketID returns a random, URL- and session-name-safe ticket id.
func NewTicketID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// caller returns the authenticated user or EUNAUTHENTICATED.
func caller(ctx context.Context) (User, error) {
	u, ok := UserFrom(ctx)
	if !ok {
		return User{}, Errorf(EUNAUTHENTICATED, "authentication required")
	}
	return u, nil
}

// transition applies fn to the freshest copy of the ticket and stores it
// with a compare-and-set, retrying when another writer got there first. fn
// sees the current state each time and returns an error to give up.
func (s *Service) transition(ctx context.Context, id string, fn func(t *Ticket) error) (*Ticket, error) {
	return s.transitionFrom(ctx, id, nil, fn)
}

// transitionFrom is transition whose first try starts from a copy of read,
// the ticket as the caller just read it from the store (nil: read it), so
// a caller that already holds it saves a read. A stale copy fails the
// compare-and-set and the next try reads the ticket again.
func (s *Service) transitionFrom(ctx context.Context, id string, read *Ticket, fn func(t *Ticket) error) (*Ticket, error) {
	for range casRetries {
		var t *Ticket
		var err error
		if read != nil {
			t, read = read.Clone(), nil
		} else if t, err = s.cfg.Store.Ticket(ctx, id); err != nil {
			return nil, err
		}
		n := len(t.History)
		if err := fn(t); err != nil {
			return nil, err
		}
		t.UpdatedAt = s.now()
		err = s.cfg.Store.UpdateTicket(ctx, t)
		if ErrorCode(err) == ECONFLICT {
			continue
		} else if err != nil {
			return nil, err
		}
		if n <= len(t.History) {
			s.changed(ctx, t, t.History[n:])
		}
		return t, nil
	}
	return nil, Errorf(ECONFLICT, "ticket %s is changing too often; try again", id)
}

// move records a state change in the ticket's history.
func (t *Ticket) move(to State, actor, action, comment string, at time.Time) {
	t.History = append(t.History, Event{At: at, Actor: actor, Action: action, From: t.State, To: to, Comment: comment})
	t.State = to
}

// stateError explains why a ticket in its current state cannot take an action.
func stateError(t *Ticket, action string) error {
	switch t.State {
	case StateTerminated:
		return Errorf(ECONFLICT, "ticket %s was terminated%s; it cannot be %s", t.ID, closedBy(t), action)
	case StateExpired:
		return Errorf(ECONFLICT, "ticket %s expired at %s; it cannot be %s", t.ID, t.End.Format(time.RFC3339), action)
	}
	return Errorf(ECONFLICT, "ticket %s is %s; it cannot be %s", t.ID, t.State, action)
}

func closedBy(t *Ticket) string {
	if t.Closed == nil {
		return ""
	}
	return fmt.Sprintf(" by %s at %s", t.Closed.By, t.Closed.At.Format(time.RFC3339))
}
