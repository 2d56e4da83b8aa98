// Package connectaws reaches each tenant's Amazon Connect instance, and the
// other AWS services switchboard uses, in the tenant's own AWS account,
// through the cross-account IAM role the tenant created for switchboard,
// and reads the agent event stream Connect publishes about the tenant's
// agents.
//
// Clients assumes each tenant's role with STS (role ARN plus the external ID
// the tenant was given), caches the temporary credentials until shortly
// before they expire, and keeps one Connect, S3 and SES client per tenant
// role and region: it is the one maker of AWS clients for a tenant, with
// every endpoint setting in its Options. Nothing is shared between tenants
// but the platform's own credentials. Package arn parses the ARNs involved.
// Errors that AWS returned to Clients' own calls are *UpstreamError values,
// which match ErrUpstream with errors.Is and carry the AWS error code.
//
// ParseAgentEvent decodes one agent event stream record;
// ParseFirehoseRequest unpacks a batch of them as delivered by Amazon Data
// Firehose to an HTTP endpoint (or by a forwarder, as a JSON array or
// newline-delimited JSON), and FirehoseResponse writes the answer Firehose
// expects.
package connectaws
