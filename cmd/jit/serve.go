package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/federation"
)

// runServe runs the API and, unless --no-worker, the task worker.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	path := fs.String("config", os.Getenv("JIT_CONFIG"), "config file (env JIT_CONFIG)")
	noWorker := fs.Bool("no-worker", false, "serve only the API; run `jit worker` elsewhere")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	return serve(ctx, *path, !*noWorker, true, stderr)
}

// runWorker runs only the task worker.
func runWorker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("worker", stderr)
	path := fs.String("config", os.Getenv("JIT_CONFIG"), "config file (env JIT_CONFIG)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	return serve(ctx, *path, true, false, stderr)
}

func serve(ctx context.Context, path string, worker, api bool, stderr io.Writer) error {
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	logger := cfg.Log.newLogger(stderr)
	if cfg.Audit.Key == "" {
		logger.Warn("audit.key is not set: the audit chain finds accidents, not someone who can write to Redis; set audit.key (or JIT_AUDIT_KEY)")
	}
	redisOpt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.AWS.Region))
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	awsCfg.HTTPClient = federation.KeepBody(awsCfg.HTTPClient)
	d := deps{cfg: cfg, redisOpt: redisOpt, aws: awsCfg, logger: logger, worker: worker}
	if api {
		if d.verifier, err = oidcVerifier(ctx, cfg.OIDC); err != nil {
			return err
		}
	}
	sys, err := startSystem(ctx, d)
	if err != nil {
		return err
	}
	defer sys.close()
	if cfg.Metrics.Listen != "" {
		ml, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			return fmt.Errorf("metrics.listen %s: %w", cfg.Metrics.Listen, err)
		}
		logger.Info("jit metrics", "addr", ml.Addr().String())
		go func() {
			if err := sys.obs.serveMetrics(ctx, ml); err != nil {
				logger.Error("metrics server", "err", err)
			}
		}()
	}
	if !api {
		logger.Info("jit worker running")
		<-ctx.Done()
		return nil
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	logger.Info("jit serving", "addr", l.Addr().String(), "base_url", cfg.BaseURL, "worker", worker)
	return sys.serveAPI(ctx, l)
}

// oidcVerifier accepts tokens of the issuer for any of the client ids.
func oidcVerifier(ctx context.Context, c OIDCConfig) (console.TokenVerifier, error) {
	v, err := console.NewOIDCVerifier(ctx, c.Issuer, c.ClientIDs, c.GroupsClaim)
	if err != nil {
		return nil, fmt.Errorf("oidc issuer %s: %w", c.Issuer, err)
	}
	return v, nil
}
