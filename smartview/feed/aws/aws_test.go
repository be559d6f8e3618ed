package aws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/aws"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

// server is npm local-aws-sqs (test/sqs-local.js), started once for the
// package's tests.
var (
	server    *feedtest.Process
	serverErr error
)

func TestMain(m *testing.M) {
	server, serverErr = startServer()
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	os.Exit(code)
}

func startServer() (*feedtest.Process, error) {
	port, err := svctest.FreePort("tcp")
	if err != nil {
		return nil, err
	}
	root, err := svctest.ModuleRoot()
	if err != nil {
		return nil, err
	}
	return feedtest.StartNode(root, "local-aws-sqs", "sqs-local.js", fmt.Sprintf("127.0.0.1:%d", port), strconv.Itoa(port))
}

func endpoint(t *testing.T) string {
	t.Helper()
	return "http://" + feedtest.Require(t, server, serverErr).Addr
}

var seq atomic.Int64

// queue creates a queue unique to the test and returns a client and its URL.
func queue(t *testing.T, visibility time.Duration) (*sqs.Client, string) {
	t.Helper()
	ep := endpoint(t)
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: awssdk.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	name := fmt.Sprintf("feed-%d", seq.Add(1))
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: awssdk.String(name),
		Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(int(visibility / time.Second))}})
	if err != nil {
		t.Fatal(err)
	}
	return c, awssdk.ToString(out.QueueUrl)
}

func send(t *testing.T, c *sqs.Client, url string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: awssdk.String(url), MessageBody: awssdk.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// snsEnvelope wraps an event as SNS delivers it to SQS without raw delivery.
func snsEnvelope(event []byte) string {
	b, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "6f2c", "TopicArn": "arn:aws:sns:us-east-1:123456789012:smartview",
		"Message": string(event), "Timestamp": time.Now().UTC().Format(time.RFC3339), "SignatureVersion": "1"})
	return string(b)
}

// inQueue returns the messages waiting plus those in flight.
func inQueue(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: awssdk.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	b, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return a + b
}

func awsConfig(ep, url string) feed.Config {
	return feed.Config{Provider: feed.ProviderAWS, AWS: feed.AWSConfig{QueueURL: url, Region: "us-east-1", Endpoint: ep,
		AccessKeyID: "test", SecretAccessKey: "test", WaitTime: time.Second}}
}

const fuelHours = "CH1.Gen-1:fuelhours"

// TestEnvelopeAndRawDeliveryApplied: an SNS envelope and a raw event both
// reach the model, and both are deleted from the queue once applied.
func TestEnvelopeAndRawDeliveryApplied(t *testing.T) {
	c, url := queue(t, 30*time.Second)
	rig := feedtest.NewRig(t)
	cfg := awsConfig(endpoint(t), url)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rig.StartFeed(t, cfg, aws.New(cfg.AWS, nil), feed.Options{})
	now := time.Now().Truncate(time.Millisecond)
	send(t, c, url, snsEnvelope(feedtest.TagEvent(fuelHours, "55.5", now)),
		string(feedtest.AlarmEvent("CH1", "CH1.Gen-1", fuelHours, "Fuel", 820, true, now, now)))
	feedtest.WaitFor(t, 30*time.Second, "both events applied", func() bool {
		return rig.Store.Snapshot().Health().Feed.Events == 2
	})
	if v := feedtest.TagValue(rig.Store, fuelHours); v != "55.5" {
		t.Errorf("tag = %q (the SNS envelope was not unwrapped?)", v)
	}
	found := false
	for _, a := range rig.Store.Snapshot().Alarms() {
		found = found || (a.Condition == "Fuel" && a.State == model.AlarmActive)
	}
	if !found {
		t.Error("the raw alarm event is not in the model")
	}
	if h := rig.Store.Snapshot().Health().Feed; h.State != model.FeedConnected || h.Malformed != 0 {
		t.Errorf("health %+v", h)
	}
	feedtest.WaitFor(t, 30*time.Second, "the queue emptied by deletes", func() bool { return inQueue(t, c, url) == 0 })
}

// TestRedeliveredAfterVisibilityTimeout: a message whose delivery fails is
// not deleted; SQS delivers it again after the visibility timeout, and it
// is deleted once applied.
func TestRedeliveredAfterVisibilityTimeout(t *testing.T) {
	c, url := queue(t, time.Second)
	cfg := awsConfig(endpoint(t), url)
	cfg.AWS.VisibilityTimeout = time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := &feedtest.Recorder{FailFirst: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- aws.New(cfg.AWS, nil).Receive(ctx, "", rec) }()
	send(t, c, url, snsEnvelope([]byte(`{"name":"tagpoint_updated","data":{"tagId":"x","value":"1"}}`)))
	feedtest.WaitFor(t, 30*time.Second, "the redelivery", func() bool { return len(rec.Messages()) == 1 })
	feedtest.WaitFor(t, 30*time.Second, "the queue emptied", func() bool { return inQueue(t, c, url) == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs := rec.Messages()
	if rec.Calls() != 2 || string(msgs[0].Data) != `{"name":"tagpoint_updated","data":{"tagId":"x","value":"1"}}` || msgs[0].Attempt < 2 {
		t.Errorf("%d deliveries, delivered %+v", rec.Calls(), msgs)
	}
}

// TestUnreachableQueue: a queue that does not exist is a connection error
// the Feed retries (the consumer returns it), never a crash.
func TestUnreachableQueue(t *testing.T) {
	cfg := awsConfig(endpoint(t), endpoint(t)+"/123456789012/no-such-queue")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := aws.New(cfg.AWS, nil).Receive(ctx, "", &feedtest.Recorder{})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("err = %v", err)
	}
}

func TestUnwrap(t *testing.T) {
	event := `{"name":"tagpoint_updated","data":{"tagId":"x"}}`
	for _, tc := range []struct{ in, want string }{
		{snsEnvelope([]byte(event)), event},
		{event, event},
		{`{"Type":"Notification","Message":"x"}`, `{"Type":"Notification","Message":"x"}`}, // no TopicArn: not SNS
		{`not json`, `not json`},
	} {
		if got := string(aws.Unwrap([]byte(tc.in))); got != tc.want {
			t.Errorf("Unwrap(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
