package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/svgateway/svgateway/opcua"
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
	srv, err := opcua.New(g.cfg.OPCUA, g.store, opcua.ServerOptions{Logger: g.log.With("subsystem", "opcua"),
		Registerer: g.registry, StateDir: g.cfg.StateDir, Version: buildVersion(), BuildDate: buildTime()})
	if err != nil {
		return err
	}
	g.add("opcua", srv)
	g.opcua = srv
	return nil
}

// runHashPassword reads a password (never from the command line, where it
// would land in shell history and ps) and prints the bcrypt hash to put in
// [[opcua.users]] password_hash. On a terminal it prompts twice without
// echo; otherwise it reads one line of stdin.
func runHashPassword(stdin io.Reader, stdout, stderr io.Writer) error {
	var password string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return fmt.Errorf("hash-password: %w", err)
		}
		fmt.Fprint(stderr, "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return fmt.Errorf("hash-password: %w", err)
		}
		if string(p1) != string(p2) {
			return errors.New("hash-password: the passwords differ")
		}
		password = string(p1)
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if password == "" {
		return errors.New("hash-password: no password given")
	}
	hash, err := opcua.HashPassword(password)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hash)
	return nil
}
