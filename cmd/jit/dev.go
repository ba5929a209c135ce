package main

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/broker/notify"
	"github.com/jitaccess/jit/console/devoidc"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

//go:embed dev.yaml
var devConfig []byte

// devUsers are the demo users of `jit dev`.
var devUsers = []devoidc.User{
	{Email: "alice@example.com", Name: "Alice (requester)", Groups: []string{"engineers"}},
	{Email: "bob@example.com", Name: "Bob (approver)", Groups: []string{"approvers"}},
	{Email: "carol@example.com", Name: "Carol (admin)", Groups: []string{"admins"}},
	{Email: "dave@example.com", Name: "Dave (requester)", Groups: []string{"engineers"}},
}

const devAudience = "jit-dev"

// runDev runs the whole system on this machine: an embedded Redis (unless
// --redis-url), the AWS sandbox, a development OIDC issuer and the demo
// organization. It listens on loopback only.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "API address (loopback only)")
	sandboxAddr := fs.String("sandbox-addr", "127.0.0.1:4566", "AWS sandbox address (loopback only)")
	oidcAddr := fs.String("oidc-addr", "127.0.0.1:0", "development OIDC issuer address (loopback only)")
	redisURL := fs.String("redis-url", "", "use this Redis instead of the embedded one")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	for _, a := range []string{*addr, *sandboxAddr, *oidcAddr} {
		if err := loopbackOnly(a); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(devConfig))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("dev config: %w", err)
	}

	if *redisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		defer mr.Close()
		*redisURL = "redis://" + mr.Addr()
	}

	sb, err := sandbox.New(sandbox.DemoFixture(), sandbox.Options{Logger: logger, Admin: true})
	if err != nil {
		return err
	}
	sbL, err := net.Listen("tcp", *sandboxAddr)
	if err != nil {
		return fmt.Errorf("sandbox: listen %s: %w", *sandboxAddr, err)
	}
	sandboxURL := "http://" + sbL.Addr().String()
	go http.Serve(sbL, sb)
	defer sbL.Close()

	oidcL, err := net.Listen("tcp", *oidcAddr)
	if err != nil {
		return fmt.Errorf("oidc issuer: listen %s: %w", *oidcAddr, err)
	}
	defer oidcL.Close()
	idp, err := devoidc.New("http://"+oidcL.Addr().String(), devAudience, devUsers)
	if err != nil {
		return err
	}
	go http.Serve(oidcL, idp.Handler())

	apiL, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	baseURL := "http://" + apiL.Addr().String()
	idp.AllowRedirectURI(baseURL + "/callback")       // the approver page signs in here
	idp.AllowRedirectURI("http://127.0.0.1/callback") // jit login, on any port
	cfg.Listen, cfg.BaseURL = apiL.Addr().String(), baseURL
	cfg.Redis.URL = *redisURL
	cfg.OIDC = OIDCConfig{Issuer: idp.IssuerURL(), ClientIDs: []string{devAudience}}
	ic := sandbox.DemoFixture().IdentityCenter
	cfg.AWS = AWSConfig{Region: "us-east-1", Endpoint: sandboxURL, ManagementRole: sandbox.DemoManagementRole,
		IdentityCenter: IdentityCenterConfig{InstanceARN: ic.InstanceARN, IdentityStoreID: ic.IdentityStoreID}}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("dev config: %w", err)
	}
	redisOpt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.AWS.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")))
	if err != nil {
		return err
	}
	awsCfg.HTTPClient = federation.KeepBody(awsCfg.HTTPClient)
	verifier, err := oidcVerifier(ctx, cfg.OIDC)
	if err != nil {
		return err
	}
	// Mail stays on this machine: shown at /dev/mail and logged at info.
	mail := &notify.Catcher{Next: notify.LogSender{Logger: slog.New(slog.NewTextHandler(stderr, nil)), BaseURL: baseURL}}
	cfg.Audit.Key = devAuditKey()
	sys, err := startSystem(ctx, deps{
		cfg: cfg, redisOpt: redisOpt, aws: awsCfg, verifier: verifier, logger: logger, worker: true, mail: mail,
		extra: func(app *fiber.App) {
			app.Post("/dev/token", adaptor.HTTPHandler(idp.TokenHandler()))
			app.Get("/dev/mail", adaptor.HTTPHandler(mail))
		},
	})
	if err != nil {
		return err
	}
	defer sys.close()
	printDevBanner(stdout, baseURL, sandboxURL, idp.IssuerURL())
	return sys.serveAPI(ctx, apiL)
}

