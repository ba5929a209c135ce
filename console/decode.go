package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// decodeBody strictly decodes the request's JSON object body into v. An
// empty body is EINVALID when required and leaves v alone otherwise. A body
// that is sent must be labelled application/json (or +json), hold exactly one
// JSON object, name only fields v has, and give each the right type;
// anything else is EINVALID with a message naming the problem. An object
// (at any depth) that names a key twice is EINVALID too (see checkKeys).
//
// The body is the one loadBody read, as sent: compressed bodies never get
// this far (edge refuses them), so nothing here inflates.
//
// v holds copies: encoding/json allocates its strings, so nothing in v
// points into Fiber's reused buffers.
func decodeBody(c *fiber.Ctx, v any, required bool) error {
	body := c.Request().Body()
	if len(bytes.TrimSpace(body)) > 0 && !isJSON(c.Get(fiber.HeaderContentType)) {
		return broker.Errorf(broker.EINVALID, "Content-Type must be application/json")
	}
	return decodeJSON(body, v, required)
}

// decodeJSON is decodeBody without the request: body must be one JSON
// object, with no key twice in any object, naming only fields v has.
func decodeJSON(body []byte, v any, required bool) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if required {
			return broker.Errorf(broker.EINVALID, "request body is required")
		}
		return nil
	}
	if body[0] != '{' {
		return broker.Errorf(broker.EINVALID, "request body must be a JSON object")
	}
	if err := checkKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return broker.Errorf(broker.EINVALID, "request body must hold a single JSON object; found data after it")
	}
	return nil
}

// isJSON reports whether a Content-Type names JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// jsonError turns a decoding error into an EINVALID error that names the
// field at fault, without echoing the input.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return broker.Errorf(broker.EINVALID, "malformed JSON at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return broker.Errorf(broker.EINVALID, "malformed JSON: unexpected end of body")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return broker.Errorf(broker.EINVALID, "request body must be a JSON object")
		}
		return broker.Errorf(broker.EINVALID, "field %q: expected %s, got %s", clip(typ.Field), describeType(typ.Type.String()), typ.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return broker.Errorf(broker.EINVALID, "unknown field %s", clip(field))
	}
	return broker.Errorf(broker.EINVALID, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// clip shortens a name taken from the body to at most 64 bytes (whole
// runes, "..." appended), so that a refusal never grows with the input.
func clip(name string) string {
	const most = 64
	if len(name) <= most {
		return name
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "..."
}

// describeType names a Go type the way a JSON client thinks of it.
func describeType(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case goType == "[]string":
		return "an array of strings"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "an object"
}
