// Package policies makes JIT's authorization decisions through one Casbin
// enforcer, compiled from the registry's grants and admins.
//
// The model (model.conf, embedded) is RBAC without domains: a request is
// (subject, action, account, permission set); subjects are the user's email,
// "group:<name>" for each of their groups, and "*" for everyone; a policy
// row allows an action on an account ("*" for all) and a permission set
// ("*" for all).
package policies
