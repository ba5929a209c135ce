package federation

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Call is one AWS API call as JIT made it: no parameters, no credentials.
type Call struct {
	// Operation is "<service>:<Operation>", as "STS:AssumeRole".
	Operation string
	// RequestID is AWS's id of the (last) request; may be empty.
	RequestID string
	// Code is the AWS error code of a failed call ("" on success, or
	// "transport" for a call that got no AWS answer).
	Code     string
	Duration time.Duration
}

// CallRecorder is told about every AWS call made with a config that
// RecordCalls prepared. It must not block.
type CallRecorder interface {
	AWSCall(ctx context.Context, c Call)
}

// RecordCalls makes every client built from cfg (and from copies of it)
// report each call to r, after its retries.
func RecordCalls(cfg *aws.Config, r CallRecorder) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("jitRecordCall",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				c := Call{Operation: awsmiddleware.GetServiceID(ctx) + ":" + awsmiddleware.GetOperationName(ctx), Duration: time.Since(start)}
				c.RequestID, _ = awsmiddleware.GetRequestIDMetadata(md)
				if err != nil {
					c.Code = "transport"
					var api smithy.APIError
					if errors.As(err, &api) {
						c.Code = api.ErrorCode()
					}
					var re interface{ ServiceRequestID() string }
					if c.RequestID == "" && errors.As(err, &re) {
						c.RequestID = re.ServiceRequestID()
					}
				}
				r.AWSCall(ctx, c)
				return out, md, err
			}), middleware.Before)
	})
}
