package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jit/broker"
)

// bob pre-approves alice on the page; her ticket is approved at once;
// bob revokes the pre-approval there.
func TestApproverPagePreApprovals(t *testing.T) {
	h := newWebHarness(t)
	b := newBrowser(t)
	b.signIn(h, "bob@example.com")
	b.do("pre-approvals", chromedp.Navigate(h.apiURL+"/#/preapprovals"), chromedp.WaitVisible(chromedp.CSS(testid("preapprove-submit"))))
	b.axe("pre-approvals")
	b.do("fill", chromedp.SendKeys(chromedp.CSS(testid("preapprove-for")+" input"), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS(testid("preapprove-account")+" input"), "111111111111"),
		chromedp.SendKeys(chromedp.CSS(testid("preapprove-permission-set")+" input"), "ReadOnlyAccess"),
		chromedp.SendKeys(chromedp.CSS(testid("preapprove-reason")+" textarea"), "on duty this week"))
	b.replace(testid("preapprove-duration")+" input", "7d")
	b.do("submit", chromedp.Click(chromedp.CSS(testid("preapprove-submit"))))
	b.waitText(testid("flash-success"), "alice@example.com is pre-approved")

	var list struct {
		PreApprovals []broker.PreApproval `json:"preapprovals"`
	}
	code, m := h.api("bob@example.com", "GET", "/api/v1/preapprovals", nil)
	data, _ := json.Marshal(m)
	if err := json.Unmarshal(data, &list); code != 200 || err != nil || len(list.PreApprovals) != 1 || list.PreApprovals[0].For != "alice@example.com" ||
		list.PreApprovals[0].End.Sub(list.PreApprovals[0].Start) != 7*24*time.Hour {
		t.Fatalf("pre-approvals after the page made one: %d %+v %v", code, list.PreApprovals, err)
	}
	id := list.PreApprovals[0].ID
	b.waitText(testid("preapproval-"+id), "alice@example.com")
	if tk := h.requestReadOnly("pre-approved on the page"); tk.State != broker.StateActive || tk.Approvals[0].Auto == nil {
		t.Fatalf("alice's ticket: %s %+v, want active by the pre-approval", tk.State, tk.Approvals)
	}

	b.do("revoke", chromedp.Click(chromedp.CSS(testid("revoke-preapproval-"+id))))
	b.waitText(testid("flash-success"), "revoked")
	code, m = h.api("bob@example.com", "GET", "/api/v1/preapprovals", nil)
	data, _ = json.Marshal(m)
	if err := json.Unmarshal(data, &list); code != 200 || err != nil || len(list.PreApprovals) != 1 || list.PreApprovals[0].RevokedBy != "bob@example.com" {
		t.Fatalf("after revoking on the page: %d %+v %v", code, list.PreApprovals, err)
	}
}
