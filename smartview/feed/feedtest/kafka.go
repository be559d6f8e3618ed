package feedtest

// A Kafka-protocol broker for the oracle provider's tests: OCI Streaming's
// Kafka API is stood in for by franz-go's kfake cluster, in the test's own
// process on loopback, with SASL/PLAIN over TLS as OCI requires. Records
// are produced by Debian's kcat (librdkafka), an independent client, never
// by the project's own code.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/svgateway/svgateway/internal/svctest"
)

// Kafka is one kfake broker on 127.0.0.1 that keeps its log and group
// offsets in a directory, so Stop and Start are a broker restart that
// loses nothing it acknowledged.
type Kafka struct {
	Addr     string // host:port of the broker
	CAFile   string // PEM of the CA that signed the broker's certificate
	User     string // SASL/PLAIN user
	Password string // SASL/PLAIN password (the OCI auth token)

	dir    string
	port   int
	tls    *tls.Config
	topics map[string]int32

	mu       sync.Mutex
	cluster  *kfake.Cluster
	versions *kmsg.ApiVersionsResponse // kfake's own, as read at the first start
}

// StartKafka starts a broker with the given topics (name → partitions) and
// stops it when the test ends.
func StartKafka(t testing.TB, topics map[string]int32) *Kafka {
	t.Helper()
	port, err := svctest.FreePort("tcp")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tlsCfg, caPEM, err := brokerTLS()
	if err != nil {
		t.Fatal(err)
	}
	k := &Kafka{Addr: fmt.Sprintf("127.0.0.1:%d", port), CAFile: filepath.Join(dir, "ca.pem"),
		User: "tenancy/svgateway-test/ocid1.streampool.oc1.test", Password: "auth-token-for-tests",
		dir: filepath.Join(dir, "data"), port: port, tls: tlsCfg, topics: topics}
	if err := os.WriteFile(k.CAFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	return k
}

// Start starts the broker (again) on its address with what it held.
func (k *Kafka) Start() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cluster != nil {
		return nil
	}
	opts := []kfake.Opt{kfake.Ports(k.port), kfake.TLS(k.tls), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", k.User, k.Password), kfake.DataDir(k.dir), kfake.ClusterID("svgateway-test")}
	for name, parts := range k.topics {
		opts = append(opts, kfake.SeedTopics(parts, name))
	}
	var err error
	// The port can take a moment to be free again after a Stop.
	for range 50 {
		if k.cluster, err = kfake.NewCluster(opts...); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("kfake on %s: %w", k.Addr, err)
	}
	return k.advertiseHandshakeV0()
}

// advertiseHandshakeV0 makes the broker advertise SaslHandshake v0–v1, as
// Kafka and OCI Streaming do, instead of kfake's v1 only: librdkafka (kcat)
// authenticates only with a broker that lists v0 (it then speaks v1, which
// kfake serves). Every other key stays as kfake advertises it: its own
// ApiVersions answer, read once through franz-go, is replayed with that one
// change (a kfake control function, kept for every request).
func (k *Kafka) advertiseHandshakeV0() error {
	if k.versions == nil {
		ca, err := os.ReadFile(k.CAFile)
		if err != nil {
			return err
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(ca)
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Addr), kgo.DialTLSConfig(&tls.Config{RootCAs: roots}),
			kgo.SASL(plain.Auth{User: k.User, Pass: k.Password}.AsMechanism()))
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
		if err != nil {
			return fmt.Errorf("kfake's ApiVersions: %w", err)
		}
		for i := range resp.ApiKeys {
			if resp.ApiKeys[i].ApiKey == kmsg.SASLHandshake.Int16() {
				resp.ApiKeys[i].MinVersion = 0
			}
		}
		k.versions = resp
	}
	c := k.cluster
	c.ControlKey(kmsg.ApiVersions.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		resp := *k.versions
		resp.Version = req.GetVersion()
		if resp.Version > k.versions.Version {
			return nil, nil, false // kfake answers what it does not serve
		}
		return &resp, nil, true
	})
	return nil
}

// Stop stops the broker; its log and offsets are written to disk.
func (k *Kafka) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cluster != nil {
		k.cluster.Close()
		k.cluster = nil
	}
}

