// Package svgateway holds what the whole gateway shares at its root: the
// shipped configuration, embedded so the binary runs without a file.
package svgateway

import _ "embed"

// DefaultConfig is the shipped gateway.toml: the built-in sandbox on loopback.
//
//go:embed gateway.toml
var DefaultConfig []byte
