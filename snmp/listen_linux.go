package snmp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file is the agent's socket on Linux. A walk is a ping-pong of one
// request and one answer; through the net package each request costs a
// recvfrom that fails with EAGAIN, a park, an epoll_wait in the scheduler,
// a wake-up of the goroutine (often on another thread, with a futex) and
// the spinning of idle threads looking for work: more CPU and latency than
// the answer itself. Here each socket is blocking and read by one goroutine
// in a plain recvfrom: the kernel wakes that thread when a request arrives,
// as it wakes snmpd, and the goroutine answers it on the same thread. Two
// system calls per request, no netpoller and no hand-off.

// listenUDP opens n sockets on addr with SO_REUSEPORT: the kernel spreads
// managers over them by address, and each is read by one goroutine with no
// lock between them. The first socket fixes the port when addr's is 0.
//
// The net package creates each socket (so addresses are resolved and
// families chosen as everywhere else: ":161" is dual-stack); the agent
// keeps a duplicate of its descriptor, switched to blocking, and closes
// the net package's.
func listenUDP(addr string, n int) ([]packetConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	var conns []packetConn
	fail := func(err error) ([]packetConn, error) {
		for _, c := range conns {
			c.close()
			c.release()
		}
		return nil, err
	}
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return fail(err)
		}
		s, err := newBlockingSocket(pc.(*net.UDPConn))
		pc.Close()
		if err != nil {
			return fail(err)
		}
		conns = append(conns, s)
		addr = s.local.String()
	}
	return conns, nil
}

// blockingSocket is a UDP socket in blocking mode, read and written by the
// one goroutine that serves it (the sockaddr buffers are that goroutine's).
type blockingSocket struct {
	fd     int
	v6     bool // AF_INET6 (dual-stack or IPv6 only)
	local  *net.UDPAddr
	closed atomic.Bool

	from    unix.RawSockaddrAny // the source of the last request read
	to4     unix.RawSockaddrInet4
	to6     unix.RawSockaddrInet6
	zones   map[uint32]string // IPv6 scope IDs → interface names, as net reports them
	zoneIdx map[string]uint32
}

func newBlockingSocket(c *net.UDPConn) (*blockingSocket, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, fmt.Errorf("duplicating the socket: %w", derr)
	}
	s := &blockingSocket{fd: fd, local: c.LocalAddr().(*net.UDPAddr)}
	sa, err := unix.Getsockname(fd)
	if err == nil {
		_, s.v6 = sa.(*unix.SockaddrInet6)
		// The duplicate shares the open file description: this makes the
		// net package's descriptor blocking too, which is closed unused.
		err = unix.SetNonblock(fd, false)
	}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	}
	if err == nil {
		// A bound on each wait, so that a reader sees close even if the
		// shutdown did not wake it.
		err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1})
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *blockingSocket) localAddr() *net.UDPAddr { return s.local }

// readFrom blocks until a datagram arrives or the socket is closed
// (net.ErrClosed).
func (s *blockingSocket) readFrom(b []byte) (int, netip.AddrPort, error) {
	for {
		if s.closed.Load() {
			return 0, netip.AddrPort{}, net.ErrClosed
		}
		fromLen := uint32(unsafe.Sizeof(s.from))
		r, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(s.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
			0, uintptr(unsafe.Pointer(&s.from)), uintptr(unsafe.Pointer(&fromLen)))
		switch {
		case errno == unix.EINTR || errno == unix.EAGAIN:
			continue
		case errno != 0:
			if s.closed.Load() {
				return 0, netip.AddrPort{}, net.ErrClosed
			}
			return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Addr: s.local, Err: errno}
		}
		if s.closed.Load() { // close's shutdown makes recvfrom return 0 at once
			return 0, netip.AddrPort{}, net.ErrClosed
		}
		return int(r), s.source(), nil
	}
}

// source is the address of the last datagram read, as the net package
// reports it (an IPv4 manager on a dual-stack socket is IPv4-mapped).
func (s *blockingSocket) source() netip.AddrPort {
	switch s.from.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.from))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), portOf(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.from))
		ip := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			ip = ip.WithZone(s.zoneName(sa.Scope_id))
		}
		return netip.AddrPortFrom(ip, portOf(sa.Port))
	}
	return netip.AddrPort{}
}

// portOf reads a port in network byte order as the kernel stores it.
func portOf(p uint16) uint16 {
	return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p))[:])
}

func (s *blockingSocket) zoneName(id uint32) string {
	if name, ok := s.zones[id]; ok {
		return name
	}
	name := strconv.FormatUint(uint64(id), 10)
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		name = ifi.Name
	}
	if s.zones == nil {
		s.zones, s.zoneIdx = map[uint32]string{}, map[string]uint32{}
	}
	s.zones[id], s.zoneIdx[name] = name, id
	return name
}

// writeTo sends b to a source readFrom returned.
func (s *blockingSocket) writeTo(b []byte, to netip.AddrPort) error {
	var sa unsafe.Pointer
	var saLen uintptr
	ip := to.Addr()
	if s.v6 {
		s.to6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ip.As16()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s.to6.Port))[:], to.Port())
		if z := ip.Zone(); z != "" {
			s.to6.Scope_id = s.zoneIdx[z]
		}
		sa, saLen = unsafe.Pointer(&s.to6), unsafe.Sizeof(s.to6)
	} else {
		if !ip.Unmap().Is4() {
			return &net.OpError{Op: "write", Net: "udp", Addr: s.local, Err: errors.New("IPv6 destination on an IPv4 socket")}
		}
		s.to4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ip.Unmap().As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s.to4.Port))[:], to.Port())
		sa, saLen = unsafe.Pointer(&s.to4), unsafe.Sizeof(s.to4)
	}
	for {
		_, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0, uintptr(sa), saLen)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return &net.OpError{Op: "write", Net: "udp", Addr: s.local, Err: errno}
	}
}

// close wakes the goroutine blocked in readFrom: shutdown wakes a reader
// even on an unconnected UDP socket (where it reports ENOTCONN), and the
// receive timeout bounds the wait if it did not. The descriptor stays open
// until release, so its number is not reused under a reader.
func (s *blockingSocket) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	unix.Shutdown(s.fd, unix.SHUT_RDWR)
	return nil
}

// release closes the descriptor once its goroutine has stopped reading.
func (s *blockingSocket) release() { unix.Close(s.fd) }