// Produce sends each record (one line each, without newlines) to topic
// with kcat over SASL/PLAIN and TLS, and waits until the broker
// acknowledged them all (bounded: 60s). The test is skipped when kcat is
// not installed and SVGATEWAY_E2E is not set, failed when it is.
func (k *Kafka) Produce(t testing.TB, topic string, records ...[]byte) {
	t.Helper()
	kcat, err := KcatPath()
	if err != nil {
		if os.Getenv("SVGATEWAY_E2E") != "1" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	var in bytes.Buffer
	for _, r := range records {
		if bytes.ContainsAny(r, "\n") {
			t.Fatalf("a record with a newline cannot be produced line by line: %q", r)
		}
		in.Write(r)
		in.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, append(k.KcatArgs(t), "-P", "-t", topic, "-c", fmt.Sprint(len(records)))...)
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil || bytes.Contains(out, []byte("ERROR")) {
		t.Fatalf("kcat producing %d records to %s: %v\n%s", len(records), topic, err, out)
	}
}

// Producer is one kcat -P process kept running: each Send is a line on its
// standard input, produced at once (linger.ms=0, the line padded to kcat's
// read size). For latency benchmarks,
// where starting kcat per record would be measured.
type Producer struct {
	in   io.WriteCloser
	cmd  *exec.Cmd
	out  *svctest.Buffer
	done chan struct{}
}

// StartProducer starts kcat producing to topic until the test ends (its
// standard input is then closed: kcat flushes and exits, bounded: 30s).
func (k *Kafka) StartProducer(t testing.TB, topic string) *Producer {
	t.Helper()
	kcat, err := KcatPath()
	if err != nil {
		if os.Getenv("SVGATEWAY_E2E") != "1" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	p := &Producer{cmd: exec.Command(kcat, append(k.KcatArgs(t), "-P", "-t", topic, "-X", "linger.ms=0")...),
		out: &svctest.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.in.Close()
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Output is what kcat printed.
func (p *Producer) Output() string { return p.out.String() }

// kcatReadSize is how kcat reads its input: fread of 1024 bytes (Debian's
// kcat 1.7.1; measured: 512 bytes of lines stay unproduced, 1024 go at
// once), which blocks until all arrive, so a shorter line waits for the
// next ones.
const kcatReadSize = 1024

// Send writes one record (JSON, without newlines) to kcat, padded with
// spaces (insignificant after JSON) to a multiple of kcat's read size so
// kcat produces it at once.
func (p *Producer) Send(t testing.TB, record []byte) {
	t.Helper()
	line := append([]byte(nil), record...)
	for (len(line)+1)%kcatReadSize != 0 {
		line = append(line, ' ')
	}
	if _, err := p.in.Write(append(line, '\n')); err != nil {
		t.Fatalf("kcat: %v\n%s", err, p.out.String())
	}
}

// KcatArgs are the kcat arguments that reach the broker: its address and a
// client configuration file (SASL_SSL, PLAIN, the test CA) written once.
// Nagle is off: with it (librdkafka's default) a produce request over TLS
// waits ~40 ms for a delayed ACK, measured here as a 44 ms p50.
func (k *Kafka) KcatArgs(t testing.TB) []string {
	t.Helper()
	conf := filepath.Join(filepath.Dir(k.CAFile), "kcat.conf")
	if _, err := os.Stat(conf); err != nil {
		text := fmt.Sprintf("security.protocol=SASL_SSL\nsasl.mechanisms=PLAIN\nsasl.username=%s\nsasl.password=%s\nssl.ca.location=%s\nmessage.timeout.ms=30000\nsocket.nagle.disable=true\n",
			k.User, k.Password, k.CAFile)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"-q", "-F", conf, "-b", k.Addr}
}

// KcatPath finds Debian's kcat (or its old name, kafkacat).
func KcatPath() (string, error) {
	for _, name := range []string{"kcat", "kafkacat"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("kcat (Debian package kcat; test/run.sh installs it): %w", ErrMissing)
}

// brokerTLS makes a CA and a certificate for 127.0.0.1 signed by it: the
// broker's TLS configuration and the CA as PEM.
func brokerTLS() (*tls.Config, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "svgateway test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, caPEM, nil
}
