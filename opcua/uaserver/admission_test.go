package uaserver

import (
	"net"
	"testing"
)

func TestAdmission(t *testing.T) {
	addr := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for in, want := range map[string]string{
		"192.0.2.7:4840":                   "192.0.2.7",
		"[::ffff:192.0.2.7]:4840":          "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:4840":      "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb:cccc::9]:4840": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:4840":           "2001:db8:1:3::/64",
	} {
		if got := clientKey(addr(in)); got != want {
			t.Errorf("clientKey(%s) = %s, want %s", in, got, want)
		}
	}

	a := newAdmission(&Config{MaxConnections: 4, MaxConnectionsPerAddress: 2, ReservedSecureConnections: 1})
	var held []*slot
	take := func(from string, wantReserved bool, wantWhy string) {
		t.Helper()
		s, why := a.admit(addr(from))
		if why != wantWhy || (s != nil && s.reserved != wantReserved) {
			t.Fatalf("admit(%s) = %+v %q, want reserved=%v %q", from, s, why, wantReserved, wantWhy)
		}
		if s != nil {
			held = append(held, s)
		}
	}
	take("10.0.0.1:1", false, "")
	take("10.0.0.1:2", false, "")
	take("10.0.0.1:3", false, "per_address")
	take("[2001:db8::1]:1", false, "")
	take("[2001:db8::2]:1", true, "") // the open pool is full: the reserve
	take("10.0.0.2:1", false, "full")
	for _, s := range held {
		s.release()
	}
	if a.held() != 0 || len(a.byClient) != 0 {
		t.Errorf("after release: %d held, %v", a.held(), a.byClient)
	}
}
