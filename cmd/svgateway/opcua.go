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
		return errors.New(`opcua.security: "None" is allowed only with the sandbox; list Sign/SignAndEncrypt endpoints of Aes256_Sha256_RsaPss, Aes128_Sha256_RsaOaep or Basic256Sha256`)
	}
	return nil
}

// wireOPCUA adds the OPC UA server.
func (g *gateway) wireOPCUA() error {
	if g.cfg.OPCUA.Endpoint == "off" {
		return nil
	}
	var options []opcua.Option
	if g.node != nil {
		g.node.Announce(g.cfg.OPCUA.ApplicationURI)
		options = append(options, opcua.WithRedundancy(pairRedundancy{g}))
	}
	if g.history != nil {
		options = append(options, opcua.WithHistory(g.history))
	}
	srv, err := opcua.New(g.cfg.OPCUA, g.store, uaserver.Options{Logger: g.log.With("subsystem", "opcua"),
		Registerer: g.registry, StateDir: g.cfg.StateDir, Version: buildVersion(), BuildDate: buildTime()}, options...)
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
		p1, err := promptPassword(f, stderr, "Password: ")
		if err != nil {
			return fmt.Errorf("hash-password: %w", err)
		}
		p2, err := promptPassword(f, stderr, "Repeat password: ")
		if err != nil {
			return fmt.Errorf("hash-password: %w", err)
		}
		if p1 != p2 {
			return errors.New("hash-password: the passwords differ")
		}
		password = p1
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
	hash, err := uaserver.HashPassword(password)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hash)
	return nil
}

// promptPassword reads one line from the terminal tty without echo. The
// terminal is put in raw mode before the prompt is written, so nothing typed
// after the prompt appears, however fast it comes (term.ReadPassword turns
// echo off only after a prompt printed before it). In raw mode the line
// discipline does nothing: Enter (CR or LF) ends the line, Backspace/DEL
// erases, Ctrl-C and Ctrl-D abort.
func promptPassword(tty *os.File, prompt io.Writer, text string) (string, error) {
	fd := int(tty.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return "", err
	}
	defer term.Restore(fd, old)
	fmt.Fprint(prompt, text)
	defer fmt.Fprint(prompt, "\r\n")
	var line []byte
	var b [1]byte
	for {
		if _, err := tty.Read(b[:]); err != nil {
			return "", err
		}
		switch b[0] {
		case '\r', '\n':
			return string(line), nil
		case 0x7f, '\b':
			if len(line) > 0 {
				line = line[:len(line)-1]
			}
		case 0x03, 0x04: // Ctrl-C, Ctrl-D
			return "", errors.New("interrupted")
		default:
			if len(line) == 1024 {
				return "", errors.New("password longer than 1024 bytes")
			}
			line = append(line, b[0])
		}
	}
}
