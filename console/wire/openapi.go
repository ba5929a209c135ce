package wire

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jitaccess/jit/broker"
)

// OpenAPI returns the OpenAPI 3.1 document of Routes, generated from the
// Go types of their bodies: each struct a schema under
// components/schemas, its properties its JSON fields (embedded structs
// flattened, as encoding/json does), required those always written (no
// omitempty or omitzero), nullable the slices, maps and pointers written
// as null when empty. version is the server's version, shown in info.
func OpenAPI(version string) map[string]any {
	g := &generator{schemas: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
	paths := map[string]any{}
	for _, r := range Routes {
		item, _ := paths[r.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[r.Path] = item
		}
		item[strings.ToLower(r.Method)] = g.operation(r)
	}
	errSchema := g.schema(reflect.TypeFor[Error]())
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "JIT API",
			"version":     version,
			"description": "Just-in-time access to AWS accounts. JSON over HTTP, snake_case fields, times in RFC 3339 UTC, errors as {\"code\", \"message\"} with a matching HTTP status.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An OIDC ID token of the server's issuer (jit login)"},
			},
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "An error: code and message",
					"content":     map[string]any{"application/json": map[string]any{"schema": errSchema}},
				},
			},
		},
	}
}

var pathParam = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{([a-z_]+)\}`) })

// operation is the OpenAPI operation of r.
func (g *generator) operation(r Route) map[string]any {
	op := map[string]any{
		"summary":     r.Summary,
		"operationId": operationID(r),
		"responses":   map[string]any{"default": map[string]any{"$ref": "#/components/responses/Error"}},
	}
	var params []any
	for _, m := range pathParam().FindAllStringSubmatch(r.Path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range r.Query {
		typ := q.Type
		if typ == "" {
			typ = "string"
		}
		params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": typ}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if r.Request != nil {
		op["requestBody"] = map[string]any{
			"required": !r.RequestOptional,
			"content":  map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.Request))}},
		}
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	resp := map[string]any{"description": http.StatusText(status)}
	if r.Response != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		resp["content"] = map[string]any{ct: map[string]any{"schema": g.schema(reflect.TypeOf(r.Response))}}
	}
	responses := op["responses"].(map[string]any)
	responses[strconv.Itoa(status)] = resp
	if r.Redirect {
		responses["302"] = map[string]any{
			"description": "Found: Location is the URL",
			"headers":     map[string]any{"Location": map[string]any{"schema": map[string]any{"type": "string"}}},
		}
	}
	if !r.Public {
		op["security"] = []any{map[string]any{"bearer": []any{}}}
	}
	return op
}

// operationID names r: "get_api_v1_tickets_id".
func operationID(r Route) string {
	p := strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(r.Path)
	return strings.ToLower(r.Method) + p
}

// generator builds the schemas of Go types.
type generator struct {
	schemas map[string]any
	names   map[reflect.Type]string
	taken   map[string]reflect.Type
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	brokerDur    = reflect.TypeFor[broker.Duration]()
	stateType    = reflect.TypeFor[broker.State]()
)

// schema is the JSON schema of values of t as encoding/json writes them.
func (g *generator) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case durationType, brokerDur:
		return map[string]any{"type": "string", "description": `a Go duration such as "1h30m"`}
	case stateType:
		enum := make([]any, len(broker.States))
		for i, s := range broker.States {
			enum[i] = string(s)
		}
		return map[string]any{"type": "string", "enum": enum}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nullable(map[string]any{"type": "string", "contentEncoding": "base64"})
		}
		return nullable(map[string]any{"type": "array", "items": g.schema(t.Elem())})
	case reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return nullable(map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())})
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + g.name(t)}
	}
	panic(fmt.Sprintf("wire: no schema for %s", t))
}

// name registers the schema of the named struct t once and returns its name.
func (g *generator) name(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	n := t.Name()
	if other, ok := g.taken[n]; ok && other != t {
		n = t.String() // package-qualified: "broker.Ticket"
	}
	g.names[t], g.taken[n] = n, t
	g.schemas[n] = g.object(t)
	return n
}

// object is the schema of the struct t: its JSON fields, flattened.
func (g *generator) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []any
	for _, f := range jsonFields(t) {
		s := g.schema(f.typ)
		if f.optional {
			s = withoutNull(s) // left out rather than null
		} else {
			required = append(required, f.name)
		}
		props[f.name] = s
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		o["required"] = required
	}
	return o
}

type jsonField struct {
	name     string
	typ      reflect.Type
	optional bool
	depth    int
}

// jsonFields lists the fields encoding/json writes for the struct t, a
// shallower field hiding a deeper one of the same name.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	index := map[string]int{}
	var walk func(t reflect.Type, depth int, optional bool)
	walk = func(t reflect.Type, depth int, optional bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				inner, ptr := ft, false
				if inner.Kind() == reflect.Pointer {
					inner, ptr = inner.Elem(), true
				}
				if inner.Kind() == reflect.Struct {
					walk(inner, depth+1, optional || ptr)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			jf := jsonField{name: name, typ: ft, depth: depth,
				optional: optional || strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")}
			if j, ok := index[name]; ok {
				if out[j].depth > depth {
					out[j] = jf
				}
				continue
			}
			index[name] = len(out)
			out = append(out, jf)
		}
	}
	walk(t, 0, false)
	return out
}

// nullable lets s be null too.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		c := clone(s)
		c["type"] = []any{typ, "null"}
		return c
	}
	return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
}

// withoutNull undoes nullable.
func withoutNull(s map[string]any) map[string]any {
	if types, ok := s["type"].([]any); ok && len(types) == 2 && types[1] == "null" {
		c := clone(s)
		c["type"] = types[0]
		return c
	}
	if alts, ok := s["oneOf"].([]any); ok && len(alts) == 2 {
		if n, ok := alts[1].(map[string]any); ok && n["type"] == "null" {
			return alts[0].(map[string]any)
		}
	}
	return s
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
