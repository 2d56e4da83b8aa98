package connectaws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
)

// MaxUsageRecords is how many records one BatchMeterUsage call may carry.
const MaxUsageRecords = 25

// meteringRegion is where Marketplace Metering is called from: the
// platform's listing lives in us-east-1, whatever the tenants' regions.
const meteringRegion = "us-east-1"

// Status of a metered record, as MeterResult.Status gives it.
const (
	MeterSuccess               = "Success"
	MeterCustomerNotSubscribed = "CustomerNotSubscribed"
	MeterDuplicateRecord       = "DuplicateRecord"
	// MeterUnprocessed: AWS did not process the record (a transient fault
	// on its side); sending it again is safe.
	MeterUnprocessed = "Unprocessed"
)

// Metering reports the platform's usage to AWS Marketplace and resolves
// the buyers who subscribe through it. It signs with the platform's own
// credentials, never a tenant's.
type Metering struct {
	client *marketplacemetering.Client
}

// Metering returns the Marketplace Metering client, made once.
func (c *Clients) Metering() *Metering {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.metering == nil {
		c.metering = &Metering{client: marketplacemetering.NewFromConfig(c.cfg, func(o *marketplacemetering.Options) {
			o.Region = meteringRegion
			if c.opts.MeteringEndpoint != "" {
				o.BaseEndpoint = aws.String(c.opts.MeteringEndpoint)
			}
		})}
	}
	return c.metering
}

// UsageRecord is the usage of one dimension by one customer in one hour.
// A customer is either a CustomerIdentifier (older products) or a
// CustomerAWSAccountID with the LicenseARN of its agreement (products
// listed from June 2026).
type UsageRecord struct {
	Hour                 time.Time // the UTC hour the usage happened in
	CustomerIdentifier   string
	CustomerAWSAccountID string
	LicenseARN           string
	Dimension            string
	Quantity             int
}

// MeterResult is what AWS made of one record.
type MeterResult struct {
	Record UsageRecord
	// Status is MeterSuccess, MeterCustomerNotSubscribed,
	// MeterDuplicateRecord (the hour was metered with another quantity) or
	// MeterUnprocessed.
	Status string
	// MeteringRecordID is AWS's ID of the accepted record; the same when a
	// record is sent again.
	MeteringRecordID string
}

// MeterResponse is the answer to one BatchMeterUsage call.
type MeterResponse struct {
	// Results has one result per record sent, in the order sent.
	Results []MeterResult
	// RequestID is AWS's request ID, for support cases; set on errors too
	// when a response came back.
	RequestID string
}

// recordKey identifies a record as AWS does: customer, dimension, hour.
type recordKey struct {
	customer, accountID, license, dimension string
	hour                                    time.Time
}

func keyOf(identifier, accountID, license, dimension string, ts time.Time) recordKey {
	return recordKey{identifier, accountID, license, dimension, ts.UTC().Truncate(time.Hour)}
}

// BatchMeterUsage reports records of the product productCode in one call.
// productCode is sent for records with a CustomerIdentifier only: a
// LicenseARN names the product itself, and AWS bills twice when both are
// sent. More than MaxUsageRecords records, records of both kinds, or two
// records for the same customer, dimension and hour are refused before
// anything is sent. Records AWS left unprocessed (or did not answer for)
// come back as MeterUnprocessed. Throttling (IsThrottled) and other
// failures are errors, after the SDK's retries.
func (m *Metering) BatchMeterUsage(ctx context.Context, productCode string, records []UsageRecord) (MeterResponse, error) {
	if len(records) == 0 {
		return MeterResponse{}, nil
	}
	if len(records) > MaxUsageRecords {
		return MeterResponse{}, fmt.Errorf("connectaws: BatchMeterUsage takes at most %d records, not %d", MaxUsageRecords, len(records))
	}
	byLicense := records[0].LicenseARN != ""
	index := make(map[recordKey]int, len(records))
	in := &marketplacemetering.BatchMeterUsageInput{UsageRecords: make([]types.UsageRecord, len(records))}
	for i, r := range records {
		if err := r.check(byLicense); err != nil {
			return MeterResponse{}, fmt.Errorf("connectaws: BatchMeterUsage record %d: %w", i, err)
		}
		k := keyOf(r.CustomerIdentifier, r.CustomerAWSAccountID, r.LicenseARN, r.Dimension, r.Hour)
		if _, dup := index[k]; dup {
			return MeterResponse{}, fmt.Errorf("connectaws: BatchMeterUsage record %d repeats the customer, dimension and hour of another", i)
		}
		index[k] = i
		in.UsageRecords[i] = types.UsageRecord{
			Timestamp: aws.Time(k.hour),
			Dimension: aws.String(r.Dimension),
			Quantity:  aws.Int32(int32(r.Quantity)),
		}
		if byLicense {
			in.UsageRecords[i].CustomerAWSAccountId = aws.String(r.CustomerAWSAccountID)
			in.UsageRecords[i].LicenseArn = aws.String(r.LicenseARN)
		} else {
			in.UsageRecords[i].CustomerIdentifier = aws.String(r.CustomerIdentifier)
		}
	}
	if !byLicense {
		if productCode == "" {
			return MeterResponse{}, errors.New("connectaws: BatchMeterUsage needs a product code for records with a CustomerIdentifier")
		}
		in.ProductCode = aws.String(productCode)
	}

	out, err := m.client.BatchMeterUsage(ctx, in)
	if err != nil {
		err = upstream("Marketplace Metering", "BatchMeterUsage", err)
		resp := MeterResponse{}
		if ue, ok := errors.AsType[*UpstreamError](err); ok {
			resp.RequestID = ue.RequestID
		}
		return resp, err
	}
	resp := MeterResponse{Results: make([]MeterResult, len(records))}
	resp.RequestID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	for i, r := range records {
		resp.Results[i] = MeterResult{Record: r, Status: MeterUnprocessed}
	}
	// AWS does not keep the order of the records sent: match by value.
	for _, res := range out.Results {
		if i, ok := lookup(index, res.UsageRecord); ok {
			resp.Results[i].Status = string(res.Status)
			resp.Results[i].MeteringRecordID = aws.ToString(res.MeteringRecordId)
		}
	}
	return resp, nil
}

