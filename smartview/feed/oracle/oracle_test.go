package oracle_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/feed/oracle"
)

// Every test starts its own broker (franz-go's kfake, SASL/PLAIN over TLS
// on loopback) and produces with kcat.

const fuelHours = "CH1.Gen-1:fuelhours"

func oracleConfig(k *feedtest.Kafka, stream string) feed.Config {
	no := false
	cfg := feed.Config{Provider: feed.ProviderOracle, ManageSubscription: &no,
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: 500 * time.Millisecond, ProbeInterval: 200 * time.Millisecond,
		Oracle: feed.OracleConfig{BootstrapServers: []string{k.Addr}, Stream: stream, User: k.User, AuthToken: k.Password,
			CAFile: k.CAFile, StartOffset: "earliest"}}
	return cfg
}

func validated(t *testing.T, cfg feed.Config) feed.Config {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func requireKcat(t *testing.T) {
	t.Helper()
	if _, err := feedtest.KcatPath(); err != nil {
		feedtest.Require(t, nil, err)
	}
}

// TestEventsApplied: records kcat produced reach the model through the
// real franz-go client over SASL/PLAIN and TLS; a malformed record is
// counted and skipped, the next one applied.
func TestEventsApplied(t *testing.T) {
	requireKcat(t)
	k := feedtest.StartKafka(t, map[string]int32{"smartview": 1})
	rig := feedtest.NewRig(t)
	cfg := validated(t, oracleConfig(k, "smartview"))
	rig.StartFeed(t, cfg, oracle.New(cfg.Oracle, cfg.ProbeInterval, nil), feed.Options{})
	now := time.Now().Truncate(time.Millisecond)
	other := otherTag(t, rig.Store)
	k.Produce(t, "smartview", feedtest.TagEvent(fuelHours, "9.75", now),
		feedtest.AlarmEvent("CH1", "CH1.Gen-1", fuelHours, "Fuel", 850, true, now, now),
		[]byte(`{"name":"alarm_updated","alarm":"not an object"}`),
		feedtest.TagEvent(other, "12.5", now))
	feedtest.WaitFor(t, 60*time.Second, "four records applied", func() bool { return rig.Store.Snapshot().Health().Feed.Events == 4 })
	if v := feedtest.TagValue(rig.Store, fuelHours); v != "9.75" {
		t.Errorf("tag = %q", v)
	}
	if v := feedtest.TagValue(rig.Store, other); v != "12.5" {
		t.Errorf("tag after the malformed record = %q", v)
	}
	h := rig.Store.Snapshot().Health().Feed
	if h.Malformed != 1 || h.Provider != "oracle" || h.State != model.FeedConnected {
		t.Errorf("health %+v", h)
	}
}

// otherTag is a tag of the model other than fuelHours.
func otherTag(t *testing.T, s *model.Store) string {
	for _, tag := range s.Snapshot().Structure().Tags() {
		if tag.ID != fuelHours {
			return tag.ID
		}
	}
	t.Fatal("the model has one tag")
	return ""
}

// session runs one consumer of the group until it delivered want records
// (or, with FailFirst, returned the error of the failed delivery).
func session(t *testing.T, cfg feed.Config, rec *feedtest.Recorder, want int) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- oracle.New(cfg.Oracle, cfg.ProbeInterval, nil).Receive(ctx, "", rec) }()
	deadline := time.After(60 * time.Second)
	for len(rec.Messages()) < want {
		select {
		case err := <-done:
			return err
		case <-deadline:
			t.Fatalf("%d of %d records after 60s", len(rec.Messages()), want)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	return <-done
}

// TestCommittedOnlyAfterApplied: a batch whose delivery fails is not
// committed: the consumer gives up the connection and the next member of
// the group reads the same record again; once applied it is committed, and
// a later member reads only what came after.
func TestCommittedOnlyAfterApplied(t *testing.T) {
	requireKcat(t)
	k := feedtest.StartKafka(t, map[string]int32{"commit": 1})
	cfg := validated(t, oracleConfig(k, "commit"))
	first := `{"name":"tagpoint_updated","data":{"tagId":"a","value":"1"}}`
	k.Produce(t, "commit", []byte(first))

	failing := &feedtest.Recorder{FailFirst: 1}
	err := session(t, cfg, failing, 1)
	if err == nil || !strings.Contains(err.Error(), "not applied") || failing.Calls() != 1 {
		t.Fatalf("a failed delivery: Receive returned %v after %d deliveries", err, failing.Calls())
	}
	again := &feedtest.Recorder{}
	if err := session(t, cfg, again, 1); err != nil {
		t.Fatal(err)
	}
	if m := again.Messages(); len(m) != 1 || string(m[0].Data) != first || m[0].ID != "commit/0@0" {
		t.Fatalf("after the failed delivery the group read %+v", m)
	}
	second := `{"name":"tagpoint_updated","data":{"tagId":"b","value":"2"}}`
	k.Produce(t, "commit", []byte(second))
	later := &feedtest.Recorder{}
	if err := session(t, cfg, later, 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a record committed in error would be here by now
	if m := later.Messages(); len(m) != 1 || string(m[0].Data) != second {
		t.Errorf("after the commit the group read %+v, want only the new record", m)
	}
}

// tagRecords are n tagpoint events, one per tag of the rig's model, each
// with a value that names the round, and what the model must then hold.
func tagRecords(rig *feedtest.Rig, n int, round string, at time.Time) (records [][]byte, want map[string]string) {
	want = map[string]string{}
	for i, tag := range rig.Store.Snapshot().Structure().Tags()[:n] {
		v := fmt.Sprintf("%s%d", round, i)
		records = append(records, feedtest.TagEvent(tag.ID, v, at))
		want[tag.ID] = v
	}
	return records, want
}

func missing(s *model.Store, want map[string]string) int {
	n := 0
	for id, v := range want {
		if feedtest.TagValue(s, id) != v {
			n++
		}
	}
	return n
}

// TestBrokerRestartLosesNothing: the broker is stopped mid-stream (records
// produced and not all applied yet) and started again: the feed shows down,
// comes back, asks the poll to reconcile, and every record produced before
// and after reaches the model.
func TestBrokerRestartLosesNothing(t *testing.T) {
	requireKcat(t)
	k := feedtest.StartKafka(t, map[string]int32{"restart": 2})
	rig := feedtest.NewRig(t)
	cfg := validated(t, oracleConfig(k, "restart"))
	recovered := make(chan struct{}, 10)
	rig.StartFeed(t, cfg, oracle.New(cfg.Oracle, cfg.ProbeInterval, nil), feed.Options{OnRecover: func() { recovered <- struct{}{} }})
	state := func(s model.FeedState) func() bool {
		return func() bool { return rig.Store.Snapshot().Health().Feed.State == s }
	}
	feedtest.WaitFor(t, 60*time.Second, "feed connected", state(model.FeedConnected))
	at := time.Now().Truncate(time.Millisecond)
	before, want := tagRecords(rig, 100, "before", at)
	k.Produce(t, "restart", before...)
	k.Stop()
	feedtest.WaitFor(t, 60*time.Second, "feed down", state(model.FeedDown))
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 60*time.Second, "feed connected again", state(model.FeedConnected))
	select {
	case <-recovered:
	case <-time.After(10 * time.Second):
		t.Error("the poll was not asked to reconcile after the recovery")
	}
	after, wantAfter := tagRecords(rig, 200, "after", at.Add(time.Second))
	k.Produce(t, "restart", after[100:]...)
	for id, v := range wantAfter {
		if _, ok := want[id]; !ok {
			want[id] = v
		}
	}
	feedtest.WaitFor(t, 90*time.Second, "every record before and after the restart applied", func() bool { return missing(rig.Store, want) == 0 })
}

// multi records what several members of one group delivered, by record
// and by member.
type multi struct {
	mu       sync.Mutex
	seen     map[string]int
	byMember map[int]int
}

func (m *multi) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.seen) }

