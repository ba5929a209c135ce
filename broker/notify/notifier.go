package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
)

// DefaultPreExpiry is how long before a ticket's end its people are told.
const DefaultPreExpiry = 15 * time.Minute

// Channel is the metrics and audit name of this package's channel.
const Channel = "email"

// Job is one notification to one person, as queued. The ticket is read
// again when it runs.
type Job struct {
	Kind     string    `json:"kind"`
	TicketID string    `json:"ticket_id"`
	To       string    `json:"to"`
	Actor    string    `json:"actor,omitempty"`
	Comment  string    `json:"comment,omitempty"`
	State    string    `json:"state,omitempty"` // the outcome told: approved, rejected, terminated, expired
	Message  string    `json:"message,omitempty"`
	At       time.Time `json:"at"`             // when what it tells happened
	End      time.Time `json:"end,omitzero"`   // pre_expiry: the end it warns about
	Lead     int64     `json:"lead,omitempty"` // pre_expiry: seconds before the end
	// Chat marks a job for the chat channel (one per event, to the
	// account's channel) instead of a mail to To.
	Chat bool `json:"chat,omitempty"`
}

// ID is the job's queue id: the same news to the same person is queued once.
func (j Job) ID() string {
	to := j.To
	if j.Chat {
		to = "chat"
	}
	h := sha256.Sum256([]byte(to))
	return "notify:" + j.Kind + ":" + j.TicketID + ":" + hex.EncodeToString(h[:6]) + ":" + strconv.FormatInt(j.At.UnixNano(), 10)
}

// Minutes is the pre-expiry lead in minutes, for the templates.
func (j Job) Minutes() string { return strconv.FormatInt(j.Lead/60, 10) }

// Sender delivers one mail.
type Sender interface {
	// Send delivers m; an error is retried by the queue.
	Send(ctx context.Context, m Message) error
}

// Queue runs delivery jobs with retries (broker/tasks).
type Queue interface {
	// Enqueue queues payload under id to run at at (zero: now); an id
	// already queued is not an error.
	Enqueue(ctx context.Context, id string, payload []byte, at time.Time) error
}

// TicketReader reads any ticket (the store: the system reads).
type TicketReader interface {
	Ticket(ctx context.Context, id string) (*broker.Ticket, error)
}

// Chat posts ticket news to a chat channel (console/slack).
type Chat interface {
	// Tell posts headline about t; with buttons, Approve and Reject for
	// t's current revision.
	Tell(ctx context.Context, t *broker.Ticket, headline string, buttons bool) error
}

// ChatChannel is the metrics and audit name of the chat channel.
const ChatChannel = "slack"

// Counter counts deliveries (broker/metrics).
type Counter interface {
	Notification(channel, kind, result string)
}

// Config holds what a Notifier needs; zero optional fields mean defaults.
type Config struct {
	BaseURL string
	Queue   Queue
	Sender  Sender
	Tickets TicketReader
	// Viewer decides who may see a ticket: the broker.Service, whose
	// Ticket answers ENOTFOUND to a caller who may not see it. Required
	// before jobs run (cmd sets it once the service exists).
	Viewer TicketReader
	// PreExpiry is how long before the end the pre-expiry notice goes;
	// default DefaultPreExpiry, negative: never.
	PreExpiry time.Duration
	// Chat, if set, also gets every event (not reminders) once, for the
	// ticket's account's channel.
	Chat    Chat
	Audit   broker.AuditLog // optional
	Metrics Counter         // optional
	Logger  *slog.Logger
	Now     func() time.Time
}

// Notifier queues notifications (broker.Notifier, broker.Observer) and
// delivers them (Deliver, GaveUp).
type Notifier struct{ cfg Config }

var (
	_ broker.Notifier = (*Notifier)(nil)
	_ broker.Observer = (*Notifier)(nil)
)

// New returns a Notifier.
func New(cfg Config) *Notifier {
	if cfg.PreExpiry == 0 {
		cfg.PreExpiry = DefaultPreExpiry
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg}
}

// SetViewer sets Config.Viewer (the service, made after the Notifier).
func (n *Notifier) SetViewer(v TicketReader) { n.cfg.Viewer = v }

