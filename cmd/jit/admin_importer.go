package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/federation"
)

// newImporter returns the importer of accounts (AWS Organizations) and
// permission sets (IAM Identity Center), with the configured endpoint.
func newImporter(cfg aws.Config, c AWSConfig) *federation.Importer {
	return &federation.Importer{
		Organizations: organizations.NewFromConfig(cfg, func(o *organizations.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		}),
		SSOAdmin: ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		}),
		InstanceARN: c.IdentityCenter.InstanceARN, // empty: the only instance there is
	}
}
