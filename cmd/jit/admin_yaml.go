package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/broker"
)

// The registry as YAML: what `jit admin apply` reads and `jit admin export`
// writes. Reading is strict (unknown keys and wrong types are errors with
// their line); writing is deterministic, so exporting twice gives the same
// bytes and applying an export changes nothing.

// registryFile is a parsed registry file: the data, and the YAML tree that
// maps a field path back to its line.
type registryFile struct {
	name string
	data broker.RegistryData
	root *yaml.Node
}

// parseRegistryYAML reads a registry file strictly.
func parseRegistryYAML(name string, src []byte) (*registryFile, error) {
	f := &registryFile{name: name, root: &yaml.Node{}}
	if len(bytes.TrimSpace(src)) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(f.root); err != nil {
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s:%d: only one YAML document is allowed", name, extra.Line)
	}
	strict := yaml.NewDecoder(bytes.NewReader(src))
	strict.KnownFields(true)
	if err := strict.Decode(&f.data); err != nil {
		return nil, yamlError(name, err)
	}
	return f, nil
}

var (
	reUnknownKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^line (\\d+): field (\\S+) not found in type \\S+$") })
	reWrongType  = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) (?:`(.*)` )?into (.+)$")
	})
	reLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`) })
)

// yamlError rewrites yaml.v3's errors as "FILE:LINE: problem", one a line,
// in words a registry author knows (no Go type names).
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var out []string
	for _, m := range msgs {
		if g := reUnknownKey().FindStringSubmatch(m); g != nil {
			out = append(out, fmt.Sprintf("%s:%s: unknown key %q", name, g[1], g[2]))
		} else if g := reWrongType().FindStringSubmatch(m); g != nil {
			what := g[3]
			if what == "" {
				what = yamlKind(g[2])
			} else {
				what = strconv.Quote(what)
			}
			out = append(out, fmt.Sprintf("%s:%s: %s is not %s", name, g[1], what, goTypeWords(g[4])))
		} else if g := reLine().FindStringSubmatch(m); g != nil {
			out = append(out, fmt.Sprintf("%s:%s: %s", name, g[1], g[2]))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", name, strings.TrimPrefix(m, "yaml: ")))
		}
	}
	return errors.New(strings.Join(out, "\n"))
}

func yamlKind(tag string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "str":
		return "text"
	case "int", "float":
		return "a number"
	case "bool":
		return "true/false"
	}
	return "this value"
}

func goTypeWords(t string) string {
	switch {
	case t == "time.Duration":
		return "a duration (such as 12h or 30m)"
	case t == "int" || strings.HasPrefix(t, "int") || strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string" || t == "broker.GrantPath" || t == "broker.LatePolicy":
		return "text"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a mapping"
}

// reProblemPath finds the field path a registry error starts with.
var reProblemPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:registry\.)?([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*)(?::|$)`)
})

// explain turns a registry validation error (from the broker, the
// authorizer or the server) into "FILE:LINE: problem" lines, one per problem.
func (f *registryFile) explain(msg string) error {
	msg = strings.TrimPrefix(msg, "invalid registry: ")
	var out []string
	for _, p := range strings.Split(msg, "; ") {
		line := 0
		if g := reProblemPath().FindStringSubmatch(p); g != nil {
			line = lineOf(f.root, g[1])
		}
		if line > 0 {
			out = append(out, fmt.Sprintf("%s:%d: %s", f.name, line, shown(p)))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", f.name, shown(p)))
		}
	}
	return errors.New(strings.Join(out, "\n"))
}

var rePathPart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-z_]+)(?:\[(\d+)\])?$`) })

// lineOf returns the line of the node at path ("approval_rules[1].stages[0].required"),
// or of its deepest existing ancestor; 0 when not even the first part exists.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		g := rePathPart().FindStringSubmatch(part)
		if g == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == g[1] {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
		if g[2] != "" {
			idx, _ := strconv.Atoi(g[2])
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	if n.Kind == yaml.ScalarNode || n.Kind == yaml.SequenceNode && n.Style == yaml.FlowStyle {
		line = n.Line
	}
	return line
}

// durationKeys hold durations, written the short way ("12h").
var durationKeys = map[string]bool{"max_duration": true, "deadline": true, "remind_every": true, "escalate_before": true, "review_within": true, "step_up_max_age": true}

// flowKeys hold lists or small mappings written on one line.
var flowKeys = map[string]bool{
	"accounts": true, "requester_groups": true, "permission_sets": true, "approvers": true,
	"admins": true, "request_for_others": true, "scope": true, "limits": true, "escalate_to": true, "step_up_acr": true, "step_up_amr": true,
	"people": true, "notify": true,
}

// marshalRegistryYAML writes r as a registry file.
func marshalRegistryYAML(r broker.RegistryData) ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(r); err != nil {
		return nil, err
	}
	styleNode(&doc, "")
	var buf bytes.Buffer
	buf.WriteString("# JIT registry. Apply with: jit admin apply -f FILE (schema: docs/registry.md)\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// styleNode shortens durations and puts lists of scalars, accounts and
// scopes on one line, as people write them.
func styleNode(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if durationKeys[k.Value] && v.Kind == yaml.ScalarNode {
				if d, err := time.ParseDuration(v.Value); err == nil {
					v.Value, v.Tag, v.Style = broker.FormatDuration(d), "!!str", 0
				}
			}
			styleNode(v, k.Value)
		}
		if key == "scope" {
			n.Style = yaml.FlowStyle
		}
	case yaml.SequenceNode:
		scalars, small := true, key == "accounts"
		for _, c := range n.Content {
			scalars = scalars && c.Kind == yaml.ScalarNode
			small = small && c.Kind == yaml.MappingNode && len(c.Content) <= 6
			styleNode(c, "")
		}
		if scalars && flowKeys[key] {
			n.Style = yaml.FlowStyle
		}
		if small && key == "accounts" {
			for _, c := range n.Content {
				c.Style = yaml.FlowStyle
			}
		}
	default:
		for _, c := range n.Content {
			styleNode(c, key)
		}
	}
}
