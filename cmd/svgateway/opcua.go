package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/svgateway/svgateway/opcua"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// validateOPCUA checks the [opcua] table. SecurityPolicy None is refused
// outside the sandbox: production endpoints sign and encrypt.
func (c *Config) validateOPCUA() error {
	if c.OPCUA.Endpoint == "off" {
		return nil
	}
	if err := c.OPCUA.Validate(); err != nil {
		return err
	}
	if c.OPCUA.OffersNone() && !c.Sandbox.Enabled {
		return errors.New(`opcua.security: "None" is allowed only with the sandbox; list Basic256Sha256 Sign/SignAndEncrypt endpoints`)
	}
	return nil
}

// wireOPCUA adds the OPC UA server.
func (g *gateway) wireOPCUA() error {
	if g.cfg.OPCUA.Endpoint == "off" {
		return nil
	}
	srv, err := opcua.New(g.cfg.OPCUA, g.store, uaserver.Options{Logger: g.log.With("subsystem", "opcua"),
		Registerer: g.registry, StateDir: g.cfg.StateDir, Version: buildVersion()})
	if err != nil {
		return err
	}
	g.add("opcua", srv)
	return nil
}

// runHashPassword reads a password from stdin (one line; never from the
// command line, where it would land in shell history and ps) and prints the
// bcrypt hash to put in [[opcua.users]] password_hash.
func runHashPassword(stdin io.Reader, stdout io.Writer) error {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return errors.New("hash-password: no password on standard input")
	}
	hash, err := uaserver.HashPassword(password)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hash)
	return nil
}
