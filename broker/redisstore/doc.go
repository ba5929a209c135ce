// Package redisstore keeps JIT's tickets in Redis through go-redis. It
// implements broker.TicketStore. The registry is kept apart, as one
// versioned document under the hash tag {registry} (see Registry, which
// implements broker.Registry and broker.RegistryStore).
//
// # Key layout
//
// Every key starts with Options.Prefix (default "jit") and carries the one
// hash tag {tickets}:
//
//	<prefix>:{tickets}:t:<id>                    string: the ticket as JSON, with its version
//	<prefix>:{tickets}:idx:all                   sorted set: every ticket id
//	<prefix>:{tickets}:idx:state:<state>         sorted set: ids of tickets in that state
//	<prefix>:{tickets}:idx:requester:<email>     sorted set: ids of tickets filed by email
//	<prefix>:{tickets}:idx:beneficiary:<email>   sorted set: ids of tickets email benefits from
//
// Index members are ticket ids scored by the ticket's CreatedAt in unix
// microseconds (exact in a float64 until the year 2255), so reading an index
// in reverse yields the newest tickets first. Who may decide a ticket is not
// indexed: it follows the rules in force, which a stored index would not
// (earlier versions kept idx:approver:<email> by the stored plan; a ticket's
// change or deletion clears its entries there).
//
// # Atomicity
//
// Every write is one Lua script (EVALSHA, falling back to EVAL) that checks,
// writes the ticket and updates all of its index entries in one step. An
// update is a compare-and-set: the script applies it only when the stored
// ticket is still at the caller's version and is byte for byte the copy from
// which the stale index keys were computed (its SHA-1 is compared), so index
// entries can never go stale, even if a ticket is deleted and re-created
// between the read and the write.
//
// # Redis Cluster
//
// Lua scripts and MGET must touch keys of one slot on Redis Cluster, so the
// whole ticket keyspace shares one hash tag and therefore lives in one slot,
// on one primary. That is the trade-off: no sharding of tickets across the
// cluster. At JIT's scale (thousands of tickets, a few writes a second) one
// slot is ample; if it ever is not, split the tag (for example per month of
// CreatedAt) and query the indexes of each slot. The prefix must therefore
// not contain '{' or '}', or it would change the hash tag.
package redisstore
