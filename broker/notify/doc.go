// Package notify tells people about tickets by email: it turns the
// broker's notifications and stored ticket changes into delivery jobs (one
// per recipient), which a queue (broker/tasks) runs with retries; each job
// re-reads the ticket, drops a recipient who may not see it, composes a
// text and HTML mail with a link to the ticket's page, and sends it over
// SMTP (wneessen/go-mail). Deliveries and final failures go to the audit
// log and to metrics. A failing mail server never blocks or fails a ticket.
package notify
