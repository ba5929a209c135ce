package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"sort"
	"strconv"
	"strings"
	"time"
)

const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

// The S3 slice serves ListBuckets only, as a work action that proves what
// a session may do. Each account owns one demo bucket, "jit-sandbox-<id>",
// in the fixture's region.
func (s *Sandbox) s3Service() *service {
	return &service{name: "s3", proto: s3Protocol{}, s3: true, serve: s.serveS3}
}

func (s *Sandbox) serveS3(c *call) *apiError {
	c.w.Header().Set("x-amz-request-id", c.reqID)
	c.w.Header().Set("x-amz-id-2", hostID(c.reqID))
	if c.r.URL.Path == "/" && c.r.Method == "GET" {
		c.action = "ListBuckets"
		return s.listBuckets(c)
	}
	c.action = c.r.Method + " " + c.r.URL.Path
	return errorf(501, "NotImplemented", "A header you provided implies functionality that is not implemented")
}

type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   struct {
		ID          string
		DisplayName string
	}
	Buckets           []s3Bucket `xml:"Buckets>Bucket"`
	ContinuationToken string     `xml:",omitempty"`
	Prefix            string     `xml:",omitempty"`
}

type s3Bucket struct {
	Name         string
	CreationDate string
	BucketRegion string
}

func (s *Sandbox) listBuckets(c *call) *apiError {
	q := c.r.URL.Query()
	maxBuckets := 10000
	if raw := q.Get("max-buckets"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 10000 {
			return errorf(400, "InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000")
		}
		maxBuckets = n
	}
	const action = "s3:ListAllMyBuckets"
	if d := c.authorize(action, "*"); !d.allowed {
		return errorf(403, "AccessDenied", "User: %s is not authorized to perform: %s %s", c.caller.arn, action, d.reason(action))
	}
	acct := c.caller.account
	res := listAllMyBucketsResult{Xmlns: s3XMLNS, Prefix: q.Get("prefix")}
	res.Owner.ID = canonicalUserID(acct)
	res.Owner.DisplayName = s.accounts[acct].Name
	res.Buckets = []s3Bucket{}
	names := []string{"jit-sandbox-" + acct}
	sort.Strings(names)
	after := q.Get("continuation-token")
	for _, n := range names {
		if !strings.HasPrefix(n, res.Prefix) || n <= after {
			continue
		}
		if region := q.Get("bucket-region"); region != "" && region != s.region {
			continue
		}
		if len(res.Buckets) == maxBuckets {
			res.ContinuationToken = res.Buckets[len(res.Buckets)-1].Name
			break
		}
		res.Buckets = append(res.Buckets, s3Bucket{Name: n, CreationDate: s.started.Format(time.RFC3339), BucketRegion: s.region})
	}
	return c.writeXMLDoc("application/xml", res)
}

// canonicalUserID derives a stable 64-hex S3 canonical user id.
func canonicalUserID(account string) string {
	sum := sha256.Sum256([]byte("s3-canonical-user:" + account))
	return hex.EncodeToString(sum[:])
}
