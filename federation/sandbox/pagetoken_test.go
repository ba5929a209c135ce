package sandbox

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// pagingEnv is a sandbox with lists long enough to page: alice in all
// three groups, three assignments of ReadOnlyAccess in dev, and five
// GetCallerIdentity events of the broker.
func pagingEnv(t *testing.T) *icEnv {
	t.Helper()
	f := DemoFixture()
	for i, g := range f.IdentityCenter.Groups {
		if !slices.Contains(g.Members, "alice") {
			f.IdentityCenter.Groups[i].Members = append(g.Members, "alice")
		}
	}
	e := newICEnv(t, f, Options{})
	ps := e.permSetARN(t, "ReadOnlyAccess")
	for _, u := range []string{"alice", "bob", "carol"} {
		e.assign(t, assignmentInput(e.inst, "111111111111", ps, ssotypes.PrincipalTypeUser, e.userID(t, u)))
	}
	for range 5 {
		if _, err := e.broker().sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(10 * time.Minute) // past CloudTrail's delivery delay
	return e
}

// pagedList is one list operation: list makes the request under test with
// a small page size; other makes the same operation with other filter
// parameters (nil when the sandbox has no second valid set).
type pagedList struct {
	name  string
	list  func(e *icEnv, tok *string) (items []string, next *string, err error)
	other func(e *icEnv, tok *string) error
	wantN int
	code  string
}

func pagedLists() []pagedList {
	assignments := func(e *icEnv, account, permSet string, tok *string) ([]string, *string, error) {
		out, err := e.admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(e.inst),
			AccountId: aws.String(account), PermissionSetArn: aws.String(permSet), MaxResults: aws.Int32(1), NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, a := range out.AccountAssignments {
			ids = append(ids, aws.ToString(a.PrincipalId))
		}
		return ids, out.NextToken, nil
	}
	memberships := func(e *icEnv, user string, tok *string) ([]string, *string, error) {
		out, err := e.ids.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: aws.String(e.store),
			MemberId: &idtypes.MemberIdMemberUserId{Value: user}, MaxResults: aws.Int32(1), NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, m := range out.GroupMemberships {
			ids = append(ids, aws.ToString(m.MembershipId))
		}
		return ids, out.NextToken, nil
	}
	lookup := func(e *icEnv, event string, tok *string) ([]string, *string, error) {
		e.clock.Advance(time.Second) // clear of the 2 calls/s limit
		out, err := e.trailClient(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "").LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(event)}},
			MaxResults:       aws.Int32(2), NextToken: tok})
		if err != nil {
			return nil, nil, err
		}
		var ids []string
		for _, ev := range out.Events {
			ids = append(ids, aws.ToString(ev.EventId))
		}
		return ids, out.NextToken, nil
	}
	permSet := func(e *icEnv, name string) string {
		for _, ps := range e.sb.ic.instance.permSets {
			if ps.name == name {
				return ps.arn
			}
		}
		return ""
	}
	return []pagedList{
		{"organizations ListAccounts", func(e *icEnv, tok *string) ([]string, *string, error) {
			out, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(1), NextToken: tok})
			if err != nil {
				return nil, nil, err
			}
			var ids []string
			for _, a := range out.Accounts {
				ids = append(ids, aws.ToString(a.Id))
			}
			return ids, out.NextToken, nil
		}, nil, 3, "InvalidInputException"},
		{"sso-admin ListPermissionSets", func(e *icEnv, tok *string) ([]string, *string, error) {
			out, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(e.inst), MaxResults: aws.Int32(1), NextToken: tok})
			if err != nil {
				return nil, nil, err
			}
			return out.PermissionSets, out.NextToken, nil
		}, nil, 3, "ValidationException"},
		{"sso-admin ListAccountAssignments", func(e *icEnv, tok *string) ([]string, *string, error) {
			return assignments(e, "111111111111", permSet(e, "ReadOnlyAccess"), tok)
		}, func(e *icEnv, tok *string) error {
			_, _, err := assignments(e, "111111111111", permSet(e, "PowerUserAccess"), tok)
			return err
		}, 3, "ValidationException"},
		{"identitystore ListGroupMembershipsForMember", func(e *icEnv, tok *string) ([]string, *string, error) {
			return memberships(e, e.sb.ic.instance.users[0].id, tok) // alice
		}, func(e *icEnv, tok *string) error {
			_, _, err := memberships(e, e.sb.ic.instance.users[1].id, tok) // bob
			return err
		}, 3, "ValidationException"},
		{"cloudtrail LookupEvents", func(e *icEnv, tok *string) ([]string, *string, error) {
			return lookup(e, "GetCallerIdentity", tok)
		}, func(e *icEnv, tok *string) error {
			_, _, err := lookup(e, "AssumeRole", tok)
			return err
		}, 5, "InvalidNextTokenException"},
	}
}

