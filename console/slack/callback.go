package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/jitaccess/jit/broker"
)

// maxCallback is the largest callback body taken.
const maxCallback = 64 << 10

// replayTTL outlives Slack's 5-minute timestamp window.
const replayTTL = 10 * time.Minute

// ServeHTTP takes a button callback (POST, form field "payload"): it
// refuses a bad signature, a timestamp more than five minutes off, and a
// callback already taken (401, nothing changed); maps the Slack user to
// a JIT user by their confirmed email; and approves or rejects as that
// user. A refused decision is answered to the clicker alone; a decision
// taken updates the message in place.
func (s *Slack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallback))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	sv, err := slack.NewSecretsVerifier(r.Header, s.cfg.SigningSecret)
	if err == nil {
		sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "slack callback refused", "reason", err.Error())
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	// The replay key is the signature in one spelling: Slack's verifier
	// takes its hex digits in either case, so the header as sent would let
	// a replay through with the case of a digit changed.
	sum := sha256.Sum256([]byte(r.Header.Get("X-Slack-Request-Timestamp") + ":" + strings.ToLower(r.Header.Get("X-Slack-Signature"))))
	first, err := s.cfg.Replay.First(r.Context(), "slack:"+hex.EncodeToString(sum[:]), replayTTL)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	} else if !first {
		s.cfg.Logger.WarnContext(r.Context(), "slack callback refused", "reason", "replay")
		http.Error(w, "replayed request", http.StatusUnauthorized)
		return
	}
	form, err := parseForm(body)
	if err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(form), &ic); err != nil || ic.Type != slack.InteractionTypeBlockActions || len(ic.ActionCallback.BlockActions) != 1 {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	act := ic.ActionCallback.BlockActions[0]
	id, rev, ok := parseValue(act.Value)
	if !ok || (act.ActionID != "approve" && act.ActionID != "reject") {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	u, err := s.api.GetUserInfoContext(r.Context(), ic.User.ID)
	if err != nil || !u.IsEmailConfirmed || u.Profile.Email == "" || u.IsBot || u.Deleted {
		s.ephemeral(w, "JIT could not match your Slack account to a confirmed email address; decide on the web page.")
		return
	}
	ctx := broker.WithUser(r.Context(), broker.User{Email: strings.ToLower(u.Profile.Email)})
	var t *broker.Ticket
	if act.ActionID == "approve" {
		t, err = s.cfg.Decider.ApproveRevision(ctx, id, rev, "approved in Slack")
	} else {
		t, err = s.cfg.Decider.RejectRevision(ctx, id, rev, "rejected in Slack")
	}
	if err != nil {
		s.ephemeral(w, "Not done: "+broker.ErrorMessage(err))
		return
	}
	outcome := "Approved by " + u.Profile.Email
	if act.ActionID == "reject" {
		outcome = "Rejected by " + u.Profile.Email
	}
	if _, _, _, err := s.api.UpdateMessageContext(r.Context(), ic.Channel.ID, ic.Message.Timestamp,
		slack.MsgOptionText(outcome, false), slack.MsgOptionBlocks(s.blocks(t, outcome+" ("+string(t.State)+")", false)...)); err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "slack message not updated", "ticket", id, "err", err)
	}
	w.WriteHeader(http.StatusOK)
}

// ephemeral answers the clicker alone.
func (s *Slack) ephemeral(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": text})
}

// parseValue reads "ticket:revision".
func parseValue(v string) (string, int, bool) {
	id, r, ok := strings.Cut(v, ":")
	rev, err := strconv.Atoi(r)
	return id, rev, ok && id != "" && err == nil && rev >= 0
}

// parseForm returns the form's payload field.
func parseForm(body []byte) (string, error) {
	r, err := http.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	return r.PostForm.Get("payload"), nil
}
