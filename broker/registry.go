package broker

import "context"

// StaticRegistry is a Registry held in memory, filled from configuration.
type StaticRegistry struct {
	Accounts       []Account       `yaml:"accounts"`
	PermissionSets []PermissionSet `yaml:"permission_sets"`
}

var _ Registry = (*StaticRegistry)(nil)

// Account returns the registered account with the given id.
func (r *StaticRegistry) Account(_ context.Context, id string) (Account, error) {
	for _, a := range r.Accounts {
		if a.ID == id {
			return a, nil
		}
	}
	return Account{}, Errorf(ENOTFOUND, "account %s is not registered", id)
}

// PermissionSet returns the registered permission set with the given name.
func (r *StaticRegistry) PermissionSet(_ context.Context, name string) (PermissionSet, error) {
	for _, p := range r.PermissionSets {
		if p.Name == name {
			return p, nil
		}
	}
	return PermissionSet{}, Errorf(ENOTFOUND, "permission set %s is not registered", name)
}
