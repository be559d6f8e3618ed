// Package httpshutdown makes an http.Server's graceful Shutdown prompt when
// clients hold connections that have not sent a request.
//
// net/http's Shutdown closes idle connections and waits for busy ones, but
// counts a connection that was accepted and has not sent a request (a
// browser's preconnect, an HTTP client's dial that finished after its
// request was cancelled and stays in its pool) as idle only once it is 5 s
// old: a stop waited those 5 s. Such a connection holds no request, so
// closing it at shutdown loses nothing. This package must not touch
// connections with a request in flight or kept alive between requests: those
// remain net/http's to drain.
package httpshutdown

import (
	"net"
	"net/http"
	"sync"
)

// CloseUnused makes srv's Shutdown close, once it has closed the
// listeners, the connections that have not sent a request. It sets
// srv.ConnState (which must not be set otherwise) and must be called before
// srv serves.
func CloseUnused(srv *http.Server) {
	var mu sync.Mutex
	fresh := map[net.Conn]struct{}{}
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		if st == http.StateNew {
			fresh[c] = struct{}{}
		} else {
			delete(fresh, c)
		}
	}
	// Shutdown runs these after closing the listeners, so no connection is
	// accepted after them.
	srv.RegisterOnShutdown(func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range fresh {
			c.Close()
		}
	})
}
