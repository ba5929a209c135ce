package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/jitaccess/jit/broker"
)

// Config holds what the channel needs.
type Config struct {
	// Token is the bot token (xoxb-...); SigningSecret verifies callbacks.
	Token         string
	SigningSecret string
	// APIURL overrides Slack's Web API address (tests).
	APIURL string
	// PermissionSets maps a permission set to its channel, Channels an
	// account id to its channel (the permission set's wins); Default is
	// for the rest ("": tickets without a channel are not posted).
	PermissionSets map[string]string
	Channels       map[string]string
	Default        string
	BaseURL        string
	// Decider makes the decisions (broker.Service).
	Decider Decider
	// Replay remembers callbacks already taken.
	Replay ReplayGuard
	Logger *slog.Logger
}

// Decider approves and rejects as the user in the context.
type Decider interface {
	// ApproveRevision: EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	ApproveRevision(ctx context.Context, id string, revision int, comment string) (*broker.Ticket, error)
	// RejectRevision: as ApproveRevision, plus EINVALID.
	RejectRevision(ctx context.Context, id string, revision int, comment string) (*broker.Ticket, error)
}

// ReplayGuard tells a callback seen for the first time from a replay.
type ReplayGuard interface {
	// First records key for ttl and reports whether it was new.
	First(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Slack posts to Slack and takes its callbacks.
type Slack struct {
	cfg Config
	api *slack.Client
}

// New checks cfg and returns the channel.
func New(cfg Config) (*Slack, error) {
	if cfg.Token == "" || cfg.SigningSecret == "" {
		return nil, errors.New("slack: token and signing_secret are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var opts []slack.Option
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(strings.TrimRight(cfg.APIURL, "/")+"/"))
	}
	return &Slack{cfg: cfg, api: slack.New(cfg.Token, opts...)}, nil
}

// channel returns the channel of t's account, or "".
func (s *Slack) channel(t *broker.Ticket) string {
	if c, ok := s.cfg.PermissionSets[t.PermissionSet]; ok {
		return c
	}
	if c, ok := s.cfg.Channels[t.AccountID]; ok {
		return c
	}
	return s.cfg.Default
}

// Tell posts headline about t to the account's channel; with buttons, an
// Approve and a Reject button for t's current revision.
func (s *Slack) Tell(ctx context.Context, t *broker.Ticket, headline string, buttons bool) error {
	ch := s.channel(t)
	if ch == "" {
		return nil
	}
	_, _, err := s.api.PostMessageContext(ctx, ch, slack.MsgOptionText(headline, false), slack.MsgOptionBlocks(s.blocks(t, headline, buttons)...))
	if err != nil {
		return fmt.Errorf("slack post: %w", err)
	}
	return nil
}

func (s *Slack) blocks(t *broker.Ticket, headline string, buttons bool) []slack.Block {
	link := strings.TrimRight(s.cfg.BaseURL, "/") + "/#/tickets/" + t.ID
	text := fmt.Sprintf("*%s*\n<%s|Ticket %s>: %s in %s for %s, %s to %s\nReason: %s", escape(headline), link, t.ID,
		escape(t.PermissionSet), t.AccountID, escape(strings.Join(t.Beneficiaries, ", ")),
		t.Start.UTC().Format("2006-01-02 15:04"), t.End.UTC().Format("2006-01-02 15:04 MST"), escape(t.Reason))
	out := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)}
	if buttons {
		value := t.ID + ":" + strconv.Itoa(t.Revision)
		approve := slack.NewButtonBlockElement("approve", value, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))
		approve.Style = slack.StylePrimary
		reject := slack.NewButtonBlockElement("reject", value, slack.NewTextBlockObject(slack.PlainTextType, "Reject", false, false))
		reject.Style = slack.StyleDanger
		out = append(out, slack.NewActionBlock("decide", approve, reject))
	}
	return out
}

// escape keeps Slack's mrkdwn control characters literal.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// SetDecider sets Config.Decider (the service, made after the channel).
func (s *Slack) SetDecider(d Decider) { s.cfg.Decider = d }
