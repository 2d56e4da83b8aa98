// Package bench holds switchboard's end-to-end benchmarks: live status
// fan-out against a raw gorilla/websocket broadcast, and status writes on
// PostgreSQL against a bare INSERT + NOTIFY loop, each with its baseline
// measured in the same run. Run them with `make bench`.
package bench
