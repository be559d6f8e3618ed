// This file is the seam between the alarm ledger and where it is kept:
// a file of its own (one gateway) or a store shared by a redundant pair
// (the cluster package), which decides who may write it.

package model

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// LedgerBackend stores the alarm ledger for a store that shares it with
// other gateways. SaveLedger stores data (the same encoding as the ledger
// file) and returns an error if it could not, or if this gateway no longer
// has the right to write it (fencing): the transitions it holds then stay
// unsaved and their notifications held, and the save is retried.
type LedgerBackend interface {
	SaveLedger(data []byte) error
}

// Following reports whether the store follows a shared ledger (see
// Options.LedgerBackend) rather than owning its alarm book.
func (s *Store) Following() bool { return s.following.Load() }

// Follow makes the store a follower: alarm and alert sightings (polls,
// feeds) are ignored and nothing is saved; its alarm book changes only by
// AdoptLedger. What was pending and unsaved is dropped: the leader, which
// sees the same upstream, reports it.
func (s *Store) Follow() {
	s.mu.Lock()
	s.following.Store(true)
	s.mu.Unlock()
	if s.ledger != nil {
		s.ledger.drop()
	}
}

// Lead makes the store own its alarm book again: sightings apply, and the
// book is saved to the backend after every change. Adopt the newest
// shared ledger first.
func (s *Store) Lead() {
	s.mu.Lock()
	s.following.Store(false)
	s.mu.Unlock()
}

// AdoptLedger replaces the alarm book with a ledger another node saved
// (data as LedgerBackend.SaveLedger received it), and counts it as durable.
// Every alarm and alert whose latest transition is newer than the store's
// is reported in the delta with that transition, so subscribers (tables,
// OPC UA) follow; a follower's notification sender is not running.
func (s *Store) AdoptLedger(data []byte) error {
	b, err := decodeLedger(data)
	if err != nil {
		return fmt.Errorf("model: shared alarm ledger: %w", err)
	}
	_, err = s.Update(func(tx *Tx) error {
		if !s.following.Load() {
			return errors.New("model: AdoptLedger on a store that leads")
		}
		tx.adopt(b)
		return nil
	})
	if err != nil {
		return err
	}
	if s.ledger != nil {
		s.ledger.adopted(b)
	}
	return nil
}

// adopt installs b as the transaction's book.
func (tx *Tx) adopt(b *alarmBook) {
	old := tx.currentBook()
	for _, key := range sortedKeys(b.alarms, func(a *Alarm) uint64 { return a.Seq }) {
		a := b.alarms[key]
		if prev, ok := old.alarms[key]; ok && prev.Seq >= a.Seq && prev.ID == a.ID {
			continue
		}
		tx.delta.Alarms = append(tx.delta.Alarms, AlarmTransition{Kind: stateKind(a.State), Seq: a.Seq, Alarm: *a, Source: "leader"})
	}
	for _, key := range sortedKeys(b.alerts, func(a *Alert) uint64 { return a.Seq }) {
		a := b.alerts[key]
		if prev, ok := old.alerts[key]; ok && prev.Seq >= a.Seq && prev.Number == a.Number {
			continue
		}
		kind := AlertTriggered
		if a.Acknowledged {
			kind = AlertAcknowledged
		}
		tx.delta.Alerts = append(tx.delta.Alerts, AlertTransition{Kind: kind, Seq: a.Seq, Alert: *a, Source: "leader"})
	}
	// Ids this node has shown (in its tables, never in a notification:
	// they were not saved) are not given again should it lead.
	b.nextID = max(b.nextID, old.nextID)
	tx.bookCopy = b
}

// stateKind is the transition that leaves an alarm in state st.
func stateKind(st AlarmState) TransitionKind {
	switch st {
	case AlarmAcknowledged:
		return AlarmAcknowledgedKind
	case AlarmCleared:
		return AlarmClearedKind
	}
	return AlarmRaised
}

// sortedKeys returns m's keys ordered by seq of their values.
func sortedKeys[V any](m map[string]V, seq func(V) uint64) []string {
	return slices.SortedFunc(maps.Keys(m), func(x, y string) int { return cmp.Compare(seq(m[x]), seq(m[y])) })
}
