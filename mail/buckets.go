package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/gid"
)

// maxBucketName is S3's limit on a bucket name's length.
const maxBucketName = 63

// attachmentsInfix follows the prefix in the attachments bucket's name.
const attachmentsInfix = "-attachments"

// prefixRE is what a bucket prefix may be: short enough that the
// attachments bucket's name keeps the whole tenant ID and a hash.
var prefixRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,11}[a-z0-9])?$`)

// BucketNames returns the names of the content and attachments buckets of
// a tenant's instance: "<prefix>-<tenant ID>-<alias>" and
// "<prefix>-attachments-<tenant ID>-<alias>", lower-cased (S3 names are;
// tenant IDs are upper-case ULIDs), the alias reduced to letters, digits and
// single hyphens.
//
// A name that would pass S3's 63 characters (or end the way S3 reserves,
// "-s3alias" or "--ol-s3") keeps the prefix and the whole tenant ID, as
// much of the alias as fits, and ends in "-" and 8 hex digits of the SHA-256
// of "<tenant ID>/<alias>", so the same instance always gets the same name
// and two aliases that share a long beginning do not collide.
func (s *Service) BucketNames(tenantID gid.ID, instanceAlias string) (content, attachments string) {
	return bucketName(s.prefix, tenantID, instanceAlias), bucketName(s.prefix+attachmentsInfix, tenantID, instanceAlias)
}

// bucketName is one bucket's name; see BucketNames.
func bucketName(base string, tenantID gid.ID, alias string) string {
	tid := bucketPart(string(tenantID))
	a := bucketPart(alias)
	name := base + "-" + tid
	if a != "" {
		name += "-" + a
	}
	if len(name) <= maxBucketName && !strings.HasSuffix(name, "-s3alias") && !strings.HasSuffix(name, "--ol-s3") {
		return name
	}
	sum := sha256.Sum256([]byte(tid + "/" + a))
	hash := hex.EncodeToString(sum[:4])
	name = base + "-" + tid
	if keep := maxBucketName - len(name) - 1 - len(hash) - 1; keep > 0 && a != "" {
		if part := strings.Trim(a[:min(keep, len(a))], "-"); part != "" {
			name += "-" + part
		}
	}
	return name + "-" + hash
}

// bucketPart lower-cases s and reduces it to letters, digits and single
// hyphens, none at either end.
func bucketPart(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
	}
	return b.String()
}

// tenantOfBucket returns the tenant ID that a content bucket's name
// carries; ok is false when bucket is not a content bucket's name.
func (s *Service) tenantOfBucket(bucket string) (gid.ID, bool) {
	rest, ok := strings.CutPrefix(bucket, s.prefix+"-")
	const n = gid.PrefixLen + 26 // a ULID's length
	if !ok || len(rest) < n || (len(rest) > n && rest[n] != '-') {
		return "", false
	}
	id := gid.ID(strings.ToUpper(rest[:n]))
	return id, id.Valid()
}

// EnsureBuckets creates the content and attachments buckets of inst where
// they are missing, in inst's account and region, and (again, for existing
// ones) sets their default encryption to SSE-S3 and blocks every kind of
// public access.
func (s *Service) EnsureBuckets(ctx context.Context, inst *ent.Instance) error {
	c, err := s.s3Client(inst)
	if err != nil {
		return err
	}
	content, attachments := s.BucketNames(inst.TenantID, inst.Alias)
	for _, bucket := range []string{content, attachments} {
		if err := ensureBucket(ctx, c, bucket, inst.Region); err != nil {
			return err
		}
	}
	return nil
}

func ensureBucket(ctx context.Context, c *s3.Client, bucket, region string) error {
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	var notFound *types.NotFound
	switch {
	case err == nil:
	case errors.As(err, &notFound) || errorCode(err) == "NoSuchBucket":
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
				LocationConstraint: types.BucketLocationConstraint(region),
			}
		}
		_, err = c.CreateBucket(ctx, in)
		switch code := errorCode(err); {
		case err == nil, code == "BucketAlreadyOwnedByYou":
		case code == "BucketAlreadyExists":
			return apierror.Wrap(apierror.Conflict, err, "the bucket name %s is taken in another AWS account", bucket)
		default:
			return upstream(err, "Amazon S3 did not create the bucket %s", bucket)
		}
	default:
		return upstream(err, "Amazon S3 did not find the bucket %s", bucket)
	}

	_, err = c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
			Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
					SSEAlgorithm: types.ServerSideEncryptionAes256,
				},
			}},
		},
	})
	if err != nil {
		return upstream(err, "Amazon S3 did not set the encryption of %s", bucket)
	}
	_, err = c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls:       aws.Bool(true),
			IgnorePublicAcls:      aws.Bool(true),
			BlockPublicPolicy:     aws.Bool(true),
			RestrictPublicBuckets: aws.Bool(true),
		},
	})
	if err != nil {
		return upstream(err, "Amazon S3 did not block public access to %s", bucket)
	}
	return nil
}
