package broker_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jitaccess/jit/broker"
)

// FuzzRegistryJSON feeds the registry's JSON decoding (the body of PUT
// /api/v1/registry) any bytes: it never panics; a registry that decodes
// and passes CheckRegistry keeps only text broker.CleanText accepts in its
// account names, and survives encoding and decoding unchanged. Seeds:
// below and testdata/fuzz/FuzzRegistryJSON.
func FuzzRegistryJSON(f *testing.F) {
	f.Add([]byte(`{"accounts":[{"id":"111111111111","name":"dev"}],"permission_sets":[{"name":"ReadOnlyAccess","role_name":"ReadOnlyAccess","max_duration":"8h","approval_required":true,"scope":{"accounts":["*"],"requester_groups":["*"]}}],"approval_rules":[{"account":"*","stages":[{"approvers":["bob@example.com"],"required":1}],"deadline":"4h"}],"admins":["carol@example.com"]}`))
	f.Add([]byte(`{"accounts":[{"id":"111111111111","name":"dev\u001b[2K"}],"admins":["group:\u202eadmins"]}`))
	f.Add([]byte(`{"permission_sets":[{"name":"X","max_duration":8}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		var r broker.RegistryData
		if json.Unmarshal(src, &r) != nil {
			return
		}
		broker.NormalizeRegistry(&r)
		if err := broker.CheckRegistry(r); err != nil {
			if broker.ErrorCode(err) != broker.EINVALID {
				t.Fatalf("CheckRegistry: %v, want invalid", err)
			}
			return
		}
		for _, a := range r.Accounts {
			if _, err := broker.CleanText(broker.TextRule{Field: "name"}, a.Name); err != nil {
				t.Fatalf("valid registry with account name %q: %v", a.Name, err)
			}
		}
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var back broker.RegistryData
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("decode of %s: %v", data, err)
		}
		broker.NormalizeRegistry(&back)
		if diff := cmp.Diff(r, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("encode and decode changed the registry (-want +got):\n%s", diff)
		}
	})
}
