package notify

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
)

// LogSender "sends" mail by logging who gets what (subject and the
// ticket's link, never the body) at info level: for servers without SMTP.
type LogSender struct {
	Logger  *slog.Logger
	BaseURL string
}

// Send logs m.
func (l LogSender) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "notify", "kind", m.Kind, "ticket", m.TicketID, "to", m.To, "subject", m.Subject,
		"link", TicketLink(l.BaseURL, m.TicketID))
	return nil
}

// Catcher keeps the last mails sent, for `jit dev`'s mail page.
type Catcher struct {
	Next Sender // also sent here, if set
	mu   sync.Mutex
	msgs []Message
}

const catcherKeep = 200

// Send keeps m (and passes it on).
func (c *Catcher) Send(ctx context.Context, m Message) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	if len(c.msgs) > catcherKeep {
		c.msgs = c.msgs[len(c.msgs)-catcherKeep:]
	}
	c.mu.Unlock()
	if c.Next != nil {
		return c.Next.Send(ctx, m)
	}
	return nil
}

// Messages returns the kept mails, newest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Message, len(c.msgs))
	for i, m := range c.msgs {
		out[len(out)-1-i] = m
	}
	return out
}

var catcherPage = template.Must(template.New("mail").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>JIT dev mail</title>
<meta http-equiv="refresh" content="5"></head><body style="font-family:Arial,sans-serif">
<h1>Mail sent by jit dev</h1><p>Newest first; the page reloads every 5 seconds. Nothing here leaves this machine.</p>
{{range .}}<hr><p><b>To:</b> {{.To}}<br><b>Subject:</b> {{.Subject}}</p><pre style="white-space:pre-wrap">{{.Text}}</pre>
{{else}}<p>No mail yet.</p>{{end}}</body></html>`))

// ServeHTTP shows the kept mails.
func (c *Catcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	catcherPage.Execute(w, c.Messages())
}
