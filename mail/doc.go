// Package mail is the email channel: it sends a tenant's outbound email
// through Amazon SES, takes in the inbound email that SES receives for the
// tenant, routes it to Amazon Connect as a task, and reads a message's body
// and attachments back for the desktop. Bodies and attachments live only in
// the tenant's own S3 buckets; switchboard's store keeps the Email record
// (metadata) alone.
//
// # Buckets
//
// Each instance with the email module has two buckets in the tenant's
// account, named by BucketNames: "<prefix>-<tenant>-<alias>" for content
// (raw messages) and "<prefix>-attachments-<tenant>-<alias>" for
// attachments, the prefix "neon-emails" unless configured. EnsureBuckets
// creates them with SSE-S3 default encryption and every public access block
// on; every object switchboard writes asks for SSE-S3 as well.
//
// Keys: inbound raw messages are where the SES receipt rule wrote them;
// outbound ones at "outbound/<SES message ID>.eml". An attachment is at
// "<message ID>/<n>-<file name>", n counting from 1 in the message's order.
// The message ID (the Message-ID of inbound mail, SES's of outbound) and the
// file name are kept as they are when made of letters, digits and
// . _ - @ + =; otherwise every other character becomes "_" and a hash of the
// original follows, so that two names never share a key.
//
// # Streaming
//
// Messages are parsed as they stream from S3: Parse reads the header block
// (bounded), then walks the MIME tree with mime/multipart, decoding each
// attachment on the fly into an S3 upload that holds one part (8 MiB) in
// memory at a time, as a multipart upload once an attachment outgrows one
// part. Text and HTML bodies, bounded in size, are decoded by enmime
// (charsets and transfer encodings); headers are read with enmime's tolerant
// header reader and address parser. enmime itself reads a whole message into
// memory and holds a large attachment about twice more (53 MB for a 25 MB
// attachment, besides the message), which is why it does not walk the tree.
// Receive of a message with a 25 MB attachment grows the heap by about
// 9 MB, the upload part (TestLargeAttachmentMemory).
//
// Outbound messages are built by enmime's builder, attachments streamed into
// the encoder; SES takes the raw message as one value, so it is in memory
// once (base64-encoded, as sent), and the request body that carries it to
// SES is streamed from it (rawbody.go): a 25 MB attachment costs about 43 MB
// of heap in all (TestLargeOutboundMemory). The attachments are then copied
// to their bucket from that raw message by the same walk as inbound mail.
//
// # Inbound mail
//
// An SES receipt rule's S3 action writes the raw message to the content
// bucket and publishes to an SNS topic in the tenant's account; SNSHandler
// takes the HTTPS deliveries, verifies each message's signature against the
// certificate at SigningCertURL (fetched only from SNS's own hosts),
// confirms subscriptions, and hands each received email to Receive, as the
// tenant that owns the bucket and only when the topic is in that tenant's
// account. Receive is idempotent on the message ID: the same notification
// twice records, copies and routes once. A message that cannot be parsed is
// recorded as FAILED and never routed.
//
// # Tenancy
//
// Every read and write of the store runs under a viewer of one tenant, so
// ent's privacy rules keep one tenant's emails from another; S3, SES and
// Connect are reached with the credentials of that tenant's own role.
package mail
