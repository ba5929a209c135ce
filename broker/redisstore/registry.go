package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// Registry keeps the whole registry as one JSON document with a version, in
// two keys that share the hash tag {registry}:
//
//	<prefix>:{registry}:doc       string: the registry as JSON
//	<prefix>:{registry}:version   string: an integer, 1 for the first document, +1 per change
//
// A replace is one Lua script that checks the version and writes both keys,
// so it is all or nothing and two writers at the same version never both
// win. Lookups (Account, PermissionSet) read the version on every call and
// reload the document only when it changed, so every replica sees a change
// on its next lookup.
//
// Registry implements broker.Registry and broker.RegistryStore, and is safe
// for concurrent use.
type Registry struct {
	rdb    redis.UniversalClient
	docKey string
	verKey string
	mu     sync.Mutex
	cached *snapshot
}

// snapshot is one parsed version of the document, indexed for lookups. It
// is never modified once built.
type snapshot struct {
	version int64
	data    broker.RegistryData
	byID    map[string]broker.Account
	byName  map[string]broker.PermissionSet
}

var (
	_ broker.Registry      = (*Registry)(nil)
	_ broker.RegistryStore = (*Registry)(nil)
)

// NewRegistry returns a Registry in rdb. It panics if opts.Prefix contains
// '{' or '}'.
func NewRegistry(rdb redis.UniversalClient, opts Options) *Registry {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		panic("redisstore: Prefix must not contain '{' or '}'")
	}
	base := opts.Prefix + ":{registry}:"
	return &Registry{rdb: rdb, docKey: base + "doc", verKey: base + "version"}
}

// replaceScript stores a new document if the version is still the
// expected one, and returns the new version, or 0 on a conflict.
//
//	KEYS[1]  the document key
//	KEYS[2]  the version key
//	ARGV[1]  the expected version (0: none stored)
//	ARGV[2]  the new document
var replaceScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if cur ~= tonumber(ARGV[1]) then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return redis.call('INCR', KEYS[2])
`)

// Registry returns a copy of the stored registry and its version (0 and an
// empty registry when none is stored).
func (r *Registry) Registry(ctx context.Context) (broker.RegistryData, int64, error) {
	s, err := r.current(ctx)
	if err != nil {
		return broker.RegistryData{}, 0, err
	}
	return s.data.Clone(), s.version, nil
}

// Version returns the stored version, 0 when none is stored.
func (r *Registry) Version(ctx context.Context) (int64, error) {
	v, err := r.rdb.Get(ctx, r.verKey).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("get registry version: %w", err)
	}
	return v, nil
}

// ReplaceRegistry stores data if the stored version is still version and
// returns the new version. ECONFLICT if another writer got there first.
func (r *Registry) ReplaceRegistry(ctx context.Context, data broker.RegistryData, version int64) (int64, error) {
	doc, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("encode registry: %w", err)
	}
	nv, err := replaceScript.Run(ctx, r.rdb, []string{r.docKey, r.verKey}, version, doc).Int64()
	if err != nil {
		return 0, fmt.Errorf("replace registry: %w", err)
	}
	if nv == 0 {
		return 0, broker.Errorf(broker.ECONFLICT, "the registry is no longer at version %d", version)
	}
	return nv, nil
}

// Seed stores data as the first registry if none is stored yet, and
// reports whether it did.
func (r *Registry) Seed(ctx context.Context, data broker.RegistryData) (bool, error) {
	_, err := r.ReplaceRegistry(ctx, data, 0)
	if broker.ErrorCode(err) == broker.ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

// Account returns a registered account. ENOTFOUND otherwise.
func (r *Registry) Account(ctx context.Context, id string) (broker.Account, error) {
	s, err := r.current(ctx)
	if err != nil {
		return broker.Account{}, err
	}
	if a, ok := s.byID[id]; ok {
		return a, nil
	}
	return broker.Account{}, broker.Errorf(broker.ENOTFOUND, "account %s is not registered", id)
}

// PermissionSet returns a registered permission set. ENOTFOUND otherwise.
func (r *Registry) PermissionSet(ctx context.Context, name string) (broker.PermissionSet, error) {
	s, err := r.current(ctx)
	if err != nil {
		return broker.PermissionSet{}, err
	}
	if p, ok := s.byName[name]; ok {
		p.Scope.Accounts = append([]string(nil), p.Scope.Accounts...)
		p.Scope.RequesterGroups = append([]string(nil), p.Scope.RequesterGroups...)
		return p, nil
	}
	return broker.PermissionSet{}, broker.Errorf(broker.ENOTFOUND, "permission set %s is not registered", name)
}

// current returns the snapshot of the stored version, reloading the
// document only when the version moved.
func (r *Registry) current(ctx context.Context) (*snapshot, error) {
	v, err := r.Version(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	s := r.cached
	r.mu.Unlock()
	if s != nil && s.version == v {
		return s, nil
	}
	if v == 0 {
		return &snapshot{byID: map[string]broker.Account{}, byName: map[string]broker.PermissionSet{}}, nil
	}
	// Read both keys in one command, so the pair is consistent.
	vals, err := r.rdb.MGet(ctx, r.verKey, r.docKey).Result()
	if err != nil {
		return nil, fmt.Errorf("get registry: %w", err)
	}
	vs, ok1 := vals[0].(string)
	doc, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return nil, errors.New("registry version without its document")
	}
	if v, err = strconv.ParseInt(vs, 10, 64); err != nil {
		return nil, fmt.Errorf("registry version %q: %w", vs, err)
	}
	s = &snapshot{version: v, byID: map[string]broker.Account{}, byName: map[string]broker.PermissionSet{}}
	if err := json.Unmarshal([]byte(doc), &s.data); err != nil {
		return nil, fmt.Errorf("decode registry version %d: %w", v, err)
	}
	for _, a := range s.data.Accounts {
		s.byID[a.ID] = a
	}
	for _, p := range s.data.PermissionSets {
		s.byName[p.Name] = p
	}
	r.mu.Lock()
	if r.cached == nil || r.cached.version < v {
		r.cached = s
	}
	r.mu.Unlock()
	return s, nil
}
