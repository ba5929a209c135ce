package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/check"
)

// runAdminCheck runs `jit admin check`: with the server's config file and
// AWS credentials (run it where the broker runs, or with its role), it
// checks every registered account and permission set (federation/check)
// and prints a table; it fails when any check fails.
func runAdminCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin check", stderr)
	path := fs.String("config", os.Getenv("JIT_CONFIG"), "the server's config file (env JIT_CONFIG)")
	output := fs.String("output", "table", "table or json")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("--output %q: want table or json", *output)
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	reg, err := checkRegistry(ctx, cfg)
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.AWS.Region))
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	rs := check.Run(ctx, checkConfig(awsCfg, cfg.AWS, reg))
	rs = append(rs, checkWorkloadIssuers(ctx, reg)...)
	if err := printChecks(stdout, *output, rs); err != nil {
		return err
	}
	if check.Failed(rs) {
		n := 0
		for _, r := range rs {
			if !r.OK {
				n++
			}
		}
		return fmt.Errorf("%d of %d checks failed", n, len(rs))
	}
	return nil
}

// checkConfig wires the check's clients as startSystem wires JIT's.
func checkConfig(awsCfg aws.Config, c AWSConfig, reg broker.RegistryData) check.Config {
	stsClient := sts.NewFromConfig(awsCfg, func(o *sts.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	iamClients := &federation.IAMClients{Config: awsCfg, STS: stsClient, ManagementRole: c.ManagementRole,
		Partition: c.Partition, Endpoint: c.Endpoint}
	trail := &federation.CloudTrailClients{Config: awsCfg, STS: stsClient, RoleName: c.ManagementRole,
		Partition: c.Partition, Endpoint: c.Endpoint}
	cc := check.Config{STS: stsClient, Partition: c.Partition, ManagementRole: c.ManagementRole,
		IAM: iamClients.For, Trail: trail.For, Registry: reg, Grants: newGrants(awsCfg, c, iamClients)}
	if c.IdentityCenter.InstanceARN != "" {
		cc.InstanceARN = c.IdentityCenter.InstanceARN
		cc.SSOAdmin = ssoadmin.NewFromConfig(awsCfg, func(o *ssoadmin.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		})
	}
	return cc
}

// checkRegistry is the registry in force: Redis's, or the config's seed
// when Redis holds none yet.
func checkRegistry(ctx context.Context, cfg *Config) (broker.RegistryData, error) {
	opt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		return broker.RegistryData{}, err
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return broker.RegistryData{}, errors.New("unsupported redis connection")
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reg, v, err := redisstore.NewRegistry(rdb, redisstore.Options{}).Registry(ctx)
	if err != nil {
		return broker.RegistryData{}, fmt.Errorf("read the registry from Redis: %w", err)
	}
	if v == 0 {
		return cfg.seed(), nil
	}
	return reg, nil
}

// printChecks writes the results as a table, failures followed by what
// is wrong and how to fix it, or as JSON.
func printChecks(w io.Writer, output string, rs []check.Result) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tCHECK\tTARGET")
	for _, r := range rs {
		res := "ok"
		if !r.OK {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", res, r.Check, r.Target)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if !r.OK {
			fmt.Fprintf(w, "\nFAIL %s, %s:\n  problem: %s\n  fix: %s\n", r.Check, r.Target, r.Problem, r.Fix)
		}
	}
	return nil
}

// checkWorkloadIssuers checks that each workload token issuer of the
// registry can be discovered and its keys fetched, as the API will.
func checkWorkloadIssuers(ctx context.Context, reg broker.RegistryData) []check.Result {
	var out []check.Result
	seen := map[string]bool{}
	for _, w := range reg.Workloads {
		if seen[w.Issuer] {
			continue
		}
		seen[w.Issuer] = true
		r := check.Result{Check: "workload token issuer", Target: w.Issuer, OK: true}
		if err := console.CheckWorkloadIssuer(ctx, w.Issuer); err != nil {
			r.OK, r.Problem = false, err.Error()
			r.Fix = "make the issuer reachable from JIT's servers (its /.well-known/openid-configuration and jwks_uri), or correct workloads[].issuer to the token's iss"
		}
		out = append(out, r)
	}
	return out
}
