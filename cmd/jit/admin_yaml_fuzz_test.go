package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/broker"
)

// FuzzRegistryYAML feeds `jit admin apply`'s parser any bytes: it never
// panics; what it refuses is "FILE:LINE: problem" text; a registry it
// reads that the broker and the authorizer accept keeps only text
// broker.CleanText accepts in its names, and survives `jit admin export`
// and a second parse unchanged. Seeds: the demo registry (dev.yaml) and
// testdata/fuzz/FuzzRegistryYAML.
func FuzzRegistryYAML(f *testing.F) {
	var dev struct {
		Registry yaml.Node `yaml:"registry"`
	}
	if err := yaml.Unmarshal(devConfig, &dev); err != nil {
		f.Fatal(err)
	}
	seed, err := yaml.Marshal(&dev.Registry)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("accounts:\n  - {id: \"111111111111\", name: \"dev\\e[2K\"}\n"))
	f.Add([]byte("admins: [\"group:\\u202Eadmins\"]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rf, err := parseRegistryYAML("r.yaml", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "r.yaml:") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		r := rf.data
		broker.NormalizeRegistry(&r)
		if err := broker.CheckRegistry(r); err != nil {
			if xerr := rf.explain(broker.ErrorMessage(err)); xerr == nil || !strings.HasPrefix(xerr.Error(), "r.yaml:") {
				t.Fatalf("explain(%q) = %v", broker.ErrorMessage(err), xerr)
			}
			return
		}
		for _, a := range r.Accounts {
			if _, err := broker.CleanText(broker.TextRule{Field: "name"}, a.Name); err != nil {
				t.Fatalf("valid registry with account name %q: %v", a.Name, err)
			}
		}
		out, err := marshalRegistryYAML(r)
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		back, err := parseRegistryYAML("export.yaml", out)
		if err != nil {
			t.Fatalf("export does not parse: %v\n%s", err, out)
		}
		again := back.data
		broker.NormalizeRegistry(&again)
		if diff := cmp.Diff(r, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("export and parse changed the registry (-want +got):\n%s", diff)
		}
		if out2, _ := marshalRegistryYAML(again); !bytes.Equal(out, out2) {
			t.Fatalf("export is not deterministic:\n%s\n---\n%s", out, out2)
		}
	})
}
