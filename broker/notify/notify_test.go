package notify_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/notify"
	"github.com/jitaccess/jit/broker/tasks"
	"github.com/jitaccess/jit/internal/redistest"
	"github.com/jitaccess/jit/internal/smtptest"
)

var redisAddr string

func TestMain(m *testing.M) { redistest.Main(m, func(a string) { redisAddr = a }) }

const baseURL = "https://jit.example.com"

// tickets is a hand-written ticket store and viewer: a user sees a ticket
// when they are its requester, a beneficiary, or in seers.
type tickets struct {
	mu    sync.Mutex
	byID  map[string]*broker.Ticket
	seers map[string][]string
}

func (f *tickets) Ticket(ctx context.Context, id string) (*broker.Ticket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.byID[id]
	if !ok {
		return nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
	}
	if u, ok := broker.UserFrom(ctx); ok && u.Email != t.Requester && !slices.Contains(t.Beneficiaries, u.Email) && !slices.Contains(f.seers[id], u.Email) {
		return nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
	}
	c := *t
	return &c, nil
}

type auditLog struct {
	mu     sync.Mutex
	events []broker.AuditEvent
}

func (a *auditLog) Record(_ context.Context, e broker.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *auditLog) ofType(typ string) []broker.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []broker.AuditEvent
	for _, e := range a.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Notification(channel, kind, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[channel+"/"+kind+"/"+result]++
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

type env struct {
	smtp  *smtptest.Server
	n     *notify.Notifier
	store *tickets
	audit *auditLog
	count *counter
	now   time.Time
}

// newEnv runs a notifier whose jobs go through a real Asynq queue on the
// test Redis to a real SMTP server, retried maxRetry times 10 ms apart.
func newEnv(t *testing.T, maxRetry int) *env {
	t.Helper()
	queue := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	opt := asynq.RedisClientOpt{Addr: redisAddr}
	sched, err := tasks.NewScheduler(opt, tasks.SchedulerConfig{Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sched.Close() })
	e := &env{smtp: smtptest.Start(t), store: &tickets{byID: map[string]*broker.Ticket{}, seers: map[string][]string{}},
		audit: &auditLog{}, count: &counter{n: map[string]int{}}, now: time.Now().UTC().Truncate(time.Second)}
	sender, err := notify.NewSMTP(notify.SMTPConfig{Host: e.smtp.Host, Port: e.smtp.Port, TLS: notify.TLSNone, From: "JIT <jit@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.n = notify.New(notify.Config{BaseURL: baseURL, Queue: tasks.NotifyQueue{S: sched, MaxRetry: maxRetry}, Sender: sender,
		Tickets: e.store, Viewer: e.store, Audit: e.audit, Metrics: e.count, Logger: logger})
	srv := tasks.NewServer(opt, tasks.ServerConfig{Queue: queue, Logger: logger,
		RetryDelay: func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond }})
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeNotify, tasks.NewNotifyHandler(e.n))
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return e
}

func (e *env) ticket(id string, state broker.State) *broker.Ticket {
	t := &broker.Ticket{ID: id, State: state, Requester: "alice@example.com", Beneficiaries: []string{"alice@example.com", "dave@example.com"},
		AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", Reason: "incident <b>42</b>",
		Start: e.now, End: e.now.Add(2 * time.Hour), CreatedAt: e.now}
	e.store.mu.Lock()
	e.store.byID[id] = t
	e.store.seers[id] = []string{"bob@example.com"}
	e.store.mu.Unlock()
	return t
}

func to(ms []smtptest.Mail, who string) []smtptest.Mail {
	var out []smtptest.Mail
	for _, m := range ms {
		if slices.Contains(m.To, who) {
			out = append(out, m)
		}
	}
	return out
}

