package sandbox

import (
	"os"
	"sort"
	"strings"
	"sync"
)

// ActionsFileEnv names the environment variable that, when set, makes
// every Sandbox of the process append each action it serves, the first
// time it sees it, to that file as a line "<principal>\t<action>". Test
// processes running in parallel can share one file: each line is one
// append.
const ActionsFileEnv = "JIT_SANDBOX_ACTIONS_FILE"

// RecordedAction is one IAM action a principal called, as "service:Action"
// with the service prefix IAM policies use (sso, identitystore, sts, ...).
// Principal is "user/<name>" for an IAM user (the broker's own key in the
// sandbox) or "role/<name>" for a session of a role. Calls that policy
// denied count too: JIT made them.
type RecordedAction struct {
	Principal string
	Action    string
}

var operationRe = lazy(`^[A-Z][A-Za-z0-9]*$`)

// actionSet is the set of actions a Sandbox served.
type actionSet struct {
	mu   sync.Mutex
	seen map[RecordedAction]bool
}

var actionsFile struct {
	mu   sync.Mutex
	seen map[RecordedAction]bool
}

// recordAction notes the action of a call whose caller was authenticated.
// An AssumeRole that passes session tags or a source identity is also a
// call of sts:TagSession or sts:SetSourceIdentity, which IAM authorizes
// separately.
func (s *Sandbox) recordAction(c *call) {
	if c.caller == nil || !operationRe.MatchString(c.action) {
		return // S3 names its calls by method and path: not recorded
	}
	who := ""
	switch p := c.caller; {
	case p.user != nil:
		who = "user/" + p.user.Name
	case p.session != nil:
		_, name, _ := strings.Cut(p.session.roleKey, "/")
		if rs := s.roles[p.session.roleKey]; rs != nil {
			name = rs.Name
		}
		who = "role/" + name
	default:
		return
	}
	prefix := c.svc.name
	actions := []string{prefix + ":" + c.action}
	if prefix == "sts" && c.action == "AssumeRole" {
		if c.form.Get("Tags.member.1.Key") != "" {
			actions = append(actions, "sts:TagSession")
		}
		if c.form.Get("SourceIdentity") != "" {
			actions = append(actions, "sts:SetSourceIdentity")
		}
	}
	for _, a := range actions {
		ra := RecordedAction{Principal: who, Action: a}
		s.actions.add(ra)
		appendActionsFile(ra)
	}
}

func (a *actionSet) add(ra RecordedAction) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[RecordedAction]bool{}
	}
	a.seen[ra] = true
}

// appendActionsFile writes ra to the file named by ActionsFileEnv the
// first time this process sees it. Errors are ignored: the file is a
// measurement aid, never a reason for a call to fail.
func appendActionsFile(ra RecordedAction) {
	path := os.Getenv(ActionsFileEnv)
	if path == "" {
		return
	}
	actionsFile.mu.Lock()
	defer actionsFile.mu.Unlock()
	if actionsFile.seen[ra] {
		return
	}
	if actionsFile.seen == nil {
		actionsFile.seen = map[RecordedAction]bool{}
	}
	actionsFile.seen[ra] = true
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(ra.Principal + "\t" + ra.Action + "\n")
}

// Actions returns the actions the sandbox has served, sorted by principal
// then action.
func (s *Sandbox) Actions() []RecordedAction {
	s.actions.mu.Lock()
	defer s.actions.mu.Unlock()
	out := make([]RecordedAction, 0, len(s.actions.seen))
	for ra := range s.actions.seen {
		out = append(out, ra)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Principal != out[j].Principal {
			return out[i].Principal < out[j].Principal
		}
		return out[i].Action < out[j].Action
	})
	return out
}
