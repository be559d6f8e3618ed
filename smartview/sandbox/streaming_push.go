// This file pushes the v2 streaming API's messages as SmartView would: to a
// WEBHOOK channel's URL (HTTPS POST of a JSON array of at most batchSize
// messages, retried numberOfRetries times, trusting the sslCertificate the
// subscription offered), and to an MQTT broker for an AWS_IOT_CORE channel
// (the sandbox cannot reach AWS: it publishes to the broker its
// [sandbox.stream] configuration names, with a client certificate). The
// fault switches apply to each delivery attempt as to API requests: a drawn
// error status fails the attempt, latency delays it, and a malformed draw
// sends a body cut short.

package sandbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// StreamConfig is [sandbox.stream]: where the sandbox pushes v2 messages.
type StreamConfig struct {
	// MQTTBroker is the MQTT broker an AWS_IOT_CORE channel's messages are
	// published to, "ssl://HOST:PORT" (default: none; AWS_IOT_CORE
	// subscriptions are then accepted but not delivered).
	MQTTBroker string `toml:"mqtt_broker"`
	// MQTTCertFile, MQTTKeyFile and MQTTCAFile are the publisher's client
	// certificate and key and the broker's CA, PEM.
	MQTTCertFile string `toml:"mqtt_cert_file"`
	MQTTKeyFile  string `toml:"mqtt_key_file"`
	MQTTCAFile   string `toml:"mqtt_ca_file"`
	// MQTTTopic is the topic published to; "{id}" is replaced by the
	// subscription id (default "smartview/v2/{id}").
	MQTTTopic string `toml:"mqtt_topic"`
	// WebhookCAFile adds CAs trusted for webhook URLs besides the
	// sslCertificate a subscription offers.
	WebhookCAFile string `toml:"webhook_ca_file"`
}

func (c *StreamConfig) validate() []error {
	var errs []error
	if c.MQTTTopic == "" {
		c.MQTTTopic = "smartview/v2/{id}"
	}
	if c.MQTTBroker != "" && DialMQTT == nil {
		errs = append(errs, errors.New("sandbox.stream.mqtt_broker: no MQTT client in this binary (built with svgateway_noawsiot)"))
	}
	if c.MQTTBroker != "" {
		if !strings.HasPrefix(c.MQTTBroker, "ssl://") && !strings.HasPrefix(c.MQTTBroker, "tls://") && !strings.HasPrefix(c.MQTTBroker, "mqtts://") {
			errs = append(errs, fmt.Errorf("sandbox.stream.mqtt_broker: %q is not ssl://HOST:PORT", c.MQTTBroker))
		}
		if _, err := tls.LoadX509KeyPair(c.MQTTCertFile, c.MQTTKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("sandbox.stream.mqtt_cert_file: with mqtt_key_file: %w", err))
		}
	}
	for key, f := range map[string]string{"mqtt_ca_file": c.MQTTCAFile, "webhook_ca_file": c.WebhookCAFile} {
		if f == "" {
			continue
		}
		if b, err := os.ReadFile(f); err != nil {
			errs = append(errs, fmt.Errorf("sandbox.stream.%s: %w", key, err))
		} else if !x509.NewCertPool().AppendCertsFromPEM(b) {
			errs = append(errs, fmt.Errorf("sandbox.stream.%s: %s holds no PEM certificate", key, f))
		}
	}
	return errs
}

// MQTTPublisher is an MQTT session the sandbox publishes AWS_IOT_CORE
// messages on (QoS 1).
type MQTTPublisher interface {
	Publish(topic string, payload []byte) error
	Connected() bool
	Close()
}

// DialMQTT opens the publisher's session to [sandbox.stream] mqtt_broker with
// its client certificate. The sandbox links no MQTT client itself: the
// binary sets it where the aws_iot_core provider is compiled in (the
// awsiot package's DialPublisher); nil leaves AWS_IOT_CORE subscriptions
// undelivered, and a configured mqtt_broker is then an error.
var DialMQTT func(cfg StreamConfig) (MQTTPublisher, error)

