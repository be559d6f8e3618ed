// sqs-local.js: an SQS server (npm local-aws-sqs, JSON and Query protocols) on loopback for the
// AWS feed consumer's tests. Usage: node sqs-local.js PORT [QUEUE...]  (queues are created at start;
// their URLs are http://127.0.0.1:PORT/123456789012/QUEUE). Stops on SIGTERM.
"use strict";
const { createSqsServer } = require("local-aws-sqs");

const port = Number(process.argv[2]);
const queues = process.argv.slice(3).map((QueueName) => ({ QueueName }));
createSqsServer({ port, hostname: "127.0.0.1", queues, emulateQueueCreationLifecycle: false })
  .then(() => console.log(`local-aws-sqs listening on 127.0.0.1:${port}`))
  .catch((err) => { console.error(err); process.exit(1); });
process.on("SIGTERM", () => process.exit(0));
