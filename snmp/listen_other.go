//go:build !linux

package snmp

import "net"

// listenUDP opens one socket on addr (SO_REUSEPORT spreading is Linux-only
// here); n is ignored.
func listenUDP(addr string, n int) ([]*net.UDPConn, error) {
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, err
	}
	return []*net.UDPConn{c}, nil
}
