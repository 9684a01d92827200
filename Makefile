.PHONY: build test demo bench-git fuzz

build:
	go build -o ksbfolio ./cmd/ksbfolio

test:
	bash scripts/test.sh

demo:
	go run ./cmd/ksbfolio demo

bench-git:
	bash scripts/bench-git.sh

# Run every fuzz test briefly (FUZZTIME=1m for longer).
FUZZTIME ?= 20s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)
