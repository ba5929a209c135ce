package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/smtptest"
)

// notifyConfig is dev.yaml with mail to srv.
func notifyConfig(srv *smtptest.Server) string {
	return string(devConfig) + fmt.Sprintf(`notify:
  email:
    smtp: {host: %s, port: %d, tls: none, from: "JIT <jit@example.com>"}
`, srv.Host, srv.Port)
}

// The real server mails the approver about a new ticket and the requester
// about its decision and activation, each with the ticket's link.
func TestServerMailsTicketPeople(t *testing.T) {
	srv := smtptest.Start(t)
	h := newHarnessWith(t, notifyConfig(srv))
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "mail")
	link := h.apiURL + "/#/tickets/" + tk.ID
	srv.Wait(t, 20*time.Second, "bob's approval request", func(ms []smtptest.Mail) bool {
		return slices.ContainsFunc(ms, func(m smtptest.Mail) bool {
			return slices.Contains(m.To, "bob@example.com") && strings.Contains(m.Subject, "Approval needed") && strings.Contains(m.Text, link)
		})
	})
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID, "--comment", "ok"); err != nil {
		t.Fatalf("approve: %v\n%s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	mails := srv.Wait(t, 20*time.Second, "alice's decision and activation mails", func(ms []smtptest.Mail) bool {
		var approved, active bool
		for _, m := range ms {
			if slices.Contains(m.To, "alice@example.com") && strings.Contains(m.Text, link) {
				approved = approved || strings.Contains(m.Subject, "Ticket approved")
				active = active || strings.Contains(m.Subject, "Access active")
			}
		}
		return approved && active
	})
	for _, m := range mails {
		if slices.Contains(m.To, "dave@example.com") || slices.Contains(m.To, "carol@example.com") {
			t.Errorf("mail to someone outside the ticket: %v %q", m.To, m.Subject)
		}
	}
	// The deliveries are in the audit log.
	code, page := h.api("carol@example.com", "GET", "/api/v1/audit?type=notify.sent&ticket="+tk.ID, nil)
	if code != 200 || len(page["events"].([]any)) < 3 {
		t.Errorf("notify.sent events: %d %v", code, page)
	}
}

// A mail server that refuses everything blocks nothing: the ticket is
// filed, approved and activated as usual while the deliveries fail.
func TestRefusingMailServerBlocksNothing(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Refuse(true)
	h := newHarnessWith(t, notifyConfig(srv))
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "no mail")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID, "--comment", "ok"); err != nil {
		t.Fatalf("approve: %v\n%s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for srv.Tries() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server was never tried")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(srv.Mails()); n != 0 {
		t.Fatalf("%d mails accepted by a refusing server", n)
	}
}
