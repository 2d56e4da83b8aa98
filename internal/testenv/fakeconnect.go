package testenv

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
)

// FakeConnect starts a fake STS and a fake Amazon Connect that trusts it,
// and returns them with the option that points a server's real SDK at
// both, signing as the platform (one attempt per call) and taking the
// queue figures every interval. Several servers given the option are
// replicas reaching the same fakes.
func FakeConnect(t testing.TB, interval time.Duration) (*fakeaws.STS, *fakeaws.Connect, ServerOption) {
	t.Helper()
	platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
	sts := fakeaws.NewSTS(t)
	sts.TrustCaller(platform)
	fc := fakeaws.NewConnect(t)
	fc.TrustSTS(sts)
	return sts, fc, func(c *wire.Config) {
		c.AWS = &wire.AWS{Options: connectaws.Options{BaseCredentials: credentials.StaticCredentialsProvider{Value: platform},
			STSEndpoint: sts.URL, ConnectEndpoint: fc.URL, RetryMaxAttempts: 1}}
		c.QueueMetricsInterval = interval
	}
}