// Notify queues the broker's approval requests and reminders, one job per
// person (approvers and their active delegates), and its break-glass
// notices (a ticket filed, a review overdue). Groups have no address
// and are skipped. Decisions are told from the ticket's changes instead
// (TicketChanged), to the requester and the beneficiaries.
func (n *Notifier) Notify(ctx context.Context, b broker.Notification) error {
	switch b.Kind {
	case KindApprovalNeeded, KindReminder, KindBreakGlass, KindReviewOverdue:
	default:
		return nil
	}
	at := n.cfg.Now().UTC()
	var errs []error
	if n.cfg.Chat != nil && b.Kind != KindReminder {
		errs = append(errs, n.enqueue(ctx, Job{Kind: b.Kind, TicketID: b.TicketID, Chat: true, At: at}, time.Time{}))
	}
	for _, to := range people(b.To) {
		errs = append(errs, n.enqueue(ctx, Job{Kind: b.Kind, TicketID: b.TicketID, To: to, Message: b.Message, At: at}, time.Time{}))
	}
	return errors.Join(errs...)
}

// TicketChanged queues what the ticket's people must hear about this
// change: decisions, activation (and the pre-expiry notice), termination,
// extensions. Failures to queue are logged, never returned.
func (n *Notifier) TicketChanged(ctx context.Context, t *broker.Ticket, added []broker.Event) {
	people := people(append([]string{t.Requester}, t.Beneficiaries...))
	tell := func(j Job, to []string) {
		if n.cfg.Chat != nil {
			c := j
			c.Chat, c.TicketID = true, t.ID
			if err := n.enqueue(ctx, c, time.Time{}); err != nil {
				n.cfg.Logger.WarnContext(ctx, "chat notification not queued", "ticket", t.ID, "kind", j.Kind, "err", err)
			}
		}
		for _, p := range to {
			j.To, j.TicketID = p, t.ID
			if err := n.enqueue(ctx, j, time.Time{}); err != nil {
				n.cfg.Logger.WarnContext(ctx, "notification not queued", "ticket", t.ID, "kind", j.Kind, "err", err)
			}
		}
	}
	for _, e := range added {
		j := Job{Actor: e.Actor, Comment: e.Comment, At: e.At, State: string(e.To)}
		switch {
		case e.From == broker.StatePending && (e.To == broker.StateApproved || e.To == broker.StateRejected):
			j.Kind = KindDecided
			tell(j, people)
		case e.To == broker.StateActive && e.From != broker.StateActive:
			j.Kind = KindActivated
			tell(j, people)
			n.schedulePreExpiry(ctx, t, people, e.At)
		case e.To == broker.StateTerminated:
			j.Kind = KindEnded
			tell(j, people)
		case e.To == broker.StateExpired && e.From == broker.StatePending:
			j.Kind = KindEnded
			if j.Comment == "" {
				j.Comment = "not approved in time"
			}
			tell(j, []string{t.Requester})
		case e.Action == "request extension":
			j.Kind = KindExtensionAsked
			tell(j, people)
		case e.Action == "extend":
			j.Kind, j.State = KindExtensionDone, "approved"
			tell(j, people)
			n.schedulePreExpiry(ctx, t, people, e.At)
		case e.Action == "reject extension":
			j.Kind, j.State = KindExtensionDone, "rejected"
			tell(j, people)
		}
	}
}

// schedulePreExpiry queues the notice before t's current end, unless the
// ticket is shorter than the lead.
func (n *Notifier) schedulePreExpiry(ctx context.Context, t *broker.Ticket, to []string, now time.Time) {
	lead := n.cfg.PreExpiry
	if lead < 0 {
		return
	}
	at := t.End.Add(-lead)
	if !at.After(now) {
		return
	}
	for _, p := range to {
		j := Job{Kind: KindPreExpiry, TicketID: t.ID, To: p, At: t.End, End: t.End, Lead: int64(lead / time.Second)}
		if err := n.enqueue(ctx, j, at); err != nil {
			n.cfg.Logger.WarnContext(ctx, "pre-expiry notice not queued", "ticket", t.ID, "err", err)
		}
	}
}

func (n *Notifier) enqueue(ctx context.Context, j Job, at time.Time) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return n.cfg.Queue.Enqueue(context.WithoutCancel(ctx), j.ID(), b, at)
}

