package uaserver

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// passwordCost is the bcrypt cost of HashPassword (about 0.2 s per check on
// a current core: cheap for a login, expensive for a guesser).
const passwordCost = 12

// HashPassword returns the bcrypt hash of password for a [[opcua.users]]
// password_hash entry (`svgateway hash-password`).
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), passwordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// userStore checks UserName credentials against bcrypt hashes.
type userStore struct {
	hashes map[string][]byte
	// dummy is compared against for unknown users so that a lookup costs
	// the same whether the name exists or not.
	dummy []byte
	// sem bounds concurrent bcrypt comparisons (CPU).
	sem chan struct{}
}

// newUserStore hashes the plain passwords and prepares the dummy hash that
// unknown names are checked against. Both use the cost of the configured
// password_hash entries (the highest, if they differ; bcrypt.DefaultCost
// without any), so that a known and an unknown name take the same time.
func newUserStore(users []User) (*userStore, error) {
	s := &userStore{hashes: map[string][]byte{}, sem: make(chan struct{}, 2)}
	cost := 0
	for _, u := range users {
		if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil && c > cost {
			cost = c
		}
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	for _, u := range users {
		h := []byte(u.PasswordHash)
		if u.Password != "" {
			var err error
			if h, err = bcrypt.GenerateFromPassword([]byte(u.Password), cost); err != nil {
				return nil, fmt.Errorf("opcua.users: user %q: %w", u.Name, err)
			}
		}
		if len(h) > 0 {
			s.hashes[u.Name] = h
		}
	}
	dummy, err := bcrypt.GenerateFromPassword(randomBytes(16), cost)
	if err != nil {
		return nil, err
	}
	s.dummy = dummy
	return s, nil
}

func (s *userStore) len() int { return len(s.hashes) }

// check reports whether name/password are valid.
func (s *userStore) check(name string, password []byte) bool {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	h, ok := s.hashes[name]
	if !ok {
		_ = bcrypt.CompareHashAndPassword(s.dummy, password)
		return false
	}
	return bcrypt.CompareHashAndPassword(h, password) == nil
}

// equalBytes compares secrets in constant time.
func equalBytes(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// activationLimiter throttles ActivateSession per (client address, user
// name): every attempt is counted when it starts, before its credentials
// are checked, so that parallel guesses are all counted. The first
// max attempts pass; from then on each attempt must wait a backoff after
// the last one let through, doubling from one second with every attempt
// made (refused ones included) up to window. A success forgets the name's
// failures; an entry is forgotten window after its last attempt. Other
// names, and anonymous, from the same address are not affected, so one
// misconfigured client does not lock out a whole SCADA host or NAT. The
// table is bounded.
type activationLimiter struct {
	max    int
	window time.Duration

	mu      sync.Mutex
	entries map[string]*attempts
}

type attempts struct {
	count int       // attempts since the last success
	last  time.Time // the last attempt
	next  time.Time // no attempt is let through before
}

// maxLimiterEntries bounds the limiter's memory; beyond it, expired entries
// are dropped, and if none are expired the oldest is. maxLimitedName
// bounds the user name kept in a key.
const (
	maxLimiterEntries = 10000
	maxLimitedName    = 128
	firstBackoff      = time.Second
)

func newActivationLimiter(max int, window time.Duration) *activationLimiter {
	return &activationLimiter{max: max, window: window, entries: map[string]*attempts{}}
}

func limiterKey(addr, user string) string {
	if len(user) > maxLimitedName {
		user = user[:maxLimitedName]
	}
	return addr + "\x00" + user
}

// attempt counts an activation attempt of user from addr and reports
// whether it may be checked, or how long until the next one may.
func (l *activationLimiter) attempt(addr, user string, now time.Time) (bool, time.Duration) {
	key := limiterKey(addr, user)
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.entries[key]
	if ok && now.Sub(a.last) >= l.window {
		ok = false
	}
	if !ok {
		if _, stale := l.entries[key]; !stale && len(l.entries) >= maxLimiterEntries {
			l.evict(now)
		}
		a = &attempts{}
		l.entries[key] = a
	}
	a.count++
	a.last = now
	if now.Before(a.next) {
		return false, a.next.Sub(now)
	}
	if a.count >= l.max {
		a.next = now.Add(l.backoff(a.count - l.max))
	}
	return true, 0
}

// backoff is the wait after the attempt n attempts past max (0: the max-th).
func (l *activationLimiter) backoff(n int) time.Duration {
	if n > 30 {
		return l.window
	}
	return min(firstBackoff<<n, l.window)
}

// succeeded forgets the failures of user from addr.
func (l *activationLimiter) succeeded(addr, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, limiterKey(addr, user))
}

// counted is the number of attempts of user from addr since its last
// success (for tests and logs).
func (l *activationLimiter) counted(addr, user string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.entries[limiterKey(addr, user)]; ok {
		return a.count
	}
	return 0
}

func (l *activationLimiter) evict(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for k, a := range l.entries {
		if now.Sub(a.last) >= l.window {
			delete(l.entries, k)
			continue
		}
		if oldest == "" || a.last.Before(oldestAt) {
			oldest, oldestAt = k, a.last
		}
	}
	if len(l.entries) >= maxLimiterEntries {
		delete(l.entries, oldest)
	}
}
