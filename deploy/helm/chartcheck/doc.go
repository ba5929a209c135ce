// Package chartcheck holds the test of the Helm chart deploy/helm/jit:
// helm lint and helm template (the helm v4 binary, see the Makefile's
// helm-check target), and every rendered object decoded strictly into
// its Kubernetes API type, so a misspelled field or a wrong type fails.
// It is a module of its own so that the Kubernetes API types stay out of
// JIT's go.mod.
package chartcheck
