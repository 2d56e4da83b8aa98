// Package archtest holds the tests that keep the module's shape: which
// packages may import the GraphQL ones, and that the rules meant to live in
// one place (the instance lookup, system viewers, ARN parsing, making AWS
// clients) are not written again elsewhere.
package archtest
