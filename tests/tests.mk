.PHONY: tests
tests:
unit:
e2e:
