package devoidc

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"time"
)

// DefaultTokenTTL is how long tokens from TokenHandler stay valid.
const DefaultTokenTTL = 12 * time.Hour

// maxTokenRequest bounds the body TokenHandler reads.
const maxTokenRequest = 4 << 10

// TokenHandler serves POST {"user": "alice"} with {"token": "<ID token>"}
// for the named user (an email, or a bare name that is the local part of
// exactly one user's email), valid for DefaultTokenTTL. Unknown users get
// 404, bad requests 400; errors are {"code", "message"} like the console's.
//
// It is for development only: it hands out tokens to anyone who asks.
func (i *Issuer) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "invalid", "use POST")
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusBadRequest, "invalid", "Content-Type must be application/json")
			return
		}
		var req struct {
			User string `json:"user"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, maxTokenRequest))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "body must be {\"user\": \"<email or name>\"}")
			return
		}
		u, ok := i.Lookup(req.User)
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", "no such user: "+req.User)
			return
		}
		tok, err := i.Token(u.Email, DefaultTokenTTL)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": tok})
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}
