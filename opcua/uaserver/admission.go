package uaserver

// Connection admission: which TCP connections the server takes on, so that
// no peer that has not authenticated can exhaust max_connections. A
// connection is admitted into one of two pools: the open pool
// (max_connections - reserved_secure_connections slots), which anyone may
// use to say Hello, discover the endpoints or open a channel; and the
// reserve, used only once the open pool is full and only by a connection
// that then opens a signed secure channel with a trusted certificate
// within hello_timeout (anything else on it is refused with
// Bad_TcpServerTooBusy). One client address (an IPv6 client's /64) holds
// at most max_connections_per_address slots of both pools together.
// Connections that have not authenticated also have a hard lifetime of
// hello_timeout (channel.go), so the open pool turns over.

import (
	"net"
	"sync"
)

// admission counts the connections held, by pool and by client address.
type admission struct {
	open, reserve, perAddress int // limits

	mu       sync.Mutex
	inOpen   int
	inRes    int
	byClient map[string]int
}

func newAdmission(cfg *Config) *admission {
	return &admission{
		open:       cfg.MaxConnections - cfg.ReservedSecureConnections,
		reserve:    cfg.ReservedSecureConnections,
		perAddress: cfg.MaxConnectionsPerAddress,
		byClient:   map[string]int{},
	}
}

// slot is an admitted connection's hold on the pools; release gives it back.
type slot struct {
	a        *admission
	client   string
	reserved bool // admitted from the reserve: must open a secured channel
}

// admit takes a slot for a connection from addr, or reports why not
// ("per_address", "full").
func (a *admission) admit(addr net.Addr) (*slot, string) {
	client := clientKey(addr)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byClient[client] >= a.perAddress {
		return nil, "per_address"
	}
	s := &slot{a: a, client: client}
	switch {
	case a.inOpen < a.open:
		a.inOpen++
	case a.inRes < a.reserve:
		a.inRes++
		s.reserved = true
	default:
		return nil, "full"
	}
	a.byClient[client]++
	return s, ""
}

func (s *slot) release() {
	a := s.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.reserved {
		a.inRes--
	} else {
		a.inOpen--
	}
	if a.byClient[s.client]--; a.byClient[s.client] <= 0 {
		delete(a.byClient, s.client)
	}
}

// held is the number of connections admitted.
func (a *admission) held() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inOpen + a.inRes
}

// clientKey is the address a connection counts against: the IP, or the /64
// of an IPv6 address (one host usually holds a whole /64).
func clientKey(addr net.Addr) string {
	var ip net.IP
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.IP
	default:
		host, _, err := net.SplitHostPort(addr.String())
		if err != nil {
			return addr.String()
		}
		ip = net.ParseIP(host)
		if ip == nil {
			return host
		}
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
