package redisstore

import (
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Script results.
const (
	resNotFound = -1
	resConflict = 0
	resOK       = 1
	resCapped   = 2 // the requester's pending tickets are at the cap
)

// pendingCapLua refuses a ticket entering the requester's pending index
// KEYS[pk] when that index already holds cap tickets (a ticket already in
// it does not count twice). pk and cap are set by the script around it;
// either 0 means no cap.
const pendingCapLua = `
if cap > 0 and pk > 0 and not redis.call('ZSCORE', KEYS[pk], id) and redis.call('ZCARD', KEYS[pk]) >= cap then
	return 2
end
`

// outboxMark is the Lua that marks ARGV[idArg] in the outbox KEYS[2] at
// the Redis server's time in milliseconds, in the same step as the write
// it follows (see outbox.go).
const outboxMark = `
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000), ARGV[%d])
`

// createScript stores a new ticket, adds it to its indexes and marks it in
// the outbox, unless the requester's pending tickets are at the cap
// (pendingCapLua).
//
//	KEYS[1]     the ticket key
//	KEYS[2]     the outbox
//	KEYS[3..]   the indexes to add the ticket to
//	ARGV[1]     the ticket JSON
//	ARGV[2]     the index score
//	ARGV[3]     the ticket id
//	ARGV[4]     the cap on the requester's pending tickets (0: none)
//	ARGV[5]     which KEYS is the requester's pending index (0: none)
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	return 0
end
local id, cap, pk = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
` + pendingCapLua + `
redis.call('SET', KEYS[1], ARGV[1])
for i = 3, #KEYS do
	redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
end
` + fmt.Sprintf(outboxMark, 3) + `
return 1
`)

// updateScript replaces a ticket if it is still at the expected version and
// is exactly the copy the caller read, then moves its index entries and
// marks it in the outbox.
//
//	KEYS[1]              the ticket key
//	KEYS[2]              the outbox
//	KEYS[3..2+ARGV[6]]   stale indexes to remove the ticket from
//	KEYS[3+ARGV[6]..]    indexes that should hold the ticket
//	ARGV[1]              the expected stored version
//	ARGV[2]              SHA-1 (hex) of the stored JSON the caller read
//	ARGV[3]              the new ticket JSON
//	ARGV[4]              the index score
//	ARGV[5]              the ticket id
//	ARGV[6]              how many stale indexes follow KEYS[1]
//	ARGV[7]              the cap on the requester's pending tickets (0: none)
//	ARGV[8]              which KEYS is the requester's pending index (0: none)
var updateScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
	return -1
end
local ok, old = pcall(cjson.decode, cur)
if not ok or type(old) ~= 'table' or tonumber(old['version']) ~= tonumber(ARGV[1]) then
	return 0
end
if redis.sha1hex(cur) ~= ARGV[2] then
	return 0
end
local id, cap, pk = ARGV[5], tonumber(ARGV[7]), tonumber(ARGV[8])
` + pendingCapLua + `
redis.call('SET', KEYS[1], ARGV[3])
local nstale = tonumber(ARGV[6])
for i = 3, 2 + nstale do
	redis.call('ZREM', KEYS[i], ARGV[5])
end
for i = 3 + nstale, #KEYS do
	redis.call('ZADD', KEYS[i], ARGV[4], ARGV[5])
end
` + fmt.Sprintf(outboxMark, 5) + `
return 1
`)

// deleteScript removes a ticket and its index entries if it is exactly the
// copy the caller read. A missing ticket counts as deleted.
//
//	KEYS[1]     the ticket key
//	KEYS[2..]   the indexes that hold the ticket
//	ARGV[1]     SHA-1 (hex) of the stored JSON the caller read
//	ARGV[2]     the ticket id
var deleteScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
	return 1
end
if redis.sha1hex(cur) ~= ARGV[1] then
	return 0
end
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
	redis.call('ZREM', KEYS[i], ARGV[2])
end
return 1
`)