// member is one group member recording into m.
type member struct {
	m  *multi
	id int
}

func (r member) Deliver(_ context.Context, msgs ...feed.Message) error {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	for _, msg := range msgs {
		r.m.seen[string(msg.Data)]++
	}
	r.m.byMember[r.id] += len(msgs)
	return nil
}
func (member) Connected()         {}
func (member) Disconnected(error) {}

// TestRebalanceLosesNothing: a second member joins the group mid-stream and
// the first leaves: the partitions move twice and every record is delivered
// (at least once) by one member or the other.
func TestRebalanceLosesNothing(t *testing.T) {
	requireKcat(t)
	k := feedtest.StartKafka(t, map[string]int32{"rebalance": 4})
	cfg := validated(t, oracleConfig(k, "rebalance"))
	all := &multi{seen: map[string]int{}, byMember: map[int]int{}}
	run := func(id int) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- oracle.New(cfg.Oracle, cfg.ProbeInterval, nil).Receive(ctx, "", member{all, id}) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	batch := func(from, n int) {
		var recs [][]byte
		for i := from; i < from+n; i++ {
			recs = append(recs, []byte(fmt.Sprintf(`{"name":"tagpoint_updated","data":{"tagId":"t%d","value":"%d"}}`, i, i)))
		}
		k.Produce(t, "rebalance", recs...)
	}
	stopFirst := run(1)
	batch(0, 200)
	stopSecond := run(2)
	batch(200, 200)
	feedtest.WaitFor(t, 60*time.Second, "the records before the first leaves", func() bool { return all.count() >= 300 })
	stopFirst()
	batch(400, 200)
	feedtest.WaitFor(t, 90*time.Second, "every record delivered", func() bool { return all.count() == 600 })
	stopSecond()
	all.mu.Lock()
	defer all.mu.Unlock()
	if all.byMember[1] == 0 || all.byMember[2] == 0 {
		t.Errorf("deliveries by member %v: the partitions did not move", all.byMember)
	}
}

