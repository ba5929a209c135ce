package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// jsonHandler serves one operation of an awsJson1.1 service. in is the
// request body; it returns the response value (marshalled as JSON) or an error.
type jsonHandler func(c *call) (any, *apiError)

// dispatchJSON picks the handler for the X-Amz-Target header, which must
// be "<targetPrefix>.<Operation>", checks the content type, and writes the
// JSON answer.
func (c *call) dispatchJSON(targetPrefix string, ops map[string]jsonHandler) *apiError {
	target := c.r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix+".")
	c.action = op
	h, known := ops[op]
	if !ok || !known {
		return errorf(400, "UnknownOperationException", "")
	}
	if ct := c.r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-amz-json-1.1") && !strings.HasPrefix(ct, "application/json") {
		return errorf(400, "SerializationException", "Unsupported content type: %s", ct)
	}
	out, apiErr := h(c)
	if apiErr != nil {
		return apiErr
	}
	body, err := json.Marshal(out)
	if err != nil {
		return errorf(500, "InternalServerException", "encode response: %v", err)
	}
	c.w.Header().Set("x-amzn-RequestId", c.reqID)
	c.w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(body)
	return nil
}

// decodeJSON strictly decodes the request body into v: malformed JSON or a
// member the model does not have is a SerializationException, as AWS's
// JSON services answer. An empty body decodes as {}.
func (c *call) decodeJSON(v any) *apiError {
	body := bytes.TrimSpace(c.body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(400, "SerializationException", "%s", err.Error())
	}
	return nil
}

// unsignedRoute serves a request that AWS does not sign with SigV4 (the
// access portal's bearer-token calls, the console federation endpoint).
type unsignedRoute func(s *Sandbox, w http.ResponseWriter, r *http.Request)

// unsignedRoutes maps URL paths to their handlers; files for those
// endpoints register themselves in init.
var unsignedRoutes = map[string]unsignedRoute{}
