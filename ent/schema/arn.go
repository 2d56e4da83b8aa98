package schema

import "switchboard/connectaws/arn"

// instanceARN validates an Amazon Connect instance's ARN.
func instanceARN(s string) error {
	_, err := arn.ParseInstance(s)
	return err
}

// roleARN validates an IAM role's ARN.
func roleARN(s string) error {
	_, err := arn.ParseRole(s)
	return err
}

// sesIdentityARN validates an SES identity's ARN (a domain or an address).
func sesIdentityARN(s string) error {
	_, err := arn.ParseSESIdentity(s)
	return err
}
