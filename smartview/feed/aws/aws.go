// Package aws is the feed consumer for AWS: SmartView publishes to an SNS
// topic, and the customer's SQS queue subscribed to it is read here with
// long polling. SNS envelopes are unwrapped (raw message delivery works
// too); a message is deleted only after the Feed applied it, so one that
// could not be applied comes back after the visibility timeout.
//
// It must not decode or apply events (package feed does).
package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/svgateway/svgateway/smartview/feed"
)

// Consumer long-polls one SQS queue.
type Consumer struct {
	cfg feed.AWSConfig
	log *slog.Logger
}

// New returns a consumer; cfg must have been validated (feed.Config.Validate).
func New(cfg feed.AWSConfig, log *slog.Logger) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Consumer{cfg: cfg, log: log}
}

func (c *Consumer) client() *sqs.Client {
	opts := sqs.Options{Region: c.cfg.Region, RetryMaxAttempts: 3}
	if c.cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(c.cfg.Endpoint)
	}
	id, secret, token := c.cfg.AccessKeyID, c.cfg.SecretAccessKey, c.cfg.SessionToken
	if id == "" && secret == "" {
		id, secret, token = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	opts.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	return sqs.New(opts)
}

// Receive implements feed.Consumer. name (the SmartView subscription's) is
// used as the queue URL when [feed.aws] queue_url is not set and it is one.
func (c *Consumer) Receive(ctx context.Context, name string, r feed.Receiver) error {
	queue := c.cfg.QueueURL
	if queue == "" {
		if !strings.HasPrefix(name, "https://") && !strings.HasPrefix(name, "http://") {
			return fmt.Errorf("aws: set feed.aws.queue_url: the SmartView subscription name %q is not a queue URL", name)
		}
		queue = name
	}
	if c.cfg.SecretAccessKey == "" && os.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
		c.log.Warn("no AWS credentials (feed.aws.secret_access_key or AWS_SECRET_ACCESS_KEY): requests go unsigned")
	}
	client := c.client()
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queue),
		MaxNumberOfMessages:         int32(c.cfg.MaxMessages),
		WaitTimeSeconds:             int32(c.cfg.WaitTime / time.Second),
		VisibilityTimeout:           int32(c.cfg.VisibilityTimeout / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp},
		// Servers that ignore the newer field (some SQS-compatible ones) read this one.
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	}
	connected := false
	for {
		out, err := client.ReceiveMessage(ctx, in)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("aws: receiving from %s: %w", queue, err)
		}
		if !connected {
			connected = true
			r.Connected()
		}
		if len(out.Messages) == 0 {
			continue
		}
		msgs := make([]feed.Message, len(out.Messages))
		for i, m := range out.Messages {
			msgs[i] = message(m)
		}
		if err := r.Deliver(ctx, msgs...); err != nil {
			// Not applied: left in the queue, delivered again after the visibility timeout.
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("feed messages not applied; SQS delivers them again after the visibility timeout", "count", len(msgs), "err", err)
			continue
		}
		c.delete(ctx, client, queue, out.Messages)
	}
}

// delete removes applied messages. One that cannot be deleted comes back
// later and changes nothing (the model ignores duplicates).
func (c *Consumer) delete(ctx context.Context, client *sqs.Client, queue string, msgs []types.Message) {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	out, err := client.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queue), Entries: entries})
	switch {
	case err != nil:
		c.log.Warn("applied feed messages not deleted; they will be delivered again (harmless)", "count", len(msgs), "err", err)
	case len(out.Failed) > 0:
		c.log.Warn("some applied feed messages not deleted; they will be delivered again (harmless)", "count", len(out.Failed), "first", aws.ToString(out.Failed[0].Message))
	}
}

// message converts an SQS message, unwrapping an SNS envelope.
func message(m types.Message) feed.Message {
	msg := feed.Message{Data: Unwrap([]byte(aws.ToString(m.Body))), ID: aws.ToString(m.MessageId)}
	if n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		msg.Attempt = n
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		msg.Published = time.UnixMilli(ms)
	}
	return msg
}

// snsEnvelope is the JSON SNS wraps a notification in when the queue's
// subscription does not use raw message delivery.
type snsEnvelope struct {
	Type     string  `json:"Type"`
	TopicArn string  `json:"TopicArn"`
	Message  *string `json:"Message"`
}

// Unwrap returns the event inside an SNS notification envelope, or body
// itself when it is not one (raw message delivery).
func Unwrap(body []byte) []byte {
	var env snsEnvelope
	if json.Unmarshal(body, &env) != nil || env.Type != "Notification" || env.TopicArn == "" || env.Message == nil {
		return body
	}
	return []byte(*env.Message)
}
