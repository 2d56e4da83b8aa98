// Command flows-lambda is the forwarding Lambda a tenant deploys in its own
// AWS account: Amazon Connect contact flows invoke it while a caller waits,
// and it asks switchboard's /flows, with the tenant's flows key, whether a
// schedule is open or what a group of operational parameters holds.
// README.md says how to build and deploy it, and what it replies.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	// The configuration is read once, at cold start; a bad one fails each
	// invocation with a message rather than the environment's start.
	lambda.Start(newForwarder(os.Getenv, os.Stdout).handle)
}
