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

func newUserStore(users []User) (*userStore, error) {
	s := &userStore{hashes: map[string][]byte{}, sem: make(chan struct{}, 2)}
	for _, u := range users {
		h := []byte(u.PasswordHash)
		if u.Password != "" {
			var err error
			if h, err = bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost); err != nil {
				return nil, fmt.Errorf("opcua.users: user %q: %w", u.Name, err)
			}
		}
		s.hashes[u.Name] = h
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
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

// activationLimiter counts failed ActivateSession calls per client address:
// after max failures within window, the address is refused until the window
// (started at its first failure) has passed. The table is bounded.
type activationLimiter struct {
	max    int
	window time.Duration

	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	first time.Time
	count int
}

// maxLimiterEntries bounds the limiter's memory; beyond it, expired entries
// are dropped, and if none are expired the oldest is.
const maxLimiterEntries = 10000

func newActivationLimiter(max int, window time.Duration) *activationLimiter {
	return &activationLimiter{max: max, window: window, entries: map[string]*failures{}}
}

// blocked reports whether addr is currently refused.
func (l *activationLimiter) blocked(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.entries[addr]
	if !ok {
		return false
	}
	if now.Sub(f.first) >= l.window {
		delete(l.entries, addr)
		return false
	}
	return f.count >= l.max
}

// fail records a failed activation from addr.
func (l *activationLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.entries[addr]
	if ok && now.Sub(f.first) >= l.window {
		ok = false
	}
	if !ok {
		if len(l.entries) >= maxLimiterEntries {
			l.evict(now)
		}
		f = &failures{first: now}
		l.entries[addr] = f
	}
	f.count++
}

func (l *activationLimiter) evict(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for a, f := range l.entries {
		if now.Sub(f.first) >= l.window {
			delete(l.entries, a)
			continue
		}
		if oldest == "" || f.first.Before(oldestAt) {
			oldest, oldestAt = a, f.first
		}
	}
	if len(l.entries) >= maxLimiterEntries {
		delete(l.entries, oldest)
	}
}
