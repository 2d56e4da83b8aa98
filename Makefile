# switchboard: `make test` runs everything; `make run` serves the demo.
GO ?= go

.PHONY: run test bench fuzz generate migration fmt

run:
	$(GO) run ./cmd/switchboard

# The whole suite on SQLite and on a throwaway PostgreSQL (started and stopped here).
test:
	scripts/test.sh

# Benchmarks print their figures; compare ratios within one run.
bench:
	scripts/bench.sh

# Every fuzz target for FUZZTIME each (default 30s): make fuzz FUZZTIME=2m
fuzz:
	scripts/fuzz.sh

# Regenerate ent, entgql and gqlgen output.
generate:
	$(GO) generate ./...

# A new versioned migration for both stores: make migration NAME=add_things
migration:
	@test -n "$(NAME)" || (echo "usage: make migration NAME=what_it_does" >&2; exit 2)
	scripts/migration.sh "$(NAME)"

fmt:
	gofmt -w $$(git ls-files '*.go')
