package main

// crashHook is broker.ServiceConfig.Crash: nil (crash points inert) unless
// the binary is built with the `faults` build tag (crashpoint_faults.go).
var crashHook func(point string)