// loopbackOnly refuses addresses other machines could reach.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("jit dev listens on loopback only; %q is not a loopback address", addr)
	}
	return nil
}

func printDevBanner(w io.Writer, baseURL, sandboxURL, issuer string) {
	aws := "/usr/bin/aws"
	fmt.Fprintf(w, `
==========================================================================
  JIT DEVELOPMENT MODE: NOT FOR PRODUCTION.
  Embedded Redis, an in-process AWS sandbox, and an OIDC issuer that
  hands out tokens to anyone on this machine.
==========================================================================

  Approver page:  %[1]s   (sign in as bob@example.com to approve and terminate)
  JIT API:        %[1]s/api/v1   (health: %[1]s/healthz, metrics: %[1]s/metrics)
  Mail sent:      %[1]s/dev/mail   (what approvers and requesters would receive)
  AWS sandbox:    %[2]s
  OIDC issuer:    %[3]s

  Demo users:     alice@example.com  requester
                  bob@example.com    approver (approves everything)
                  carol@example.com  admin
                  dave@example.com   requester
  Demo accounts:  111111111111 dev, 222222222222 staging, 333333333333 prod
  Permission sets: ReadOnlyAccess, PowerUserAccess, AdministratorAccess

  Walkthrough (paste into another shell in the repository):

    export AWS_CONFIG_FILE=$(mktemp) AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_REGION=us-east-1
    ./bin/jit login --url %[1]s --no-browser    # open the link, sign in as alice
    ./bin/jit whoami
    source <(./bin/jit completion bash)     # Tab completes tickets, accounts, permission sets
    ID=$(./bin/jit request --account dev --permission-set ReadOnlyAccess \
          --duration 1h --reason "demo" --wait --output json | sed -n 's/^  "id": "\(.*\)",$/\1/p')
    # it waits for the decision: open %[1]s, sign in as bob@example.com, approve the ticket
    # (or in another shell: JIT_TOKEN=$(./bin/jit dev token --user bob) ./bin/jit approve ID;
    #  ./bin/jit tickets watch follows every change; ./bin/jit request alone asks what it needs)
    ./bin/jit configure --ticket $ID --profile jit
    %[4]s --profile jit --endpoint-url %[2]s sts get-caller-identity
    ./bin/jit exec --ticket $ID -- %[4]s --endpoint-url %[2]s s3api list-buckets
    # terminate on the approver page as bob (or: JIT_TOKEN=... ./bin/jit terminate $ID)
    %[4]s --profile jit --endpoint-url %[2]s s3api list-buckets    # AccessDenied: the open session is cut
    ./bin/jit credentials --ticket $ID --no-cache                    # refused: terminated

  Scripts can skip the browser: export JIT_TOKEN=$(./bin/jit dev token --user alice)

  Stop with Ctrl-C. Nothing is kept between runs.

`, baseURL, sandboxURL, issuer, aws)
}

// runDevToken asks a running `jit dev` for a demo user's token.
func runDevToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev token", stderr)
	user := fs.String("user", "", "demo user: alice, bob, carol, dave (or an email)")
	url := fs.String("url", serverURLDefault(), "URL of the running jit dev (env JIT_URL; default: the server of `jit login`)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *user == "" {
		return errors.New("--user is required (alice, bob, carol or dave)")
	}
	body, _ := json.Marshal(map[string]string{"user": *user})
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(*url, "/")+"/dev/token", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach jit dev at %s (is `make dev` running?): %w", *url, err)
	}
	defer resp.Body.Close()
	var out struct{ Token, Code, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("%s/dev/token answered %s: is this a `jit dev` server?", *url, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s (%s)", out.Message, out.Code)
	}
	_, err = fmt.Fprintln(stdout, out.Token)
	return err
}

// devAuditKey is a fresh audit key for one `jit dev` run.
func devAuditKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
