package broker

// Crash points name the moments of the ticket lifecycle between two
// durable steps: a state saved and its consequence not yet in place, or an
// AWS call made and not yet recorded. The crash suite (`make test-faults`)
// kills the server at each of them and checks that, after a restart,
// every ticket's state and its consequences in AWS agree again.
//
// ServiceConfig.Crash is called at each point with its name. Production
// leaves it nil, so a crash point costs one nil check and does nothing;
// only a binary built with the `faults` build tag sets it (cmd/jit,
// armed by the JIT_CRASH_POINT environment variable).
const (
	// CrashApproveSaved: the final approval is saved, its activation not scheduled.
	CrashApproveSaved = "approve:saved"
	// CrashApproveScheduled: the activation is scheduled, the round's reminders not unscheduled.
	CrashApproveScheduled = "approve:scheduled"
	// CrashExtendSaved: an extension moved the end, the expiry not moved yet.
	CrashExtendSaved = "extend:saved"
	// CrashAssignIntent: an assignment's intent is recorded, the AWS call not made.
	CrashAssignIntent = "assign:intent"
	// CrashAssignCreated: AWS made the assignment, the grant not confirmed.
	CrashAssignCreated = "assign:created"
	// CrashActivateSaved: the ticket is active, its expiry not scheduled.
	CrashActivateSaved = "activate:saved"
	// CrashCredentialsMinted: AWS issued a session, the ticket does not record it yet.
	CrashCredentialsMinted = "credentials:minted"
	// CrashTerminateSaved: the ticket is terminated, nothing cut yet.
	CrashTerminateSaved = "terminate:saved"
	// CrashDenyWritten: AWS has the role's deny entry, the grant not recorded.
	CrashDenyWritten = "deny:written"
	// CrashTerminateDenied: the role's deny is in place, the revoke task not scheduled.
	CrashTerminateDenied = "terminate:denied"
	// CrashExpireSaved: the ticket is expired, nothing taken back yet.
	CrashExpireSaved = "expire:saved"
	// CrashReleaseReleased: the ticket's hold on an assignment is dropped, the assignment still in AWS.
	CrashReleaseReleased = "release:released"
	// CrashCutPortalDenied: the user's portal sessions are denied, the assignment not deleted.
	CrashCutPortalDenied = "cut:portal-denied"
	// CrashCutUnassigned: AWS deleted the assignment, the portal deny not settled.
	CrashCutUnassigned = "cut:unassigned"
	// CrashReleaseCut: the assignment is gone and its sessions cut, the grant not marked undone.
	CrashReleaseCut = "release:cut"
)

// CrashPoints lists every crash point, in lifecycle order.
var CrashPoints = []string{
	CrashApproveSaved, CrashApproveScheduled, CrashExtendSaved,
	CrashAssignIntent, CrashAssignCreated, CrashActivateSaved, CrashCredentialsMinted,
	CrashTerminateSaved, CrashDenyWritten, CrashTerminateDenied, CrashExpireSaved,
	CrashReleaseReleased, CrashCutPortalDenied, CrashCutUnassigned, CrashReleaseCut,
}

// crash marks the crash point named point (see CrashPoints).
func (s *Service) crash(point string) {
	if s.cfg.Crash != nil {
		s.cfg.Crash(point)
	}
}
