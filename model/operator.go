package model

import (
	"errors"
	"fmt"
	"strings"
)

// Operator actions on alarms: acknowledgements and comments made at an
// operator console (the OPC UA front end's Acknowledge and AddComment). They
// are the gateway's own record, kept in the alarm ledger with the alarm (so
// they survive restarts) and numbered in the transition sequence like every
// alarm transition; SmartView never hears of them.

// Errors of operator actions.
var (
	ErrAlarmUnknown         = errors.New("model: no such alarm")
	ErrAlarmOperatorAcked   = errors.New("model: alarm already acknowledged by an operator")
	ErrOperatorUserRequired = errors.New("model: operator action without a user")
)

// MaxOperatorComment bounds a comment's length in bytes.
const MaxOperatorComment = 1024

// OperatorAcknowledge records user's acknowledgement of alarm id, with an
// optional comment. An alarm is acknowledged by an operator once per life
// (until it is raised again): a second acknowledgement is
// ErrAlarmOperatorAcked.
func (tx *Tx) OperatorAcknowledge(id uint64, user, comment string) error {
	a, err := tx.operatorAlarm(id, user, comment)
	if err != nil {
		return err
	}
	if a.OperatorAcked() {
		return ErrAlarmOperatorAcked
	}
	a.Operator.AckTime, a.Operator.AckUser = tx.now, user
	if comment != "" {
		a.Operator.Comment, a.Operator.CommentTime, a.Operator.CommentUser = comment, tx.now, user
	}
	tx.putAlarm(a, []TransitionKind{AlarmOperatorAcknowledgedKind}, "operator")
	return nil
}

// OperatorComment records user's comment on alarm id.
func (tx *Tx) OperatorComment(id uint64, user, comment string) error {
	a, err := tx.operatorAlarm(id, user, comment)
	if err != nil {
		return err
	}
	a.Operator.Comment, a.Operator.CommentTime, a.Operator.CommentUser = comment, tx.now, user
	tx.putAlarm(a, []TransitionKind{AlarmCommentedKind}, "operator")
	return nil
}

// operatorAlarm returns a copy of alarm id to change, with its operator
// record copied too.
func (tx *Tx) operatorAlarm(id uint64, user, comment string) (*Alarm, error) {
	if strings.TrimSpace(user) == "" {
		return nil, ErrOperatorUserRequired
	}
	if len(comment) > MaxOperatorComment {
		return nil, fmt.Errorf("model: comment of %d bytes, at most %d", len(comment), MaxOperatorComment)
	}
	for _, old := range tx.currentBook().alarms {
		if old.ID != id {
			continue
		}
		a := *old
		rec := OperatorRecord{}
		if old.Operator != nil {
			rec = *old.Operator
		}
		a.Operator = &rec
		return &a, nil
	}
	return nil, ErrAlarmUnknown
}
