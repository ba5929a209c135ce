// Package policies makes JIT's authorization decisions through one Casbin
// enforcer compiled from the registry (broker.RegistryData): who may request
// which permission set in which account, who may request for others, who
// administers, and who approves which stage of which ticket.
//
// # Model
//
// The model (model.conf, embedded) has no policy rows, so Casbin never
// scans policies: it evaluates the matcher once per decision. The registry
// is compiled into role links, one Casbin role definition per kind of link,
// and three small matcher functions join them. Node names carry a prefix so
// that no two kinds can collide; subjects are "user:<email>",
// "group:<name>" (exactly as broker.User normalises them) and "*" for everyone.
//
//	g   ps:<set> -> psg:<group>           the set is in the permission set group
//	g2  acct:<id or *> -> ps:<set>         the set's scope lists the account ("*": all)
//	g3  <group or *> -> grant|ps:<set>     the set's scope lists the requester group
//	g4  role:admin -> <user or group>      an admin
//	    role:request_for_others -> ...     may file tickets for others
//	    appr|<rule>|stage:<n> -> ...       approves stage n (0-based) of the rule
//	g5  rule|<rule> -> rule#<index>        the rule exists (index into approval_rules)
//
// where <rule> is "<account or *>|<ps:set, psg:group or *>", followed by
// "|rg:<group>" for a rule naming a requester group. For example
// this registry
//
//	permission_sets:
//	  - name: Admin
//	    scope: {accounts: ["222222222222"], requester_groups: [ops]}
//	permission_set_groups:
//	  - {name: prod-sets, permission_sets: [Admin]}
//	approval_rules:
//	  - account: "222222222222"
//	    permission_set: group:prod-sets
//	    stages: [{approvers: [group:sec, sam@x.com], required: 2}]
//
// compiles into the links
//
//	g   ps:Admin -> psg:prod-sets
//	g2  acct:222222222222 -> ps:Admin
//	g3  group:ops -> grant|ps:Admin
//	g4  appr|222222222222|psg:prod-sets|stage:0 -> group:sec
//	g4  appr|222222222222|psg:prod-sets|stage:0 -> user:sam@x.com
//	g5  rule|222222222222|psg:prod-sets -> rule#0
//
// and a request (r.sub, r.act, r.acct, r.ps, r.stage) is decided by
//
//	request:            mayRequest(r.sub, r.acct, r.ps): acct:<id> or acct:* -> ps:<set>,
//	                    and one of r.sub's nodes -> grant|ps:<set>
//	approve:            holds(r.sub, ruleStage(r.acct, r.ps, r.stage)): the winning
//	                    rule's stage node -> one of r.sub's nodes
//	administer, request_for_others:
//	                    holds(r.sub, "role:admin"), holds(r.sub, "role:request_for_others")
//
// r.sub is the caller: their email, their groups (from the identity
// provider, as broker.User.Groups) and "*". Group membership is not in the
// registry, so user -> group links are not compiled; the request carries
// them. ruleStage probes g5 for the most specific rule: the exact account
// before "*", and within each the named set, then the groups holding it
// (from g), then any set; broker.CheckRegistry rejects registries where two rules tie.
// Enforcer.Rule, given the requester's groups, probes each of those keys
// first with "|rg:<group>" for the requester's groups (in byte order),
// then without; the matcher's ruleStage (MayApprove) knows no requester
// and sees only the rules naming no group. Approvals go through the
// approval engine, which asks Rule with the ticket's requester groups.
//
// Each scope is one set's accounts times its requester groups, so the two
// halves are kept as separate links (g2, g3) instead of one link per
// account and group; a node's links stay few (at most one per permission
// set), which bounds every lookup.
//
// # Traps avoided
//
// Casbin memoizes every g() call made from a matcher, without bound, until
// the links change; the matcher therefore never calls g(): its functions
// read the role managers directly. No role definition has a domain, so
// nothing is copied into per-account role managers. The role managers are
// linkGraphs (linkgraph.go): plain maps built once per compile and only
// read afterwards, because Casbin's default role manager took a global
// mutex per lookup and about 100 MiB at design.md's scale.
//
// # Reloading
//
// A compiled enforcer is never changed. Reload compiles a new one off to
// the side and swaps it in atomically; decisions in flight finish on the
// old one. Watch subscribes to Channel on a PubSub (RedisPubSub over Redis)
// and reloads when another replica calls Changed and when the subscription
// is made again after a lost connection. Pub/sub only makes replicas
// converge fast; what bounds staleness is the version check: a decision
// whose last check is older than WatchOptions.MaxAge (1 s) reads the
// stored version and reloads if it moved, and is refused (EUNAVAILABLE)
// when the version cannot be read or the stored registry cannot be
// applied. See BENCHMARKS.md for decision latency and reload time at
// design.md's scale.
package policies
