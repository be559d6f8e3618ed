// Package history is svgateway's record of values over time: every reading
// the model commits (power and environment per location, tag points, the
// gateway's own connection states) is appended, as it arrives, to an
// embedded on-disk store under state_dir, so OPC UA HistoryRead can answer
// for a time range after the fact and a restart loses nothing already
// written.
//
// A series is named by a key built from the model's identities (see
// [LocationKey], [TagKey], [HealthKey]) and holds [Sample]s ordered by source
// time; one sample per (key, source time). [Recorder] feeds the store from
// the model's change stream, on change: a reading equal (value and quality)
// to the last one recorded for its series is not stored again. The store is
// bounded twice: samples older than
// the retention are dropped, and while the data outgrows the size cap the
// oldest samples of every series are dropped first.
//
// Backfill. [Store.Backfill] inserts samples that were never recorded (a gap
// after an outage, filled later from upstream's trending endpoints). It is
// idempotent by (key, source time): a sample whose time the series already
// holds is skipped, whether it was recorded live or backfilled before, so
// calling it twice with overlapping ranges stores each reading once; samples
// older than the retention are skipped too. It returns how many samples it
// added.
//
// The store is bbolt (go.etcd.io/bbolt): one file, pure Go, ACID with
// fsync'd commits, B+tree pages reused after deletion, maintained by the
// etcd project. An entity (a location, a tag, the gateway) is a bucket keyed
// by big-endian time, one row per time holding every field recorded then,
// so the values a sync cycle updates together are one element on one page,
// and a range read is one cursor walk in either direction. Files written
// before rows (an entry per time and field) are read as they are. In front
// of the rows, a log (log.go): Append writes a batch there in one
// sequential write, and a merge every few minutes moves it into the rows,
// each entity's page rewritten once per merge; every read sees the log's
// samples as if they were merged.
//
// This package depends only on model. It must not know OPC UA (the opcua
// package turns samples into DataValues) nor the SmartView API (callers of
// Backfill translate trending responses into samples), and it must never
// block the model's writer: the recorder reads the change stream at its own
// pace and is told by a Resync delta when it fell behind.
package history
