package federation

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// HTTPClient returns the HTTP client for JIT's AWS clients: the SDK's own,
// except that the SDK cannot close a request's body under net/http's feet.
//
// smithy-go closes a request's body as soon as the response arrives. net/http's
// writer may not yet have made its last read of that body (the one that finds
// its end); a closed body makes it drop the connection, and the response being
// read fails with "use of closed network connection", on each retry alike
// (aws-sdk-go-v2 issue 2737). Under load this failed deny-list writes. Every
// body JIT sends is in memory, so ignoring Close loses nothing; net/http still
// closes the wrapper when it is done.
func HTTPClient() aws.HTTPClient {
	return keepBody{awshttp.NewBuildableClient()}
}

type keepBody struct{ next *awshttp.BuildableClient }

func (c keepBody) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = io.NopCloser(r.Body)
	}
	return c.next.Do(r)
}
