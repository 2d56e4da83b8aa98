// Package fakeaws serves small, local stand-ins for the AWS APIs switchboard
// calls, speaking each API's own wire protocol, so that tests can point the
// real aws-sdk-go-v2 clients at them (o.BaseEndpoint) and exercise the SDK's
// signing, serialisation, retries and error handling without reaching AWS.
//
// NewSTS serves STS AssumeRole (the Query protocol); NewConnect serves the
// Amazon Connect operations switchboard uses (REST-JSON); NewS3 serves S3
// (gofakes3, refusing object writes without SSE-S3); NewSES serves SESv2
// SendEmail; NewSNS serves the signing certificate and subscription
// confirmation of SNS HTTPS deliveries. They record every
// request they receive, with the SigV4 access key that signed it, and let a
// test configure data and failures. A Connect fake that trusts an STS fake
// (Connect.TrustSTS) accepts only requests signed with credentials that STS
// fake issued and that have not yet expired, and checks each signature.
package fakeaws
