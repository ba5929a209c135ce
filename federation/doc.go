// Package federation is everything JIT does in AWS, on aws-sdk-go-v2 behind
// small interfaces of its own: minting AssumeRole sessions capped at a
// ticket's end, and cutting sessions already handed out with deny entries on
// the role.
package federation