// TestWrongToken: a wrong auth token fails the connection (the Feed
// retries with backoff); neither the error nor the log (franz-go's
// warnings included) carries the token or the user.
func TestWrongToken(t *testing.T) {
	k := feedtest.StartKafka(t, map[string]int32{"auth": 1})
	cfg := oracleConfig(k, "auth")
	cfg.Oracle.AuthToken = "wrong-secret-token"
	cfg = validated(t, cfg)
	rec := &feedtest.Recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logs := &svctest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	err := oracle.New(cfg.Oracle, cfg.ProbeInterval, log).Receive(ctx, "", rec)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Receive with a wrong token: %v", err)
	}
	for _, secret := range []string{"wrong-secret-token", k.User} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("%q in the error %v or the log:\n%s", secret, err, logs.String())
		}
	}
	if c, _ := rec.Connections(); c != 0 {
		t.Errorf("reported connected %d times", c)
	}
}

// TestUnknownStream: a stream the broker does not hold fails the
// connection with an error naming it, instead of a consumer that says
// connected and never receives anything.
func TestUnknownStream(t *testing.T) {
	k := feedtest.StartKafka(t, map[string]int32{"present": 1})
	cfg := validated(t, oracleConfig(k, "absent"))
	rec := &feedtest.Recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := oracle.New(cfg.Oracle, cfg.ProbeInterval, nil).Receive(ctx, "", rec)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), `stream "absent"`) || !strings.Contains(err.Error(), "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Fatalf("Receive of a missing stream: %v", err)
	}
	if c, _ := rec.Connections(); c != 0 {
		t.Errorf("reported connected %d times", c)
	}
}

func TestStreamFromSubscriptionName(t *testing.T) {
	c := oracle.New(feed.OracleConfig{}, 0, nil)
	if s, err := c.Stream("smartview-feed-1"); err != nil || s != "smartview-feed-1" {
		t.Errorf("%q %v", s, err)
	}
	if _, err := c.Stream("projects/x/subscriptions/y"); err == nil || !strings.Contains(err.Error(), "feed.oracle.stream") {
		t.Errorf("a Google name: %v", err)
	}
}
