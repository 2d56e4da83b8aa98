package mail

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"switchboard/apierror"
	"switchboard/instances"
)

// BackupRuleID names the lifecycle rule switchboard keeps on each email
// bucket; the bucket's other rules are left as they are.
const BackupRuleID = "switchboard-email-backups"

// MaxBackupDays bounds configureEmailBackups' keepDays.
const MaxBackupDays = 3650

// abortUploadsAfterDays is when an upload that never completed is given up
// (its parts cost storage too).
const abortUploadsAfterDays = 7

// BucketBackup is an email bucket's backups as S3 has them in force.
type BucketBackup struct {
	Name       string
	Versioning bool
	// NoncurrentVersionExpirationDays is nil when BackupRuleID is not in
	// force.
	NoncurrentVersionExpirationDays *int
}

// ConfigureBackups turns on versioning on the tenant's two email buckets
// and keeps, beside the buckets' other lifecycle rules, one that expires
// non-current versions after keepDays and aborts uploads left incomplete.
// Running it again changes nothing more. The choice is first recorded on
// the instance, which only admins may change (the Instance policy), so
// that no one else reaches S3; then S3 is asked, with no transaction open,
// and what it has in force is read back.
func (s *Service) ConfigureBackups(ctx context.Context, keepDays int) ([]BucketBackup, error) {
	if keepDays < 1 || keepDays > MaxBackupDays {
		return nil, apierror.New(apierror.BadUserInput, "keepDays must be from 1 to %d", MaxBackupDays)
	}
	inst, err := instances.Get(ctx, s.client)
	if err != nil {
		return nil, err
	}
	if !Enabled(inst) {
		return nil, apierror.New(apierror.Conflict, "the email module is not enabled: configure the instance with the email module first")
	}
	if err := inst.Update().SetEmailBackupDays(keepDays).Exec(ctx); err != nil {
		return nil, err
	}
	c, err := s.s3Client(inst)
	if err != nil {
		return nil, err
	}
	content, attachments := s.BucketNames(inst.TenantID, inst.Alias)
	out := make([]BucketBackup, 0, 2)
	for _, bucket := range []string{content, attachments} {
		b, err := configureBucketBackups(ctx, c, bucket, int32(keepDays))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func configureBucketBackups(ctx context.Context, c *s3.Client, bucket string, keepDays int32) (BucketBackup, error) {
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return BucketBackup{}, upstream(err, "Amazon S3 did not turn on versioning of %s", bucket)
	}
	rules, err := lifecycleRules(ctx, c, bucket)
	if err != nil {
		return BucketBackup{}, err
	}
	ours := types.LifecycleRule{
		ID:                          aws.String(BackupRuleID),
		Status:                      types.ExpirationStatusEnabled,
		Filter:                      &types.LifecycleRuleFilter{Prefix: aws.String("")},
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(keepDays)},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{
			DaysAfterInitiation: aws.Int32(abortUploadsAfterDays),
		},
	}
	kept := []types.LifecycleRule{ours}
	for _, r := range rules {
		if aws.ToString(r.ID) != BackupRuleID {
			kept = append(kept, r)
		}
	}
	_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: kept},
	})
	if err != nil {
		return BucketBackup{}, upstream(err, "Amazon S3 did not set the lifecycle of %s", bucket)
	}
	return bucketBackup(ctx, c, bucket)
}

// lifecycleRules returns the bucket's lifecycle rules; none when it has no
// configuration.
func lifecycleRules(ctx context.Context, c *s3.Client, bucket string) ([]types.LifecycleRule, error) {
	out, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if errorCode(err) == "NoSuchLifecycleConfiguration" {
		return nil, nil
	}
	if err != nil {
		return nil, upstream(err, "Amazon S3 did not read the lifecycle of %s", bucket)
	}
	return out.Rules, nil
}

// bucketBackup reads back what S3 has in force for the bucket.
func bucketBackup(ctx context.Context, c *s3.Client, bucket string) (BucketBackup, error) {
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return BucketBackup{}, upstream(err, "Amazon S3 did not read the versioning of %s", bucket)
	}
	rules, err := lifecycleRules(ctx, c, bucket)
	if err != nil {
		return BucketBackup{}, err
	}
	b := BucketBackup{Name: bucket, Versioning: v.Status == types.BucketVersioningStatusEnabled}
	for _, r := range rules {
		if aws.ToString(r.ID) == BackupRuleID && r.Status == types.ExpirationStatusEnabled && r.NoncurrentVersionExpiration != nil {
			days := int(aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays))
			b.NoncurrentVersionExpirationDays = &days
		}
	}
	return b, nil
}
