package console

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
)

// The web app's files come precompressed from its build (console/web's
// compress.mjs): NAME.br and NAME.gz next to NAME. Each request gets the
// smallest copy its Accept-Encoding allows, or the file itself; nothing
// is compressed at request time.

// encodings are the precompressed copies' content codings, by suffix.
var encodings = []struct{ suffix, coding string }{{".br", "br"}, {".gz", "gzip"}}

// encodedBody is a file's body in one content coding.
type encodedBody struct {
	coding string
	body   []byte
}

// isVariant reports whether name is a precompressed copy of another file.
func isVariant(name string) bool {
	for _, e := range encodings {
		if strings.HasSuffix(name, e.suffix) {
			return true
		}
	}
	return false
}

// loadVariants reads the precompressed copies of name, smallest first.
func loadVariants(fsys fs.FS, name string) ([]encodedBody, error) {
	var out []encodedBody
	for _, e := range encodings {
		body, err := fs.ReadFile(fsys, name+e.suffix)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, encodedBody{coding: e.coding, body: body})
	}
	for i := 1; i < len(out); i++ {
		if len(out[i].body) < len(out[0].body) {
			out[0], out[i] = out[i], out[0]
		}
	}
	return out, nil
}

// encoded returns the smallest body acceptEncoding allows, and its
// content coding ("" for the file itself).
func (f webFile) encoded(acceptEncoding string) ([]byte, string) {
	for _, v := range f.variants {
		if accepts(acceptEncoding, v.coding) {
			return v.body, v.coding
		}
	}
	return f.body, ""
}

// accepts reports whether an Accept-Encoding header allows coding: named,
// or through "*", with a quality above zero (RFC 9110 §12.5.3).
func accepts(header, coding string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != coding && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if name == coding {
			return q > 0
		}
		star = q > 0
	}
	return star
}
