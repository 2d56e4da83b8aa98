package costs

// The price table.
//
// These are AWS list prices as recorded in the project's
// shared/AWS-console.md, section 6 ("Prices for the cost estimator"), on
// 2026-12-03 (PricesAsOf). That section says the aws.amazon.com pricing pages could not
// be read directly (they are rendered by script), so the figures are list
// prices as third parties widely reproduce them. Check them against the AWS
// Price List API (https://pricing.us-east-1.amazonaws.com, GetProducts)
// before relying on them, and again whenever AWS changes a price. None of
// them includes tax, the free tier, Savings Plans or private pricing.
//
// Figures that AWS-console.md flags ⚠ (the sources contradict each other or
// it could not be confirmed) carry a Note, which the estimate copies into
// its Assumptions:
//   - S3 Standard in ap-southeast-2: $0.025 is the figure the copies give for
//     Singapore (ap-southeast-1); it was not seen for Sydney.
//   - SES inbound: the $0.09 per 1,000 256 KB chunks charge.
//   - Kinesis Data Streams: the PUT payload unit charge (and the on-demand
//     prices, which this estimate does not use).
//   - Firehose: the rounding of each record up to 5 KB.
//   - Athena: the 10 MB minimum per query.
//
// AWS-console.md gives only the S3 figure for ap-southeast-2. Every other
// ap-southeast-2 entry below is the us-east-1 figure, marked by SeenFor
// "us-east-1"; the estimate says so in its Assumptions. Replace them with
// Sydney's own prices once they have been read from the Price List API.
//
// Units: GB is 2^30 bytes and TB 2^40 bytes throughout (see Estimate).

// PriceKey names one price in the table.
type PriceKey string

// The prices the estimate uses. Every region in the table has every one.
const (
	S3StandardStorage PriceKey = "s3.standard.storage"
	SESMessages       PriceKey = "ses.messages"
	SESInboundChunks  PriceKey = "ses.inbound.chunks"
	SESOutboundData   PriceKey = "ses.outbound.data"
	QuickSightReader  PriceKey = "quicksight.reader"
	QuickSightAuthor  PriceKey = "quicksight.author"
	KinesisShardHours PriceKey = "kinesis.shard-hours"
	KinesisPutUnits   PriceKey = "kinesis.put-units"
	FirehoseIngestion PriceKey = "firehose.ingestion"
	AthenaDataScanned PriceKey = "athena.scanned"
)

// DefaultRegion is the region an Input with no Region is priced in.
const DefaultRegion = "us-east-1"

// PricesAsOf is the date the table's prices were recorded.
const PricesAsOf = "2026-12-03"

const (
	regionSydney     = "ap-southeast-2"
	sourceS3         = "https://aws.amazon.com/s3/pricing/"
	sourceSES        = "https://aws.amazon.com/ses/pricing/"
	sourceQuickSight = "https://docs.aws.amazon.com/quick/latest/userguide/monitoring-upgrades.html"
	sourceKinesis    = "https://aws.amazon.com/kinesis/data-streams/pricing/"
	sourceFirehose   = "https://aws.amazon.com/firehose/pricing/"
	sourceAthena     = "https://aws.amazon.com/athena/pricing/"

	noteSESChunks        = "⚠ SES inbound: the $0.09 per 1,000 incoming 256 KB chunks charge could not be confirmed on the AWS page."
	noteKinesisPutUnits  = "⚠ Kinesis Data Streams: the $0.014 per million 25 KB PUT payload units charge could not be confirmed on the AWS page."
	noteFirehoseRounding = "⚠ Firehose: the rounding of each record up to the next 5 KB could not be confirmed on the AWS page."
	noteAthenaMinimum    = "⚠ Athena: the 10 MB minimum charged per query could not be confirmed on the AWS page."
	noteQuickSuite       = "QuickSight is now sold as Amazon Quick Suite; an account on the new plans pays Professional $20 or Enterprise $40 per user-month instead of Reader $3 / Author $24."
)

// Price is one list price: USD per Unit, where it was read (Source), and
// the region the figure was actually seen for (SeenFor), which differs
// from the table's region when no regional figure was found.
type Price struct {
	USD     float64
	Unit    string
	Source  string
	SeenFor string
	Note    string // a ⚠ caveat from AWS-console.md, or ""
}

// usEast1 holds the us-east-1 figures; ap-southeast-2 borrows all but S3.
var usEast1 = map[PriceKey]Price{
	// First 50 TB per month; the next 450 TB is $0.022 and beyond $0.021.
	S3StandardStorage: {USD: 0.023, Unit: "GB-month", Source: sourceS3, SeenFor: DefaultRegion},
	// Sent or received, the same price per message.
	SESMessages:      {USD: 0.10, Unit: "1,000 emails", Source: sourceSES, SeenFor: DefaultRegion},
	SESInboundChunks: {USD: 0.09, Unit: "1,000 incoming 256 KB chunks", Source: sourceSES, SeenFor: DefaultRegion, Note: noteSESChunks},
	SESOutboundData:  {USD: 0.12, Unit: "GB sent", Source: sourceSES, SeenFor: DefaultRegion},
	QuickSightReader: {USD: 3, Unit: "Reader user-month", Source: sourceQuickSight, SeenFor: DefaultRegion, Note: noteQuickSuite},
	QuickSightAuthor: {USD: 24, Unit: "Author user-month", Source: sourceQuickSight, SeenFor: DefaultRegion, Note: noteQuickSuite},
	// Provisioned mode.
	KinesisShardHours: {USD: 0.015, Unit: "shard-hour", Source: sourceKinesis, SeenFor: DefaultRegion},
	KinesisPutUnits:   {USD: 0.014, Unit: "million 25 KB PUT payload units", Source: sourceKinesis, SeenFor: DefaultRegion, Note: noteKinesisPutUnits},
	// Direct PUT or a Kinesis stream as source, first 500 TB per month.
	FirehoseIngestion: {USD: 0.029, Unit: "GB ingested (records rounded up to 5 KB)", Source: sourceFirehose, SeenFor: DefaultRegion, Note: noteFirehoseRounding},
	AthenaDataScanned: {USD: 5, Unit: "TB scanned (10 MB minimum per query)", Source: sourceAthena, SeenFor: DefaultRegion, Note: noteAthenaMinimum},
}

// prices is the reviewed table: region → price key → price.
var prices = map[string]map[PriceKey]Price{
	DefaultRegion: usEast1,
	regionSydney:  sydney(),
}

// sydney returns the ap-southeast-2 prices: its own S3 figure (⚠) and the
// us-east-1 figure for everything else, because AWS-console.md has no
// Sydney figure for those.
func sydney() map[PriceKey]Price {
	m := make(map[PriceKey]Price, len(usEast1))
	for k, p := range usEast1 {
		m[k] = p
	}
	m[S3StandardStorage] = Price{
		USD: 0.025, Unit: "GB-month", Source: sourceS3, SeenFor: "ap-southeast-1",
		Note: "⚠ S3 Standard in ap-southeast-2: $0.025/GB-month is the figure third-party copies give for Singapore (ap-southeast-1); it was not seen for Sydney.",
	}
	return m
}
