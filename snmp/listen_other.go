//go:build !linux

package snmp

import (
	"net"
	"net/netip"
)

// listenUDP opens one socket on addr (SO_REUSEPORT spreading and blocking
// reads are Linux-only here, listen_linux.go); n is ignored.
func listenUDP(addr string, n int) ([]packetConn, error) {
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, err
	}
	c.SetReadBuffer(1 << 20)
	return []packetConn{netConn{c}}, nil
}

// netConn is a packetConn of the net package.
type netConn struct{ c *net.UDPConn }

func (n netConn) readFrom(b []byte) (int, netip.AddrPort, error) { return n.c.ReadFromUDPAddrPort(b) }
func (n netConn) writeTo(b []byte, to netip.AddrPort) error {
	_, err := n.c.WriteToUDPAddrPort(b, to)
	return err
}
func (n netConn) localAddr() *net.UDPAddr { return n.c.LocalAddr().(*net.UDPAddr) }
func (n netConn) close() error            { return n.c.Close() }
func (n netConn) release()                {}