// Each event mails the right people, with its subject and the ticket's
// link in both bodies; nobody who may not see the ticket gets mail.
func TestMailForEachEvent(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	link := baseURL + "/#/tickets/"
	at := e.now
	for _, c := range []struct {
		name    string
		id      string
		state   broker.State
		fire    func(tk *broker.Ticket)
		want    map[string]string // recipient -> subject fragment
		notWant []string
		body    string // also in the text body
	}{
		{"new ticket to approvers and delegates", "t-new", broker.StatePending, func(tk *broker.Ticket) {
			e.n.Notify(ctx, broker.Notification{Kind: broker.NotifyApprovalNeeded, TicketID: tk.ID,
				To: []string{"bob@example.com", "group:approvers", "mallory@example.com"}})
		}, map[string]string{"bob@example.com": "Approval needed: ReadOnlyAccess in 111111111111"}, []string{"mallory@example.com", "alice@example.com"}, "alice@example.com asks for"},
		{"decision to requester and beneficiaries", "t-dec", broker.StateApproved, func(tk *broker.Ticket) {
			e.n.TicketChanged(ctx, tk, []broker.Event{{At: at, Actor: "bob@example.com for carol@example.com", Action: "approve", From: broker.StatePending, To: broker.StateApproved, Comment: "fine"}})
		}, map[string]string{"alice@example.com": "Ticket approved", "dave@example.com": "Ticket approved"}, []string{"bob@example.com"}, "bob@example.com for carol@example.com"},
		{"activation with console link and CLI snippet", "t-act", broker.StateActive, func(tk *broker.Ticket) {
			e.n.TicketChanged(ctx, tk, []broker.Event{{At: at, Actor: "jit", Action: "activate", From: broker.StateApproved, To: broker.StateActive}})
		}, map[string]string{"alice@example.com": "Access active", "dave@example.com": "Access active"}, nil, "credential_process = jit credentials --ticket t-act"},
		{"termination with who and why", "t-term", broker.StateTerminated, func(tk *broker.Ticket) {
			e.n.TicketChanged(ctx, tk, []broker.Event{{At: at, Actor: "bob@example.com", Action: "terminate", From: broker.StateActive, To: broker.StateTerminated, Comment: "incident over"}})
		}, map[string]string{"alice@example.com": "Access terminated", "dave@example.com": "Access terminated"}, nil, "incident over"},
		{"extension asked and decided", "t-ext", broker.StateActive, func(tk *broker.Ticket) {
			tk.Extension = &broker.Extension{End: tk.End.Add(time.Hour), RequestedBy: "alice@example.com", State: broker.ExtensionRejected}
			e.n.TicketChanged(ctx, tk, []broker.Event{
				{At: at, Actor: "alice@example.com", Action: "request extension", Comment: "more"},
				{At: at.Add(time.Second), Actor: "bob@example.com", Action: "reject extension", Comment: "no"}})
		}, map[string]string{"alice@example.com": "Extension asked", "dave@example.com": "Extension rejected"}, nil, "ticket t-ext"},
		{"break-glass to the rule's people", "t-bg", broker.StateActive, func(tk *broker.Ticket) {
			tk.BreakGlass = &broker.BreakGlass{ReviewBy: at.Add(4 * time.Hour)}
			e.n.Notify(ctx, broker.Notification{Kind: broker.NotifyBreakGlass, TicketID: tk.ID,
				To: []string{"bob@example.com", "group:oncall", "mallory@example.com"}})
		}, map[string]string{"bob@example.com": "BREAK-GLASS: alice@example.com granted themself ReadOnlyAccess"}, []string{"mallory@example.com", "alice@example.com"}, "A second person must review it by"},
		{"overdue break-glass review to escalate_to", "t-bgo", broker.StateActive, func(tk *broker.Ticket) {
			tk.BreakGlass = &broker.BreakGlass{ReviewBy: at}
			e.n.Notify(ctx, broker.Notification{Kind: broker.NotifyReviewOverdue, TicketID: tk.ID, To: []string{"bob@example.com"}})
		}, map[string]string{"bob@example.com": "Review overdue: break-glass ReadOnlyAccess"}, nil, "Nobody reviewed break-glass ticket t-bgo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.ticket(c.id, c.state)
			c.fire(tk)
			mails := e.smtp.Wait(t, 20*time.Second, "mail about "+c.id, func(ms []smtptest.Mail) bool {
				for who, subj := range c.want {
					found := false
					for _, m := range to(ms, who) {
						found = found || strings.Contains(m.Subject, subj) && strings.Contains(m.Text, c.id)
					}
					if !found {
						return false
					}
				}
				return true
			})
			for who := range c.want {
				for _, m := range to(mails, who) {
					if !strings.Contains(m.Text, c.id) {
						continue
					}
					if len(m.To) != 1 || m.From != "jit@example.com" {
						t.Errorf("mail to %v from %q, want one recipient from jit@example.com", m.To, m.From)
					}
					if !strings.Contains(m.Text, link+c.id) || !strings.Contains(m.HTML, `href="`+link+c.id+`"`) {
						t.Errorf("mail %q lacks the ticket link in text or HTML:\n%s\n%s", m.Subject, m.Text, m.HTML)
					}
					if !strings.Contains(m.Text, c.body) {
						t.Errorf("mail %q to %s lacks %q:\n%s", m.Subject, who, c.body, m.Text)
					}
					if strings.Contains(m.HTML, "<b>42</b>") || !strings.Contains(m.HTML, "&lt;b&gt;42&lt;/b&gt;") {
						t.Errorf("the reason is not escaped in the HTML body:\n%s", m.HTML)
					}
				}
			}
			for _, who := range c.notWant {
				for _, m := range to(e.smtp.Mails(), who) {
					if strings.Contains(m.Text, c.id) {
						t.Errorf("%s got mail about %s: %q", who, c.id, m.Subject)
					}
				}
			}
		})
	}
	if n := e.count.get("email/approval_needed/not_visible"); n != 1 {
		t.Errorf("not_visible drops = %d, want 1 (mallory)", n)
	}
	if len(e.audit.ofType("notify.sent")) == 0 {
		t.Error("no notify.sent audit events")
	}
}

