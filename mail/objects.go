package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// keySegment makes s safe as a part of an S3 key (and of a presigned URL's
// path): letters, digits and . _ - @ + = are kept, anything else becomes
// "_", and at most max bytes. Whenever that changed s, "-" and 12 hex
// digits of the SHA-256 of s follow, so that two values never share a key.
func keySegment(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._-@+=", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if strings.HasPrefix(out, ".") {
		out = "_" + out[1:]
	}
	if out == s && out != "" && len(out) <= max {
		return out
	}
	sum := sha256.Sum256([]byte(s))
	hash := hex.EncodeToString(sum[:6])
	if len(out) > max-len(hash)-1 {
		out = out[:max-len(hash)-1]
	}
	if out == "" {
		return hash
	}
	return out + "-" + hash
}

// messageKey is the key segment of an Email's message ID: the folder of its
// attachments, and the name of an outbound message's content.
func messageKey(messageID string) string { return keySegment(messageID, 200) }

// attachmentKey is where the nth attachment of a message is stored.
func attachmentKey(messageID string, n int, fileName string) string {
	return messageKey(messageID) + "/" + strconv.Itoa(n) + "-" + keySegment(fileName, 120)
}

// outboundKey is where an outbound message's raw content is stored.
func outboundKey(messageID string) string { return "outbound/" + messageKey(messageID) + ".eml" }

// contentDisposition makes a browser download a file under its name.
func contentDisposition(fileName string) string {
	d := mime.FormatMediaType("attachment", map[string]string{"filename": fileName})
	if d == "" {
		return "attachment"
	}
	return d
}

// upload streams r into bucket/key, asking for SSE-S3. What fits into buf
// goes up as one PutObject; anything longer as a multipart upload of
// len(buf)-sized parts, buf reused for each, so memory stays at one part
// whatever the size. It returns how many bytes were stored.
func upload(ctx context.Context, c *s3.Client, bucket, key, contentType, disposition string, r io.Reader, buf []byte) (int64, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		_, err = c.PutObject(ctx, &s3.PutObjectInput{
			Bucket:               aws.String(bucket),
			Key:                  aws.String(key),
			Body:                 bytes.NewReader(buf[:n]),
			ContentLength:        aws.Int64(int64(n)),
			ContentType:          optional(contentType),
			ContentDisposition:   optional(disposition),
			ServerSideEncryption: types.ServerSideEncryptionAes256,
		})
		return int64(n), err
	}
	if err != nil {
		return 0, err
	}

	created, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:               aws.String(bucket),
		Key:                  aws.String(key),
		ContentType:          optional(contentType),
		ContentDisposition:   optional(disposition),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
	})
	if err != nil {
		return 0, err
	}
	abort := func(cause error) (int64, error) {
		_, aerr := c.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
		})
		return 0, errors.Join(cause, aerr)
	}
	var parts []types.CompletedPart
	var total int64
	for number := int32(1); n > 0; number++ {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        aws.String(bucket),
			Key:           aws.String(key),
			UploadId:      created.UploadId,
			PartNumber:    aws.Int32(number),
			Body:          bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return abort(err)
		}
		parts = append(parts, types.CompletedPart{
			PartNumber: aws.Int32(number), ETag: out.ETag,
			ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C, ChecksumCRC64NVME: out.ChecksumCRC64NVME,
			ChecksumSHA1: out.ChecksumSHA1, ChecksumSHA256: out.ChecksumSHA256,
		})
		total += int64(n)
		if n < len(buf) {
			break // that was the last part
		}
		n, err = io.ReadFull(r, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return abort(err)
		}
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(bucket),
		Key:             aws.String(key),
		UploadId:        created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return abort(err)
	}
	return total, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
