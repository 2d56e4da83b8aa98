// Package reporting is the reporting module: where the tenant's QuickSight
// dashboard lives, and short-lived URLs that embed it in the admin console
// (QuickSight GenerateEmbedUrlForRegisteredUser, in the tenant's account
// through its role). No transaction is open while QuickSight answers.
package reporting

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/quicksight"
	"github.com/aws/aws-sdk-go-v2/service/quicksight/types"
	"github.com/aws/smithy-go"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/instances"
	"switchboard/viewer"
)

// Module is the reporting module's name in configureInstance(modules:).
const Module = "reporting"

// SessionMinutes is how long an embedded session lasts (QuickSight takes 15
// to 600); URLValidity is how long the URL itself may be opened, once.
const (
	SessionMinutes = 60
	URLValidity    = 5 * time.Minute
)

var (
	dashboardID = regexp.MustCompile(`^[\w\-]{1,512}$`)
	accountID   = regexp.MustCompile(`^[0-9]{12}$`)
	userARN     = regexp.MustCompile(`^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:([0-9]{12}):user/[\w+=,.@-]+/[\w+=,.@/-]+$`)
)

// Settings are where the tenant's reports live.
type Settings struct {
	AWSAccountID, DashboardID, UserARN string
}

// Service makes embed URLs with the platform's clients, for the console's
// origins.
type Service struct {
	aws     *connectaws.Clients
	origins []string
	now     func() time.Time
}

// New returns the reporting service. origins are the console's (the
// server's allowed origins); QuickSight takes at most three.
func New(clients *connectaws.Clients, origins []string) *Service {
	var o []string
	for _, origin := range origins {
		if strings.HasPrefix(origin, "https://") && len(o) < 3 {
			o = append(o, origin)
		}
	}
	return &Service{aws: clients, origins: o, now: time.Now}
}

// Configure records where the tenant's reports live. Only admins may (the
// Instance policy), and only with the reporting module enabled.
func Configure(ctx context.Context, c *ent.Client, s Settings) (Settings, error) {
	s.AWSAccountID, s.DashboardID, s.UserARN = strings.TrimSpace(s.AWSAccountID), strings.TrimSpace(s.DashboardID), strings.TrimSpace(s.UserARN)
	switch m := userARN.FindStringSubmatch(s.UserARN); {
	case !accountID.MatchString(s.AWSAccountID):
		return Settings{}, apierror.New(apierror.BadUserInput, "awsAccountId must be the 12 digits of an AWS account")
	case !dashboardID.MatchString(s.DashboardID):
		return Settings{}, apierror.New(apierror.BadUserInput, "dashboardId must be a QuickSight dashboard ID (letters, digits, _ and -)")
	case m == nil:
		return Settings{}, apierror.New(apierror.BadUserInput, "userArn must be a QuickSight user's ARN, arn:aws:quicksight:REGION:ACCOUNT:user/NAMESPACE/NAME")
	case m[1] != s.AWSAccountID:
		return Settings{}, apierror.New(apierror.BadUserInput, "userArn is a user of account %s, not of awsAccountId %s", m[1], s.AWSAccountID)
	}
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return Settings{}, err
	}
	if !instances.HasModule(inst, Module) {
		return Settings{}, apierror.New(apierror.Conflict, "the reporting module is not enabled: configure the instance with the reporting module first")
	}
	err = inst.Update().SetReportingAccountID(s.AWSAccountID).SetReportingDashboardID(s.DashboardID).SetReportingUserArn(s.UserARN).Exec(ctx)
	return s, err
}

// EmbedURL returns a URL that embeds the tenant's dashboard for the
// console, and until when it may be opened. Supervisors and admins may.
func (s *Service) EmbedURL(ctx context.Context, c *ent.Client) (string, time.Time, error) {
	if !viewer.FromContext(ctx).InTenant(viewer.RoleSupervisor) {
		return "", time.Time{}, apierror.New(apierror.Forbidden, "only supervisors and admins view the reports")
	}
	inst, err := instances.Get(schema.ReadInstance(ctx), c)
	if err != nil {
		return "", time.Time{}, err
	}
	if inst.ReportingDashboardID == "" {
		return "", time.Time{}, apierror.New(apierror.Conflict, "reporting is not configured: an admin runs configureReporting first")
	}
	if s == nil || s.aws == nil {
		return "", time.Time{}, instances.NoAWS()
	}
	qs, err := s.aws.QuickSight(connectaws.InstanceOf(inst))
	if err != nil {
		return "", time.Time{}, apierror.Wrap(apierror.BadUserInput, err, "the instance's settings cannot reach AWS")
	}
	in := &quicksight.GenerateEmbedUrlForRegisteredUserInput{
		AwsAccountId: aws.String(inst.ReportingAccountID),
		UserArn:      aws.String(inst.ReportingUserArn),
		ExperienceConfiguration: &types.RegisteredUserEmbeddingExperienceConfiguration{
			Dashboard: &types.RegisteredUserDashboardEmbeddingConfiguration{InitialDashboardId: aws.String(inst.ReportingDashboardID)},
		},
		SessionLifetimeInMinutes: aws.Int64(SessionMinutes),
	}
	if len(s.origins) > 0 {
		in.AllowedDomains = s.origins
	}
	out, err := qs.GenerateEmbedUrlForRegisteredUser(ctx, in)
	if err != nil {
		return "", time.Time{}, upstream(err)
	}
	return aws.ToString(out.EmbedUrl), s.now().Add(URLValidity), nil
}

func upstream(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "QuickSightUserNotFoundException":
			return apierror.Wrap(apierror.Upstream, err, "QuickSight has no such user: fix configureReporting's userArn")
		case "ResourceNotFoundException":
			return apierror.Wrap(apierror.Upstream, err, "QuickSight has no such dashboard: fix configureReporting's dashboardId")
		case "AccessDeniedException":
			return apierror.Wrap(apierror.Upstream, err, "the tenant's role may not call quicksight:GenerateEmbedUrlForRegisteredUser")
		}
		return apierror.Wrap(apierror.Upstream, err, "QuickSight did not make the embed URL (%s)", api.ErrorCode())
	}
	return apierror.Wrap(apierror.Upstream, err, "QuickSight did not make the embed URL")
}
