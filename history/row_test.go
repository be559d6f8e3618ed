package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/svgateway/svgateway/model"
)

// writeLegacy writes samples as stores written before rows hold them: an
// entry per field keyed time + FIELD, the value encoded alone.
func writeLegacy(t *testing.T, s *Store, batch map[string][]Sample) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		for key, samples := range batch {
			name, field := splitKey(key)
			b, err := tx.Bucket(rootBucket).CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			for _, smp := range samples {
				v := make([]byte, encodedLen(smp.Value))
				encodeInto(v, smp.Value, smp.Quality)
				if err := b.Put(append(timeKey(smp.Time), field...), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// values renders a series' samples as "minute=value" for comparison.
func values(t *testing.T, s *Store, key string) string {
	t.Helper()
	got, _, err := s.Read(key, Query{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, smp := range got {
		out += fmt.Sprintf("%d=%s ", int(smp.Time.Sub(t0)/time.Minute), smp.Value.String())
	}
	return out
}

func num(at time.Time, v float64) Sample {
	return Sample{Time: at, Value: model.Number(v), Quality: model.QualityGood}
}

func minute(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// rawKeys counts the entries of an entity's bucket at minute i that are in
// the per-field layout (key longer than the time), once the log is merged.
func rawKeys(t *testing.T, s *Store, entity string, i int) (rows, perField int) {
	t.Helper()
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	tk := timeKey(minute(i))
	_ = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(rootBucket).Bucket([]byte(entity)).Cursor()
		for k, _ := c.Seek(tk); k != nil && string(k[:8]) == string(tk); k, _ = c.Next() {
			if len(k) == 8 {
				rows++
			} else {
				perField++
			}
		}
		return nil
	})
	return rows, perField
}

// TestLegacyEntries: a file written before rows (an entry per field) is
// read as it was, and writing at one of its times merges its entries into a
// row without losing or duplicating a sample; Append still replaces,
// Backfill still only adds, counts stay samples.
func TestLegacyEntries(t *testing.T) {
	c := &clock{t0.Add(10 * time.Minute)}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, c, Options{})
	const loc = "l/IB01:CIRCUIT:C1"
	kva, kw, sold, tag := loc+"#KVA", loc+"#KW", loc+"#SoldKVA", "t/IB01.UPS-1:tag0"
	writeLegacy(t, s, map[string][]Sample{
		kva:  {num(minute(0), 0), num(minute(1), 1), num(minute(2), 2), num(minute(3), 3), num(minute(4), 4)},
		kw:   {num(minute(0), 10), num(minute(1), 11), num(minute(2), 12), num(minute(3), 13), num(minute(4), 14)},
		sold: {num(minute(0), 50)},
		tag:  {num(minute(0), 7), num(minute(2), 8)},
	})
	check := func(key, want string) {
		t.Helper()
		if got := values(t, s, key); got != want {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}
	check(kva, "0=0 1=1 2=2 3=3 4=4 ")
	check(sold, "0=50 ")
	if smp, ok, _ := s.Nearest(sold, minute(4), true); !ok || !smp.Time.Equal(minute(0)) || smp.Value.Num != 50 {
		t.Errorf("Nearest before of a legacy series: %+v %v", smp, ok)
	}
	if smp, ok, _ := s.Nearest(kw, minute(2).Add(time.Second), false); !ok || !smp.Time.Equal(minute(3)) {
		t.Errorf("Nearest after of a legacy series: %+v %v", smp, ok)
	}

	// A correction at a legacy time, and a new time.
	if err := s.Append(map[string][]Sample{kva: {num(minute(2), 99)}, kw: {num(minute(5), 15)}, kva + "x": {num(minute(5), 1)}, tag: {num(minute(5), 9)}}); err != nil {
		t.Fatal(err)
	}
	check(kva, "0=0 1=1 2=99 3=3 4=4 ")
	check(kw, "0=10 1=11 2=12 3=13 4=14 5=15 ")
	check(tag, "0=7 2=8 5=9 ")
	if rows, perField := rawKeys(t, s, loc, 2); rows != 1 || perField != 0 {
		t.Errorf("minute 2 after the correction: %d rows, %d per-field entries; want the fields merged into 1 row", rows, perField)
	}
	if rows, perField := rawKeys(t, s, loc, 3); rows != 0 || perField != 2 {
		t.Errorf("minute 3 (not written again): %d rows, %d per-field entries; want 0, 2", rows, perField)
	}

	// Backfill adds only what a time does not hold, legacy or row.
	ctx := context.Background()
	if n, err := s.Backfill(ctx, kw, []Sample{num(minute(2), -1), num(minute(3), -1), num(minute(5), -1)}); err != nil || n != 0 {
		t.Errorf("backfill over held samples added %d (%v)", n, err)
	}
	if n, err := s.Backfill(ctx, sold, []Sample{num(minute(2), 51), num(minute(3), 52), num(minute(6), 53)}); err != nil || n != 3 {
		t.Errorf("backfill of new samples added %d (%v), want 3", n, err)
	}
	check(sold, "0=50 2=51 3=52 6=53 ")
	check(kw, "0=10 1=11 2=12 3=13 4=14 5=15 ")
	check(kva, "0=0 1=1 2=99 3=3 4=4 ")

	// Counts are samples, whatever the entries hold.
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 + 6 + 4 + 1 + 3; st.Samples != want || st.Entities != 2 {
		t.Errorf("stats: %d samples in %d entities, want %d in 2", st.Samples, st.Entities, want)
	}

	// Reopened, the field ids are read back.
	s.Close()
	s = open(t, path, c, Options{})
	check(sold, "0=50 2=51 3=52 6=53 ")
	check(kva+"x", "5=1 ")
	if !s.Has(kva+"x") || s.Has(loc+"#Amps") {
		t.Error("Has after reopening")
	}

	if n, err := s.DropAfter(minute(4)); err != nil || n != 4 { // KW, KVAx, tag at 5; SoldKVA at 6
		t.Errorf("DropAfter dropped %d (%v), want 4", n, err)
	}
	c.now = minute(2).Add(s.Retention())
	if n, err := s.Prune(context.Background()); err != nil || n != 2+2+1+1 { // KVA, KW at 0 and 1; SoldKVA and the tag at 0
		t.Errorf("Prune dropped %d (%v), want 6", n, err)
	}
	check(kva, "2=99 3=3 4=4 ")
	check(sold, "2=51 3=52 ")
}

// TestRowMerge: fields of one entity written at one time in separate
// batches share a row; a field written again at that time replaces its
// value only; the field "" of a bucket and a named field at one time both
// stay readable.
func TestRowMerge(t *testing.T) {
	c := &clock{t0.Add(10 * time.Minute)}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{})
	const loc = "l/IB01:CAGE:X"
	steps := []map[string][]Sample{
		{loc + "#KVA": {num(minute(1), 1)}, loc + "#KW": {num(minute(1), 2)}},
		{loc + "#Temperature": {num(minute(1), 20)}},
		{loc + "#KW": {num(minute(1), 3), num(minute(2), 4)}},
		{"k": {num(minute(1), 5)}},
		{"k#x": {num(minute(1), 6)}},
		{"k": {num(minute(1), 7), num(minute(1), 8)}}, // the later of two at one time wins
	}
	for _, b := range steps {
		if err := s.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range map[string]string{
		loc + "#KVA": "1=1 ", loc + "#KW": "1=3 2=4 ", loc + "#Temperature": "1=20 ", "k": "1=8 ", "k#x": "1=6 ",
	} {
		if got := values(t, s, key); got != want {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}
	if rows, perField := rawKeys(t, s, loc, 1); rows != 1 || perField != 0 {
		t.Errorf("minute 1: %d rows, %d per-field entries; want 1 row", rows, perField)
	}
	if n, err := s.Backfill(context.Background(), "k", []Sample{num(minute(1), 0), num(minute(3), 9)}); err != nil || n != 1 {
		t.Errorf("backfill added %d (%v), want 1", n, err)
	}
	if got := values(t, s, "k"); got != "1=8 3=9 " {
		t.Errorf("k after backfill: %q", got)
	}
}
