package approvals

import (
	"strings"

	"github.com/jitaccess/jit/broker"
)

// normalize is broker's one normalisation of principals: emails lowered
// (ASCII only), group names exactly as written.
func normalize(a string) string { return broker.NormalizePrincipal(a) }

func isGroup(a string) bool { return strings.HasPrefix(a, broker.GroupPrefix) }
