package uaserver

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != passwordCost {
		t.Errorf("cost %d %v", cost, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret")) != nil {
		t.Error("hash does not verify")
	}
	c := Config{Users: []User{{Name: "u", PasswordHash: h}}}
	if err := c.Validate(); err != nil {
		t.Errorf("a HashPassword hash is not a valid password_hash: %v", err)
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("empty password hashed")
	}
}

func TestUserStore(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("hashed"), bcrypt.MinCost)
	s, err := newUserStore([]User{{Name: "a", PasswordHash: string(hash)}, {Name: "b", Password: "from-env"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, password string
		want           bool
	}{
		{"a", "hashed", true}, {"a", "Hashed", false}, {"a", "", false},
		{"b", "from-env", true}, {"b", "hashed", false}, {"c", "hashed", false},
	} {
		if got := s.check(tt.user, []byte(tt.password)); got != tt.want {
			t.Errorf("check(%q, %q) = %v", tt.user, tt.password, got)
		}
	}
}

func TestActivationLimiter(t *testing.T) {
	l := newActivationLimiter(3, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// the first max attempts pass, then the backoff doubles from 1s
	for i := range 3 {
		if ok, _ := l.attempt("10.0.0.1", "u", at(0)); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if ok, wait := l.attempt("10.0.0.1", "u", at(500*time.Millisecond)); ok || wait != 500*time.Millisecond {
		t.Errorf("4th attempt within the first backoff: %v %v", ok, wait)
	}
	if ok, _ := l.attempt("10.0.0.1", "u", at(time.Second)); !ok {
		t.Error("attempt after the first backoff refused")
	}
	// 5 attempts so far: the next waits 1s << 2
	if ok, wait := l.attempt("10.0.0.1", "u", at(2*time.Second)); ok || wait != 3*time.Second {
		t.Errorf("backoff did not double: %v %v", ok, wait)
	}
	if n := l.counted("10.0.0.1", "u"); n != 6 {
		t.Errorf("counted %d attempts, want 6 (refused ones too)", n)
	}
	// another name, or another address, is not affected
	for _, k := range [][2]string{{"10.0.0.1", "v"}, {"10.0.0.1", "anonymous"}, {"10.0.0.2", "u"}} {
		if ok, _ := l.attempt(k[0], k[1], at(2*time.Second)); !ok {
			t.Errorf("%v refused", k)
		}
	}
	// the backoff never exceeds the window, and a success forgets
	for range 40 {
		l.attempt("10.0.0.3", "w", at(0))
	}
	if _, wait := l.attempt("10.0.0.3", "w", at(0)); wait > time.Minute {
		t.Errorf("backoff %v beyond the window", wait)
	}
	l.succeeded("10.0.0.1", "u")
	if ok, _ := l.attempt("10.0.0.1", "u", at(2*time.Second)); !ok {
		t.Error("refused after a success")
	}
	// a window after the last attempt, the failures are forgotten
	if ok, _ := l.attempt("10.0.0.3", "w", at(time.Minute)); !ok {
		t.Error("still refused a window after the last attempt")
	}
	// the table stays bounded
	for i := range maxLimiterEntries + 100 {
		l.attempt(fmt.Sprintf("addr-%d", i), "u", at(2*time.Minute))
	}
	if n := len(l.entries); n > maxLimiterEntries {
		t.Errorf("%d entries", n)
	}
}

func TestDummyHashHasTheConfiguredCost(t *testing.T) {
	for _, cost := range []int{bcrypt.MinCost, 6} {
		hash, _ := bcrypt.GenerateFromPassword([]byte("x"), cost)
		s, err := newUserStore([]User{{Name: "a", PasswordHash: string(hash)}, {Name: "b", Password: "plain"}})
		if err != nil {
			t.Fatal(err)
		}
		for name, h := range map[string][]byte{"dummy": s.dummy, "in-memory hash": s.hashes["b"]} {
			if got, _ := bcrypt.Cost(h); got != cost {
				t.Errorf("%s at cost %d, the configured hash at %d", name, got, cost)
			}
		}
	}
}
