package devoidc

import "time"

// SetClock makes the issuer read the time from now (tests only).
func (i *Issuer) SetClock(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}