// people returns the addresses among xs, each once: groups have none.
func people(xs []string) []string {
	var out []string
	for _, x := range xs {
		// A workload has no mailbox: it learns by asking (jit tickets get).
		if x != "" && !strings.HasPrefix(x, "group:") && !broker.IsWorkload(x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// Deliver runs one job: it reads the ticket, drops news that no longer
// holds (a pre-expiry notice for a ticket that ended or moved its end)
// and recipients who may not see the ticket, then composes and sends the
// mail. An error means "try again".
func (n *Notifier) Deliver(ctx context.Context, payload []byte) error {
	var j Job
	if err := json.Unmarshal(payload, &j); err != nil {
		n.cfg.Logger.ErrorContext(ctx, "notification job unreadable", "err", err)
		return nil // retrying cannot help
	}
	t, err := n.cfg.Tickets.Ticket(ctx, j.TicketID)
	if broker.ErrorCode(err) == broker.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if j.Kind == KindPreExpiry && (t.State != broker.StateActive || !t.End.Equal(j.End)) {
		return nil
	}
	if j.Chat {
		return n.deliverChat(ctx, j, t)
	}
	if n.cfg.Viewer == nil {
		return errors.New("notify: no viewer to check who may see the ticket")
	}
	if _, err := n.cfg.Viewer.Ticket(broker.WithUser(ctx, broker.User{Email: j.To}), j.TicketID); broker.ErrorCode(err) == broker.ENOTFOUND || broker.ErrorCode(err) == broker.EFORBIDDEN {
		n.count(j.Kind, "not_visible")
		n.cfg.Logger.InfoContext(ctx, "notification dropped: recipient may not see the ticket", "ticket", j.TicketID, "kind", j.Kind, "to", j.To)
		return nil
	} else if err != nil {
		return err
	}
	m, err := compose(n.cfg.BaseURL, j, t)
	if err != nil {
		n.cfg.Logger.ErrorContext(ctx, "notification not composed", "ticket", j.TicketID, "kind", j.Kind, "err", err)
		return nil
	}
	if err := n.cfg.Sender.Send(ctx, m); err != nil {
		n.count(j.Kind, "retry")
		return err
	}
	n.count(j.Kind, "sent")
	n.audit(ctx, j, "notify.sent", "sent", "")
	return nil
}

// GaveUp records a job that ran out of retries.
func (n *Notifier) GaveUp(ctx context.Context, payload []byte, cause error) {
	var j Job
	_ = json.Unmarshal(payload, &j)
	if j.Chat {
		n.countOn(ChatChannel, j.Kind, "failed")
		n.auditOn(ctx, j, "notify.failed", "failed", ChatChannel+": "+fmt.Sprint(cause))
		return
	}
	n.count(j.Kind, "failed")
	n.cfg.Logger.ErrorContext(ctx, "notification failed for good", "ticket", j.TicketID, "kind", j.Kind, "to", j.To, "err", cause)
	n.audit(ctx, j, "notify.failed", "failed", fmt.Sprint(cause))
}

func (n *Notifier) count(kind, result string) { n.countOn(Channel, kind, result) }

func (n *Notifier) countOn(channel, kind, result string) {
	if n.cfg.Metrics != nil {
		n.cfg.Metrics.Notification(channel, kind, result)
	}
}

func (n *Notifier) audit(ctx context.Context, j Job, typ, result, detail string) {
	n.auditOn(ctx, j, typ, result, strings.TrimSpace(Channel+" to "+j.To+" "+detail))
}

func (n *Notifier) auditOn(ctx context.Context, j Job, typ, result, detail string) {
	if n.cfg.Audit == nil {
		return
	}
	e := broker.AuditEvent{At: n.cfg.Now().UTC(), Type: typ, Actor: "jit", Action: "notify " + j.Kind,
		TicketID: j.TicketID, Result: result, Detail: detail}
	if err := n.cfg.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		n.cfg.Logger.ErrorContext(ctx, "audit record", "type", typ, "err", err)
	}
}

// deliverChat posts j to the chat channel; an approval request carries
// buttons while its round is still open.
func (n *Notifier) deliverChat(ctx context.Context, j Job, t *broker.Ticket) error {
	if n.cfg.Chat == nil {
		return nil
	}
	headline, _ := headlines(view{Kind: j.Kind, T: t, Start: stamp(t.Start), End: stamp(t.End), Extend: extendEnd(t)}, j)
	_, open := t.OpenRound()
	if err := n.cfg.Chat.Tell(ctx, t, headline, j.Kind == KindApprovalNeeded && open); err != nil {
		n.countOn(ChatChannel, j.Kind, "retry")
		return err
	}
	n.countOn(ChatChannel, j.Kind, "sent")
	n.auditOn(ctx, j, "notify.sent", "sent", ChatChannel+" channel of account "+t.AccountID)
	return nil
}

func extendEnd(t *broker.Ticket) string {
	if t.Extension == nil {
		return ""
	}
	return stamp(t.Extension.End)
}
