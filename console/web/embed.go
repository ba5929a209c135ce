// Package web holds the approver page: a Cloudscape (React) app whose
// sources are in src/ and whose build, dist/, is committed so that the jit
// binary (and `make dev`) needs only Go. `make web` rebuilds dist/ from
// src/ with npm; console.Web serves it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Files returns the built app: index.html and assets/.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path; fs.Sub cannot fail on it
	}
	return sub
}
