package console

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// A ticket's stored hint never rides along with the ticket: a beneficiary
// who may see the ticket but not its activity must not read it there.
func TestTicketWithoutHint(t *testing.T) {
	tk := &broker.Ticket{ID: "t1", State: broker.StateExpired, Hint: &broker.Hint{TicketID: "t1", Actions: []string{"s3:ListAllMyBuckets"}, Settled: true}}
	b, err := json.Marshal(wire.NewTicket(tk, nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hint") || strings.Contains(string(b), "ListAllMyBuckets") {
		t.Errorf("the ticket's JSON carries its hint: %s", b)
	}
	if tk.Hint == nil {
		t.Error("NewTicket cleared the stored ticket's hint")
	}
}
