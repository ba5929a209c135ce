// Package sandbox is an in-process AWS stand-in for tests and dev mode.
//
// A Sandbox is an http.Handler that speaks the real AWS wire protocols on
// one host and port, so the real aws-sdk-go-v2 clients (through
// BaseEndpoint) and the real AWS CLI (through --endpoint-url) talk to it
// unchanged:
//
//   - STS (Query, 2011-06-15): AssumeRole, GetCallerIdentity.
//   - IAM (Query, 2010-05-08): GetRole, PutRolePolicy, GetRolePolicy,
//     DeleteRolePolicy, ListRolePolicies.
//   - S3 (REST-XML): ListBuckets, as a work action that policy governs.
//   - EC2 (EC2 Query, 2016-11-15): DescribeRegions, likewise.
//   - SSO Admin (JSON 1.1, SWBExternalService): instances, permission sets,
//     their inline policies and provisioning, and asynchronous account
//     assignments (IN_PROGRESS before SUCCEEDED; ssoadmin.go).
//   - Identity Store (JSON 1.1): GetUserId, DescribeUser,
//     ListGroupMembershipsForMember (identitystore.go).
//   - Organizations (JSON 1.1): ListAccounts, DescribeAccount.
//   - The access portal's GetRoleCredentials (GET /federation/credentials,
//     bearer token from Sandbox.PortalToken; portal.go).
//
// The service is picked from the SigV4 credential scope, and every call is
// authenticated: the sandbox recomputes the SigV4 signature with the secret
// it knows (a fixture user's key or a session it minted) and answers with
// each protocol's own error codes and bodies (MissingAuthenticationToken,
// InvalidClientTokenId, SignatureDoesNotMatch, ExpiredToken, ...).
//
// Sessions minted by AssumeRole live in memory. Every call made with one,
// except sts:GetCallerIdentity which AWS never denies, is evaluated against
// the role's current inline policies and the session policy (policy.go), so
// a Deny written with PutRolePolicy cuts sessions already handed out, with
// no propagation delay.
//
// The world (partition, region, accounts, roles, users) comes from a
// Fixture, loaded from YAML with LoadFixture or built with DemoFixture.
// Where AWS behaviour is unconfirmed, the sandbox takes the stricter reading
// and says so in a comment.
package sandbox
