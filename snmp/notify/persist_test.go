package notify

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/snmp"
)

// alarmIDTag returns the alarm id and tag id an alarm notification carries
// ("", 0 for another notification).
func alarmIDTag(n snmp.NotificationVarbinds) (uint64, string) {
	var id uint64
	var tag string
	for i, o := range n.Notification.Objects {
		switch o.Name {
		case "svgAlarmId":
			id = uint64(n.Varbinds[i].Value.(uint32))
		case "svgAlarmTagId":
			tag = fmt.Sprint(n.Varbinds[i].Value)
		}
	}
	return id, tag
}

// waitFor waits (bounded) until rec delivered a notification named name.
func waitFor(t *testing.T, rec *recorder, name string) {
	t.Helper()
	for i := 0; !slices.ContainsFunc(rec.delivered(), func(d string) bool { return strings.HasPrefix(d, name) }); i++ {
		if i == 200 {
			t.Fatalf("no %s after 20s: delivered %q", name, rec.delivered())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFullDiskThenCrashNeverReusesIDs: while the alarm ledger cannot be
// saved, alarm notifications are held (svgPersistFailed goes out instead);
// after a crash in that state, the alarms of the next run take the ids
// the lost transitions had, which no manager ever saw: every id delivered,
// over both runs, names one alarm.
func TestFullDiskThenCrashNeverReusesIDs(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	r := startSender(t, ts.store, state, nil)
	ts.observe(alarmObs(1, true, false), alarmObs(2, true, false))
	waitDelivered(t, r.recs[0], fmt.Sprint("svgAlarmRaised:", ts.alarmID(1)), fmt.Sprint("svgAlarmRaised:", ts.alarmID(2)))

	// The disk fails (a file where the ledger's directory was).
	must(t, os.Rename(ts.dir, ts.dir+".away"))
	must(t, os.WriteFile(ts.dir, nil, 0o600))
	ts.observe(alarmObs(3, true, false), alarmObs(4, true, false))
	waitFor(t, r.recs[0], "svgPersistFailed")
	settleFor := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(settleFor) {
		for _, d := range r.recs[0].delivered() {
			if strings.HasPrefix(d, "svgAlarmRaised:") && d != fmt.Sprint("svgAlarmRaised:", ts.alarmID(1)) && d != fmt.Sprint("svgAlarmRaised:", ts.alarmID(2)) {
				t.Fatalf("%s delivered while its id was not on disk", d)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Crash: the ledger on disk never got alarms 3 and 4.
	r.stop()
	ts.store.Close() // one more attempt, which fails
	ts.store = nil
	must(t, os.Remove(ts.dir))
	must(t, os.Rename(ts.dir+".away", ts.dir))
	ts.reopen()
	r2 := startSender(t, ts.store, state, nil)
	ts.observe(alarmObs(5, true, false), alarmObs(6, true, false)) // new alarms first: they take the next ids
	ts.observe(alarmObs(3, true, false), alarmObs(4, true, false))
	waitFor(t, r2.recs[0], "svgPersistRestored")
	settle(t, r2)

	owner := map[uint64]string{}
	for _, rec := range []*recorder{r.recs[0], r2.recs[0]} {
		rec.mu.Lock()
		for _, n := range rec.got {
			id, tag := alarmIDTag(n)
			if tag == "" {
				continue
			}
			if prev, ok := owner[id]; ok && prev != tag {
				t.Errorf("alarm id %d sent for %s and for %s", id, prev, tag)
			}
			owner[id] = tag
		}
		rec.mu.Unlock()
	}
	if len(owner) != 6 {
		t.Errorf("alarms notified: %v, want 6", owner)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLedgerFailingAtStart: transitions committed before the sender starts,
// with the ledger failing: svgPersistFailed goes out at once, the alarm
// only once its ledger is saved, then svgPersistRestored.
func TestLedgerFailingAtStart(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	must(t, os.Rename(ts.dir, ts.dir+".away"))
	must(t, os.WriteFile(ts.dir, nil, 0o600))
	ts.observe(alarmObs(1, true, false))
	r := startSender(t, ts.store, t.TempDir(), nil)
	waitFor(t, r.recs[0], "svgPersistFailed")
	if got := r.recs[0].delivered(); slices.ContainsFunc(got, func(d string) bool { return strings.HasPrefix(d, "svgAlarmRaised") }) {
		t.Fatalf("delivered %q while the ledger is not saved", got)
	}
	must(t, os.Remove(ts.dir))
	must(t, os.Rename(ts.dir+".away", ts.dir))
	waitFor(t, r.recs[0], "svgPersistRestored")
	waitFor(t, r.recs[0], "svgAlarmRaised")
	settle(t, r)
	if got := r.recs[0].delivered(); len(got) != 3 {
		t.Errorf("delivered %q, want persist failed, the raise and persist restored", got)
	}
}
