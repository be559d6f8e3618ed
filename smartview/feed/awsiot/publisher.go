// This file is the MQTT publisher the built-in sandbox uses to play
// SmartView's AWS_IOT_CORE channel (sandbox.DialMQTT): the same Paho client
// and TLS client-certificate set-up as the consumer, publishing QoS 1.

package awsiot

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/svgateway/svgateway/smartview/sandbox"
)

type publisher struct{ c mqtt.Client }

// DialPublisher connects to cfg's mqtt_broker with its client certificate.
func DialPublisher(cfg sandbox.StreamConfig) (sandbox.MQTTPublisher, error) {
	cert, err := tls.LoadX509KeyPair(cfg.MQTTCertFile, cfg.MQTTKeyFile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.MQTTCAFile != "" {
		b, err := os.ReadFile(cfg.MQTTCAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(b)
	}
	opts := mqtt.NewClientOptions().AddBroker(cfg.MQTTBroker).SetClientID(fmt.Sprintf("smartview-sandbox-%d", os.Getpid())).
		SetTLSConfig(tc).SetAutoReconnect(false).SetConnectTimeout(10 * time.Second).SetCleanSession(true)
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	return publisher{c}, nil
}

func (p publisher) Publish(topic string, payload []byte) error {
	tok := p.c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("publish timed out")
	}
	return tok.Error()
}

func (p publisher) Connected() bool { return p.c.IsConnectionOpen() }

func (p publisher) Close() { p.c.Disconnect(250) }