// lookup finds the index of the record sent that ur echoes.
func lookup(index map[recordKey]int, ur *types.UsageRecord) (int, bool) {
	if ur == nil || ur.Timestamp == nil {
		return 0, false
	}
	i, ok := index[keyOf(aws.ToString(ur.CustomerIdentifier), aws.ToString(ur.CustomerAWSAccountId),
		aws.ToString(ur.LicenseArn), aws.ToString(ur.Dimension), *ur.Timestamp)]
	return i, ok
}

// check refuses a record AWS would refuse, or one of the other kind of
// customer than the batch's first (byLicense).
func (r UsageRecord) check(byLicense bool) error {
	switch {
	case r.Hour.IsZero():
		return errors.New("no hour")
	case r.Dimension == "":
		return errors.New("no dimension")
	case r.Quantity < 0 || r.Quantity > math.MaxInt32:
		return fmt.Errorf("quantity %d out of range", r.Quantity)
	case byLicense && (r.CustomerAWSAccountID == "" || r.CustomerIdentifier != ""):
		return errors.New("a batch of licence records needs a CustomerAWSAccountID and no CustomerIdentifier in each")
	case !byLicense && (r.CustomerIdentifier == "" || r.CustomerAWSAccountID != "" || r.LicenseARN != ""):
		return errors.New("a batch of CustomerIdentifier records needs a CustomerIdentifier and no account or licence in each")
	}
	return nil
}

// Customer is a buyer of a product, as a registration token resolves.
type Customer struct {
	CustomerIdentifier   string // older products
	CustomerAWSAccountID string // products listed from June 2026, with LicenseARN
	ProductCode          string
	LicenseARN           string
}

// ResolveCustomer resolves the registration token AWS Marketplace posts
// with a new buyer (x-amzn-marketplace-token). An invalid or expired token
// is an error for which IsInvalidToken is true.
func (m *Metering) ResolveCustomer(ctx context.Context, token string) (Customer, error) {
	out, err := m.client.ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{RegistrationToken: aws.String(token)})
	if err != nil {
		return Customer{}, upstream("Marketplace Metering", "ResolveCustomer", err)
	}
	return Customer{
		CustomerIdentifier:   aws.ToString(out.CustomerIdentifier),
		CustomerAWSAccountID: aws.ToString(out.CustomerAWSAccountId),
		ProductCode:          aws.ToString(out.ProductCode),
		LicenseARN:           aws.ToString(out.LicenseArn),
	}, nil
}

// IsInvalidToken reports whether err says a registration token was invalid
// or had expired: the buyer must come through Marketplace again.
func IsInvalidToken(err error) bool {
	// The metering service's own exception types, not the codes: other
	// services say ExpiredTokenException of expired credentials.
	if _, ok := errors.AsType[*types.InvalidTokenException](err); ok {
		return true
	}
	_, ok := errors.AsType[*types.ExpiredTokenException](err)
	return ok
}

// IsThrottled reports whether AWS throttled the call that returned err,
// past the SDK's retries.
func IsThrottled(err error) bool {
	if ue, ok := errors.AsType[*UpstreamError](err); ok {
		return ue.Throttled
	}
	return throttles.IsErrorThrottle(err).Bool()
}
