# frozen_string_literal: true

module Cyme
  # Every default of the SDK lives here, with the same values as the Python
  # SDK's `cyme/_constants.py`, so that both behave alike against a branch.

  # Seconds to wait for a response (read and write), per attempt.
  DEFAULT_TIMEOUT = 30.0
  # Seconds to wait for the TCP connection to open.
  DEFAULT_OPEN_TIMEOUT = 5.0
  # Retries after the first attempt, for the failures `should_retry?` accepts.
  DEFAULT_MAX_RETRIES = 2
  # The first backoff delay, in seconds; doubled on every retry...
  INITIAL_RETRY_DELAY = 0.5
  # ...up to this many seconds.
  MAX_RETRY_DELAY = 8.0
  # A server's Retry-After is obeyed up to this many seconds.
  MAX_RETRY_AFTER = 60.0
  # Statuses worth another try: timeouts, rate limits and server failures.
  RETRY_STATUSES = [408, 429, 500, 502, 503, 504].freeze
  # Backoff delays are shortened by up to this fraction, at random, so that
  # many clients failing together do not retry together.
  RETRY_JITTER = 0.25
  # Where a client connects when given no URL and no CYME_URL.
  DEFAULT_BASE_URL = "http://localhost:8000"
end
