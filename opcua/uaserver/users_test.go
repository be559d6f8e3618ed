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
	for i := range 3 {
		if l.blocked("10.0.0.1", t0) {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail("10.0.0.1", t0.Add(time.Duration(i)*time.Second))
	}
	if !l.blocked("10.0.0.1", t0.Add(10*time.Second)) {
		t.Error("not blocked after 3 failures")
	}
	if l.blocked("10.0.0.2", t0.Add(10*time.Second)) {
		t.Error("another address blocked")
	}
	if l.blocked("10.0.0.1", t0.Add(time.Minute)) {
		t.Error("still blocked after the window")
	}
	// the table stays bounded
	for i := range maxLimiterEntries + 100 {
		l.fail(fmt.Sprintf("addr-%d", i), t0.Add(2*time.Minute))
	}
	if n := len(l.entries); n > maxLimiterEntries {
		t.Errorf("%d entries", n)
	}
}
