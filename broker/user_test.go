package broker

import "testing"

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice@example.com", "alice@example.com"},
		{"  Alice@Example.COM\t", "alice@example.com"},
		{"\u017fam@x.com", "\u017fam@x.com"},     // long s stays: not "sam"
		{"\u212Aate@x.com", "\u212Aate@x.com"},   // Kelvin sign stays: not "kate"
		{"\uff41lice@x.com", "\uff41lice@x.com"}, // fullwidth a stays
		{"ÉLISE@x.com", "Élise@x.com"},           // only ASCII is lowered
	} {
		if got := NormalizeEmail(tc.in); got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUserIs(t *testing.T) {
	u := User{Email: "erin@example.com", Groups: []string{"\u017fecurity", " Admins ", "Ops"}}
	for _, tc := range []struct {
		principal string
		want      bool
	}{
		{"erin@example.com", true},
		{"Erin@example.com", false},
		{"group:Ops", true},
		{"group:ops", false},
		{"group:security", false}, // erin's "ſecurity" is another group
		{"group:Security", false},
		{"group:\uff33ecurity", false},
		{"group:Admins", false}, // " Admins " is not "Admins"
		{"group:admins", false},
		{"group:", false},
		{"", false},
	} {
		if got := u.Is(tc.principal); got != tc.want {
			t.Errorf("Is(%q) = %v, want %v", tc.principal, got, tc.want)
		}
	}
	if got := NormalizePrincipal("  group:Sec Ops "); got != "group:Sec Ops" {
		t.Errorf("NormalizePrincipal kept %q", got)
	}
	if got := NormalizePrincipal(" Bob@X.com "); got != "bob@x.com" {
		t.Errorf("NormalizePrincipal email = %q", got)
	}
}
