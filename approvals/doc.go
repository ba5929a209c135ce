// Package approvals decides who approves a ticket: it picks the approval
// rule for a ticket, plans its stages, and counts approvals per stage with
// separation of duties (no one approves their own ticket, no one counts
// twice).
package approvals