// A mail server that refuses mail does not stop anything: the job is
// retried, then recorded as failed in the audit and metrics; once the
// server accepts again, new mail goes out.
func TestRefusingServerRetriedThenRecorded(t *testing.T) {
	e := newEnv(t, 2)
	e.smtp.Refuse(true)
	tk := e.ticket("t-refused", broker.StateTerminated)
	e.n.TicketChanged(context.Background(), tk, []broker.Event{{At: e.now, Actor: "bob@example.com", Action: "terminate", From: broker.StateActive, To: broker.StateTerminated}})
	deadline := time.Now().Add(30 * time.Second)
	for len(e.audit.ofType("notify.failed")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no final failure recorded; %d tries, audit %+v", e.smtp.Tries(), e.audit.events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Two recipients, each tried 1 + 2 retries.
	if got := e.smtp.Tries(); got != 6 {
		t.Errorf("the server saw %d tries, want 6 (2 recipients x 3)", got)
	}
	if got := e.count.get("email/ended/retry"); got != 6 {
		t.Errorf("retry count %d, want 6", got)
	}
	if got := e.count.get("email/ended/failed"); got != 2 {
		t.Errorf("failed count %d, want 2", got)
	}
	f := e.audit.ofType("notify.failed")[0]
	if f.TicketID != "t-refused" || !strings.Contains(f.Detail, "451") {
		t.Errorf("failure event %+v, want the ticket and the server's answer", f)
	}
	e.smtp.Refuse(false)
	tk2 := e.ticket("t-after", broker.StateTerminated)
	e.n.TicketChanged(context.Background(), tk2, []broker.Event{{At: e.now, Actor: "bob@example.com", Action: "terminate", From: broker.StateActive, To: broker.StateTerminated}})
	e.smtp.Wait(t, 20*time.Second, "mail after the server recovered", func(ms []smtptest.Mail) bool { return len(ms) == 2 })
}

// The pre-expiry notice goes at end - lead, and not for a ticket that
// ended or whose end moved.
func TestPreExpiryNotice(t *testing.T) {
	e := newEnv(t, 1)
	tk := e.ticket("t-soon", broker.StateActive)
	tk.End = time.Now().Add(notify.DefaultPreExpiry + 2*time.Second).UTC()
	moved := e.ticket("t-moved", broker.StateActive)
	moved.End = tk.End
	act := func(x *broker.Ticket) {
		e.n.TicketChanged(context.Background(), x, []broker.Event{{At: time.Now().UTC(), Actor: "jit", Action: "activate", From: broker.StateApproved, To: broker.StateActive}})
	}
	act(tk)
	act(moved)
	e.store.mu.Lock()
	e.store.byID["t-moved"].End = moved.End.Add(time.Hour) // extended after the notice was queued
	e.store.mu.Unlock()
	mails := e.smtp.Wait(t, 30*time.Second, "pre-expiry notices", func(ms []smtptest.Mail) bool {
		n := 0
		for _, m := range ms {
			if strings.Contains(m.Subject, "Access ends soon") {
				n++
			}
		}
		return n >= 2
	})
	for _, m := range mails {
		if strings.Contains(m.Subject, "Access ends soon") && (strings.Contains(m.Text, "t-moved") || !strings.Contains(m.Text, "jit extend t-soon")) {
			t.Errorf("pre-expiry mail %q:\n%s", m.Subject, m.Text)
		}
	}
}
