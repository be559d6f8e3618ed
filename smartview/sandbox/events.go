package sandbox

import (
	"sync"
	"sync/atomic"
)

// Feed events. Every change the simulation or an admin call makes is published as one event in
// the reference's near-real-time format, to every subscriber:
//
//	{"name":"alarm_updated","alarm":{…}}         lowercase alarm object, integer severity
//	{"name":"alert_updated","alert":{…}}         Alert object (alerts exist only in the feed)
//	{"name":"tagpoint_updated","data":{…}}       TagPointData
//	{"name":"power_updated","data":{…}}          PowerData
//	{"name":"environment_updated","data":{…}}    EnvironmentData
//
// Events are encoded only while someone subscribes. A subscriber that does not keep up loses
// events (counted per subscriber) and never slows the simulation.

const (
	maxSubscribers    = 64
	defaultFeedBuffer = 256
	maxFeedBuffer     = 1 << 16
)

type eventHub struct {
	mu        sync.Mutex
	subs      []*feedSubscriber
	nextID    int
	count     atomic.Int32 // len(subs), read without the lock
	published atomic.Int64
}

type feedSubscriber struct {
	id        int
	ch        chan []byte
	delivered int64
	dropped   int64
}

func (h *eventHub) active() bool { return h.count.Load() > 0 }

// publish hands ev to every subscriber that has room; it never blocks.
func (h *eventHub) publish(ev []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.published.Add(1)
	for _, sub := range h.subs {
		select {
		case sub.ch <- ev:
			sub.delivered++
		default:
			sub.dropped++
		}
	}
}

func (h *eventHub) stats() (published int64, subs []SubscriberStats) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sub := range h.subs {
		subs = append(subs, SubscriberStats{ID: sub.id, Buffer: cap(sub.ch), Delivered: sub.delivered, Dropped: sub.dropped})
	}
	return h.published.Load(), subs
}

// Subscribe returns a channel of feed events, each value one event's JSON (shared between
// subscribers: read it, do not modify it), and a function that
// ends the subscription and closes the channel. buffer is the channel's capacity (default 256,
// at most 65536); when it is full further events are dropped for this subscriber and counted
// in Stats. At most 64 subscribers: beyond that the channel comes back closed.
func (s *Server) Subscribe(buffer int) (events <-chan []byte, cancel func()) {
	if buffer <= 0 {
		buffer = defaultFeedBuffer
	}
	buffer = min(buffer, maxFeedBuffer)
	h := &s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= maxSubscribers {
		s.log.Warn("feed subscription refused: too many subscribers", "max", maxSubscribers)
		ch := make(chan []byte)
		close(ch)
		return ch, func() {}
	}
	h.nextID++
	sub := &feedSubscriber{id: h.nextID, ch: make(chan []byte, buffer)}
	h.subs = append(h.subs, sub)
	h.count.Store(int32(len(h.subs)))
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			for i, x := range h.subs {
				if x == sub {
					h.subs = append(h.subs[:i], h.subs[i+1:]...)
					break
				}
			}
			h.count.Store(int32(len(h.subs)))
			close(sub.ch)
		})
	}
}

// Event encoders; called with s.mu held.

func newEvent(name, member string) *jsonWriter {
	w := &jsonWriter{b: make([]byte, 0, 512)}
	w.objectStart()
	w.str("name", name)
	w.key(member)
	return w
}

func (s *Server) emit(w *jsonWriter) {
	w.objectEnd()
	s.hub.publish(w.b)
}

func (s *Server) emitTag(ti int32) {
	s.streamTag(ti)
	if !s.hub.active() {
		return
	}
	w := newEvent("tagpoint_updated", "data")
	writeTag(w, &s.fp.tags[ti], true)
	s.emit(w)
}

func (s *Server) emitAlarm(a *alarm) {
	s.streamAlarm(a)
	if !s.hub.active() {
		return
	}
	w := newEvent("alarm_updated", "alarm")
	s.writeFeedAlarm(w, a)
	s.emit(w)
	w = newEvent("alert_updated", "alert")
	s.writeAlert(w, a)
	s.emit(w)
}

func (s *Server) emitPower(level levelType, i int32) {
	s.streamLevel(true, level, i)
	s.emitLevel("power_updated", (*Server).writePower, level, i)
}

func (s *Server) emitClimate(level levelType, i int32) {
	s.streamLevel(false, level, i)
	s.emitLevel("environment_updated", (*Server).writeClimate, level, i)
}

func (s *Server) emitLevel(name string, write levelWriter, level levelType, i int32) {
	if !s.hub.active() {
		return
	}
	w := newEvent(name, "data")
	write(s, w, level, i, true)
	s.emit(w)
}
