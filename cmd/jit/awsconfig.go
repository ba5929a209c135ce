package main

import (
	"fmt"
	"slices"
	"strings"
)

// The AWS config file is edited line by line, not parsed and written back
// as a whole: INI libraries (gopkg.in/ini.v1 included) realign keys, move
// inline comments and drop the user's spacing when they save. Here every
// line outside the one profile JIT writes stays byte for byte as it was.

// profileSection is the section header name of an AWS CLI profile in the
// config file: "default", or "profile NAME".
func profileSection(name string) string {
	if name == "default" {
		return "default"
	}
	return "profile " + name
}

// foreignCredentialKeys are keys that give a profile credentials of its
// own; JIT does not take over a profile that has one.
var foreignCredentialKeys = []string{
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "role_arn", "source_profile",
	"credential_source", "web_identity_token_file", "sso_start_url", "sso_session", "sso_account_id", "login_session",
}

// setProfile returns the config text with the profile's keys set to vals
// (in that order for new lines), and whether anything changed. Lines of
// other sections, comments, blank lines, other keys of the profile and
// the file's line endings are kept. ours reports whether an existing
// credential_process is JIT's to replace.
func setProfile(text, profile string, keys []string, vals map[string]string, ours func(string) bool) (string, bool, error) {
	nl := "\n"
	if strings.Contains(text, "\r\n") {
		nl = "\r\n"
	}
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	want := profileSection(profile)
	start, end := -1, len(lines) // the section's header line and the line after its body
	for i, l := range lines {
		name, ok := sectionName(l)
		if !ok {
			continue
		}
		if start >= 0 {
			end = i
			break
		}
		if name == want || (profile == "default" && name == "profile default") {
			start = i
		}
	}
	if start < 0 {
		var b strings.Builder
		b.WriteString(text)
		if text != "" && !strings.HasSuffix(text, "\n") {
			b.WriteString(nl)
		}
		if strings.TrimSpace(text) != "" {
			b.WriteString(nl)
		}
		b.WriteString("[" + want + "]" + nl)
		for _, k := range keys {
			b.WriteString(k + " = " + vals[k] + nl)
		}
		return b.String(), true, nil
	}
	body := lines[start+1 : end]
	found := map[string]int{}
	for i, l := range body {
		k, v, ok := keyLine(l)
		if !ok {
			continue
		}
		if slices.Contains(foreignCredentialKeys, k) {
			return "", false, fmt.Errorf("profile %s already has credentials of its own (%s): choose another --profile", profile, k)
		}
		if k == "credential_process" && !ours(v) {
			return "", false, fmt.Errorf("profile %s already has a credential_process that is not jit's: choose another --profile", profile)
		}
		if _, isOurs := vals[k]; isOurs {
			found[k] = i
		}
	}
	changed := false
	out := slices.Clone(body)
	var add []string
	for _, k := range keys {
		line := k + " = " + vals[k] + nl
		i, ok := found[k]
		if !ok {
			add = append(add, line)
			continue
		}
		if _, v, _ := keyLine(out[i]); v != vals[k] {
			out[i] = line
			changed = true
		}
	}
	if len(add) > 0 {
		// After the section's last key or header, before the blank lines
		// and comments that lead into the next section.
		at := 0
		for i, l := range out {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, ";") {
				at = i + 1
			}
		}
		if at > 0 && !strings.HasSuffix(out[at-1], "\n") {
			out[at-1] += nl
		} else if at == 0 && !strings.HasSuffix(lines[start], "\n") {
			lines[start] += nl
		}
		out = slices.Insert(out, at, add...)
		changed = true
	}
	if !changed {
		return text, false, nil
	}
	var b strings.Builder
	for _, l := range lines[:start+1] {
		b.WriteString(l)
	}
	for _, l := range out {
		b.WriteString(l)
	}
	for _, l := range lines[end:] {
		b.WriteString(l)
	}
	return b.String(), true, nil
}

// sectionName reads a "[name]" line; the AWS CLI splits "profile  x" on
// whitespace, so names are compared with single spaces.
func sectionName(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "[") {
		return "", false
	}
	closing := strings.Index(t, "]")
	if closing < 0 {
		return "", false
	}
	return strings.Join(strings.Fields(t[1:closing]), " "), true
}

// keyLine reads a top-level "key = value" line (not indented: indented
// lines are nested values of the key above).
func keyLine(line string) (string, string, bool) {
	if line == "" || line[0] == ' ' || line[0] == '\t' {
		return "", "", false
	}
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
		return "", "", false
	}
	k, v, ok := strings.Cut(t, "=")
	if !ok {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v), true
}
