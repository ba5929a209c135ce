package sandbox

import (
	"encoding/xml"
	"fmt"
	"strings"
)

const (
	ec2Version = "2016-11-15"
	ec2XMLNS   = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// ec2Regions are the regions DescribeRegions lists, by partition.
var ec2Regions = map[string][]string{
	"aws": {"ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
		"eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
	"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
}

// The EC2 slice serves DescribeRegions only, as a work action.
func (s *Sandbox) ec2Service() *service {
	actions := map[string]queryHandler{"DescribeRegions": s.describeRegions}
	return &service{
		name:  "ec2",
		proto: ec2Protocol{},
		serve: func(c *call) *apiError { return c.dispatchQuery(ec2Version, actions) },
	}
}

type describeRegionsResponse struct {
	XMLName    xml.Name    `xml:"DescribeRegionsResponse"`
	Xmlns      string      `xml:"xmlns,attr"`
	RequestID  string      `xml:"requestId"`
	RegionInfo []ec2Region `xml:"regionInfo>item"`
}

type ec2Region struct {
	RegionName     string `xml:"regionName"`
	RegionEndpoint string `xml:"regionEndpoint"`
	OptInStatus    string `xml:"optInStatus"`
}

func (s *Sandbox) describeRegions(c *call) *apiError {
	const action = "ec2:DescribeRegions"
	if d := c.authorize(action, "*"); !d.allowed {
		return errorf(403, "UnauthorizedOperation", "You are not authorized to perform this operation. User: %s is not authorized to perform: %s %s",
			c.caller.arn, action, d.reason(action))
	}
	known := map[string]bool{}
	for _, r := range ec2Regions[s.partition] {
		known[r] = true
	}
	// The EC2 Query protocol flattens lists as RegionName.N.
	filter := map[string]bool{}
	for k, v := range c.form {
		if !strings.HasPrefix(k, "RegionName.") || len(v) == 0 {
			continue
		}
		if !known[v[0]] {
			return errorf(400, "InvalidParameterValue", "Invalid region: %s", v[0])
		}
		filter[v[0]] = true
	}
	res := describeRegionsResponse{Xmlns: ec2XMLNS, RequestID: c.reqID, RegionInfo: []ec2Region{}}
	suffix := "amazonaws.com"
	if s.partition == "aws-cn" {
		suffix = "amazonaws.com.cn"
	}
	for _, r := range ec2Regions[s.partition] {
		if len(filter) > 0 && !filter[r] {
			continue
		}
		res.RegionInfo = append(res.RegionInfo, ec2Region{RegionName: r, RegionEndpoint: fmt.Sprintf("ec2.%s.%s", r, suffix), OptInStatus: "opt-in-not-required"})
	}
	c.w.Header().Set("x-amzn-RequestId", c.reqID)
	return c.writeXMLDoc("text/xml;charset=UTF-8", res)
}
