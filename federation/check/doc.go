// Package check proves a live AWS setup works before the first incident
// (`jit admin check`): for every registered account and permission set it
// makes the calls JIT makes, with JIT's own credentials, and says for
// each one that fails what is wrong and how to fix it. It makes no call
// JIT itself does not make, so the least-privilege templates of
// deploy/aws are enough for it, and it leaves nothing behind: a deny list
// is written back as it was, a test policy removed, a minted session
// given to nobody.
package check
