// Package archtest holds the tests that keep the layers of the module
// apart: which packages may import the GraphQL ones.
package archtest
