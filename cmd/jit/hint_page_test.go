package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jit/broker"
)

// The ticket page's "Least privilege" section: bob compares alice's ended
// ticket with its permission set and sees the summary and the policy with
// its copy button; carol's "Permission set usage" lists ReadOnlyAccess.
func TestApproverPageLeastPrivilege(t *testing.T) {
	needAWSCLI(t)
	h := newWebHarness(t)
	tk := h.requestReadOnly("page hint")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	if out, err := h.awsCLI(awsEnv(h.credentials("alice@example.com", tk.ID)), "s3api", "list-buckets"); err != nil {
		t.Fatalf("aws s3api list-buckets: %v\n%s", err, out)
	}
	if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID, "--comment", "enough"); err != nil {
		t.Fatalf("terminate: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateTerminated, 10*time.Second)

	b := newBrowser(t)
	b.signIn(h, "bob@example.com")
	b.do("ticket page", chromedp.Navigate(h.apiURL+"/#/tickets/"+tk.ID),
		chromedp.WaitVisible(chromedp.CSS(testid("load-hint"))),
		chromedp.Click(chromedp.CSS(testid("load-hint"))))
	b.waitText(testid("hint-summary"), "used 1 action of 1 service; ReadOnlyAccess grants 333 actions of 4 services")
	b.waitText(testid("hint-policy"), `"s3:ListAllMyBuckets"`)
	b.waitText(testid("hint-policy-copy"), "Copy policy")
	b.axe("least privilege")

	c := newBrowser(t)
	c.signIn(h, "carol@example.com")
	c.do("usage page", chromedp.Navigate(h.apiURL+"/#/usage"))
	c.waitText(testid("usage-table"), "ReadOnlyAccess")
	c.waitText(testid("usage-table"), "333")
	c.axe("permission set usage")
}
