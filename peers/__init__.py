"""The real peers Skillpath's tests and benchmarks talk to, started on 127.0.0.1: an LTI 1.3
platform (on lti1p3platform from PyPI), LRS servers (Learning Locker's statement service,
Ralph), a browser-like client for launches, the one fault-injecting proxy, and Skillpath
itself served over HTTP. Not part of the product (the wheel leaves it out); pytest fixtures
over these live in `tests/`."""