// StreamStats returns the v2 push counters.
func (s *Server) StreamStats() StreamStats {
	s.stream.mu.Lock()
	defer s.stream.mu.Unlock()
	return s.stream.stats
}

// ReplayStream queues every retained message of subscription id for its
// push channel again, as a SmartView redelivery or replay would; it returns
// how many were queued.
func (s *Server) ReplayStream(id string) (int, error) {
	st := &s.stream
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, sub := range st.subs {
		if sub.ID != id {
			continue
		}
		if sub.Channel == nil || sub.Channel.ChannelType == "AZURE" {
			return 0, fmt.Errorf("subscription %q has no push channel (WEBHOOK, AWS_IOT_CORE): %w", id, errBadRequest)
		}
		n := 0
		for i := range st.messages {
			if sub.wants(&st.messages[i]) {
				sub.pending = append(sub.pending, st.messages[i].data)
				n++
			}
		}
		select {
		case st.wake <- struct{}{}:
		default:
		}
		return n, nil
	}
	return 0, fmt.Errorf("subscription %q: %w", id, ErrNotFound)
}

// RunPush delivers queued messages to the subscriptions' push channels
// until ctx is done. Serve runs it; a test serving Handler itself runs it.
func (s *Server) RunPush(ctx context.Context) {
	p := &pusher{s: s, clients: map[string]*http.Client{}}
	defer p.close()
	for {
		for p.pushOnce(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-s.stream.wake:
		}
	}
}

type pusher struct {
	s       *Server
	clients map[string]*http.Client // by sslCertificate
	mqtt    MQTTPublisher
}

func (p *pusher) close() {
	if p.mqtt != nil {
		p.mqtt.Close()
	}
}

// pushOnce delivers one batch of one subscription; false when none was pending.
func (p *pusher) pushOnce(ctx context.Context) bool {
	st := &p.s.stream
	st.mu.Lock()
	var sub streamSubscription
	var batch [][]byte
	for _, x := range st.subs {
		if len(x.pending) == 0 {
			continue
		}
		size := 1
		if x.Channel.Webhook != nil && x.Channel.ChannelType == "WEBHOOK" {
			size = x.Channel.Webhook.BatchSize
			if size <= 0 {
				size = 10
			}
		}
		size = min(size, len(x.pending))
		batch = append(batch, x.pending[:size]...)
		x.pending = x.pending[size:]
		sub = *x
		break
	}
	st.mu.Unlock()
	if batch == nil || ctx.Err() != nil {
		return false
	}
	switch sub.Channel.ChannelType {
	case "WEBHOOK":
		p.webhook(ctx, &sub, batch)
	case "AWS_IOT_CORE":
		p.publish(&sub, batch)
	}
	return true
}

// webhook posts batch to the subscription's URL, retrying numberOfRetries times.
func (p *pusher) webhook(ctx context.Context, sub *streamSubscription, batch [][]byte) {
	wh := sub.Channel.Webhook
	body := append([]byte{'['}, bytes.Join(batch, []byte{','})...)
	body = append(body, ']')
	retries := wh.NumberOfRetries
	if retries <= 0 {
		retries = 3
	}
	client, err := p.client(wh.SSLCertificate)
	if err != nil {
		p.s.log.Warn("sandbox webhook: bad sslCertificate; batch dropped", "subscription", sub.ID, "err", err)
		p.count(func(st *StreamStats) { st.WebhookFailed++ })
		return
	}
	p.count(func(st *StreamStats) { st.WebhookBatches++ })
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(100<<min(attempt, 6)) * time.Millisecond):
			}
		}
		p.count(func(st *StreamStats) { st.WebhookAttempts++ })
		send := body
		fault := p.s.faults.draw()
		if fault.latency > 0 {
			time.Sleep(fault.latency)
		}
		if fault.status != 0 {
			p.s.stats.fault("push " + fmt.Sprint(fault.status))
			continue // as if the delivery had failed on the way
		}
		if p.s.faults.malformedPush() {
			p.s.stats.fault("push malformed")
			send = body[:len(body)/2]
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(send))
		if err != nil {
			break
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "smartview-sandbox-webhook/1")
		rep, err := client.Do(req)
		if err == nil {
			rep.Body.Close()
			if rep.StatusCode/100 == 2 {
				return
			}
			err = fmt.Errorf("HTTP %d", rep.StatusCode)
		}
		p.s.log.Debug("sandbox webhook attempt failed", "subscription", sub.ID, "attempt", attempt+1, "err", err)
	}
	p.count(func(st *StreamStats) { st.WebhookFailed++ })
	p.s.log.Warn("sandbox webhook delivery failed after retries; batch dropped", "subscription", sub.ID, "messages", len(batch))
}