// TestPageTokens pages every list through the SDK clients to its end, and
// shows that hand-made, altered and foreign tokens are refused with the
// service's own error: tokens of the old offset format, a token with its
// position changed, the same request's token from another sandbox, a
// token of the same operation with other parameters, and a token of
// another operation.
func TestPageTokens(t *testing.T) {
	e, e2 := pagingEnv(t), pagingEnv(t)
	lists := pagedLists()
	firstTokens := map[string]*string{}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			var all []string
			var tok *string
			pages := 0
			for {
				items, next, err := l.list(e, tok)
				if err != nil {
					t.Fatalf("page %d: %v", pages+1, err)
				}
				all = append(all, items...)
				pages++
				if next == nil {
					break
				}
				if pages == 1 {
					firstTokens[l.name] = next
				}
				if pages > 10 {
					t.Fatalf("more than 10 pages: %v", all)
				}
				tok = next
			}
			uniq := slices.Compact(slices.Sorted(slices.Values(all)))
			if len(all) != l.wantN || len(uniq) != l.wantN {
				t.Fatalf("paged %d items (%d distinct) in %d pages, want %d: %v", len(all), len(uniq), pages, l.wantN, all)
			}
			if firstTokens[l.name] == nil {
				t.Fatal("no NextToken on the first page")
			}
		})
	}

	for _, l := range lists {
		good := firstTokens[l.name]
		if good == nil {
			continue
		}
		_, fromOther, err := l.list(e2, nil)
		if l.name == "organizations ListAccounts" {
			_, fromOther, err = l.list(e2, fromOther) // the first page is empty: take the second's token
		}
		if err != nil || fromOther == nil {
			t.Fatalf("%s on the second sandbox: %v, token %v", l.name, err, fromOther)
		}
		raw, err := base64.StdEncoding.DecodeString(*good)
		if err != nil {
			t.Fatalf("%s token %q is not base64: %v", l.name, *good, err)
		}
		raw[7] ^= 1 // the position's last byte
		altered := base64.StdEncoding.EncodeToString(raw)
		forged := map[string]func() error{
			"old format accounts:2": func() error {
				_, _, err := l.list(e, aws.String(base64.StdEncoding.EncodeToString([]byte("accounts:2"))))
				return err
			},
			"old format offset 1": func() error {
				_, _, err := l.list(e, aws.String(base64.StdEncoding.EncodeToString([]byte("permissionsets:1"))))
				return err
			},
			"position altered":         func() error { _, _, err := l.list(e, &altered); return err },
			"token of another sandbox": func() error { _, _, err := l.list(e, fromOther); return err },
		}
		if l.other != nil {
			forged["same operation, other parameters"] = func() error { return l.other(e, good) }
		}
		for _, m := range lists {
			if m.name != l.name && firstTokens[m.name] != nil {
				forged["token of "+m.name] = func() error { _, _, err := l.list(e, firstTokens[m.name]); return err }
			}
		}
		if _, _, err := l.list(e, good); err != nil {
			t.Fatalf("%s: the request's own token refused on reuse: %v", l.name, err)
		}
		for name, call := range forged {
			t.Run(l.name+"/"+name, func(t *testing.T) {
				err := call()
				wantAPIError(t, err, l.code, "")
				if l.code == "InvalidInputException" {
					var ie *orgtypes.InvalidInputException
					if !errors.As(err, &ie) || ie.Reason != orgtypes.InvalidInputExceptionReasonInvalidPaginationToken {
						t.Errorf("reason of %v, want INVALID_NEXT_TOKEN", err)
					}
				}
			})
		}
	}
}