// client returns an HTTPS client trusting the offered certificate (base64 of
// PEM, or of DER) and [sandbox.stream] webhook_ca_file.
func (p *pusher) client(offered string) (*http.Client, error) {
	if c, ok := p.clients[offered]; ok {
		return c, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if f := p.s.cfg.Stream.WebhookCAFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pool.AppendCertsFromPEM(b)
	}
	if offered != "" {
		raw, err := base64.StdEncoding.DecodeString(offered)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(raw) {
			cert, err := x509.ParseCertificate(raw)
			if err != nil {
				return nil, errors.New("sslCertificate is neither PEM nor DER")
			}
			pool.AddCert(cert)
		}
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	p.clients[offered] = c
	return c, nil
}

// publish publishes each message of batch to the configured broker, QoS 1.
func (p *pusher) publish(sub *streamSubscription, batch [][]byte) {
	cfg := &p.s.cfg.Stream
	if cfg.MQTTBroker == "" || DialMQTT == nil {
		return // nowhere to publish: as if AWS were out of reach
	}
	if p.mqtt == nil || !p.mqtt.Connected() {
		if p.mqtt != nil {
			p.mqtt.Close()
		}
		c, err := DialMQTT(*cfg)
		if err != nil {
			p.count(func(st *StreamStats) { st.MQTTFailed += len(batch) })
			p.s.log.Warn("sandbox mqtt: cannot connect; messages dropped", "broker", cfg.MQTTBroker, "err", err)
			return
		}
		p.mqtt = c
	}
	topic := strings.ReplaceAll(cfg.MQTTTopic, "{id}", sub.ID)
	for _, m := range batch {
		if p.s.faults.malformedPush() {
			p.s.stats.fault("push malformed")
			m = m[:len(m)/2]
		}
		if err := p.mqtt.Publish(topic, m); err != nil {
			p.count(func(st *StreamStats) { st.MQTTFailed++ })
			continue
		}
		p.count(func(st *StreamStats) { st.MQTTPublished++ })
	}
}

func (p *pusher) count(f func(*StreamStats)) {
	p.s.stream.mu.Lock()
	f(&p.s.stream.stats)
	p.s.stream.mu.Unlock()
}

// malformedPush draws the malformed fault for one pushed delivery.
func (fi *faultInjector) malformedPush() bool {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.f.Malformed > 0 && fi.rng.Float64() < fi.f.Malformed
}

// The v2 streaming API's admin endpoints:
//
//	GET  /_sandbox/stream                 StreamStats
//	POST /_sandbox/stream/replay?id=ID    queue every retained message of subscription ID for
//	                                      its push channel again (a replay)
func init() {
	adminIndex = append(adminIndex, "GET /_sandbox/stream", "POST /_sandbox/stream/replay?id=ID")
	adminRoutes = append(adminRoutes,
		adminRoute{http.MethodGet, "/_sandbox/stream", func(s *Server, _ *http.Request) (any, error) { return s.StreamStats(), nil }},
		adminRoute{http.MethodPost, "/_sandbox/stream/replay", func(s *Server, r *http.Request) (any, error) {
			n, err := s.ReplayStream(r.URL.Query().Get("id"))
			return map[string]int{"queued": n}, err
		}})
}
