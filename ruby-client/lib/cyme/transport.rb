# frozen_string_literal: true

require "json"
require "net/http"
require "securerandom"
require "uri"

module Cyme
  # The HTTP side of a client: its settings (token, headers, timeouts,
  # retries) and the retry loop around a ConnectionPool, which every thread
  # shares. Resources never see Net::HTTP; they call #request.
  class Transport
    # What #request returns: the status, the headers (lowercase names) and
    # the body, parsed when it is JSON.
    Response = Struct.new(:status, :headers, :body, keyword_init: true)
    # One call of #request: what every attempt sends again.
    Call = Struct.new(:http_method, :path, :url, :query, :body, :headers, :idempotency_key)

    # Failures of the connection itself; the request may not have arrived.
    # OpenSSL::SSL::SSLError joins them once OpenSSL is loaded (see
    # #connection_errors): naming it here would load OpenSSL, which net/http
    # only autoloads for https, and double the time `require "cyme"` takes.
    CONNECTION_ERRORS = [
      IOError, EOFError, SystemCallError, SocketError, Net::HTTPBadResponse, Net::ProtocolError
    ].freeze
    TIMEOUT_ERRORS = [Net::OpenTimeout, Net::ReadTimeout, Net::WriteTimeout].freeze
    # The header that makes a POST safe to retry (see #request).
    IDEMPOTENCY_KEY = "Idempotency-Key"
    # The headers of a call that adds none.
    EMPTY_HEADERS = {}.freeze

    # @return [URI::HTTP] the branch's URL, without credentials
    attr_reader :base_uri
    # @return [Integer]
    attr_reader :max_retries
    # @return [Float]
    attr_reader :timeout
    # @return [Float]
    attr_reader :open_timeout

    # @param base_url [String] the branch, "http://localhost:8000" (or "http://:8000")
    # @param token [String, nil] the branch's bearer token
    # @param timeout [Float] seconds to wait for a response, per attempt
    # @param open_timeout [Float] seconds to wait for a connection
    # @param max_retries [Integer] retries after the first attempt
    # @param logger [Logger, nil] where to log requests at debug level
    # @param headers [Hash{String => String}] sent with every request
    # @param verify [Boolean] whether to verify an https branch's certificate
    # @param ca_file [String, nil] the CAs to verify it with (see ConnectionPool)
    def initialize(base_url, token:, timeout:, open_timeout:, max_retries:, logger:, headers:, verify: true,
                   ca_file: nil)
      @base_uri = self.class.parse_base_url(base_url)
      @token = token
      @timeout = timeout
      @open_timeout = open_timeout
      @max_retries = max_retries
      @logger = logger
      @headers = headers.transform_keys(&:to_s).freeze
      @url = @base_uri.to_s.freeze
      @fixed_headers = fixed_headers.freeze
      @pool = ConnectionPool.new(@base_uri, verify:, ca_file:)
      @thread_key = :"cyme_headers_#{object_id}"
      @raw_key = :"cyme_raw_response_#{object_id}"
    end

    # A transport with other defaults and everything else the same, down to
    # the connections and the headers of #with_headers blocks; nil keeps a
    # setting as it is. This one is left unchanged.
    #
    # @param timeout [Float, nil]
    # @param open_timeout [Float, nil]
    # @param max_retries [Integer, nil]
    # @return [Transport]
    def with_options(timeout: nil, open_timeout: nil, max_retries: nil)
      dup.tap { |copy| copy.__send__(:change_options, timeout, open_timeout, max_retries) }
    end

    # A transport of another branch (a cluster member) with this one's
    # token, timeouts, retries, logger, headers and TLS settings (verify,
    # ca_file), and connections of its own.
    #
    # @param base_url [String]
    # @param options [Hash] #initialize's keywords to change
    # @return [Transport]
    def for_url(base_url, **options)
      self.class.new(base_url, **{ token: @token, timeout: @timeout, open_timeout: @open_timeout,
                                   max_retries: @max_retries, logger: @logger, headers: @headers,
                                   **@pool.tls_settings, **options })
    end

    # Normalises a branch URL: "http://:8000" means localhost, a missing
    # scheme means http, and a trailing slash is dropped.
    #
    # @param url [String]
    # @return [URI::HTTP]
    def self.parse_base_url(url)
      url = "http://#{url}" unless url.match?(%r{\A[a-z][a-z0-9+.-]*://}i)
      uri = URI.parse(url.sub(%r{://:(\d)}, "://localhost:\\1"))
      raise ArgumentError, "not an http(s) URL: #{url.inspect}" unless uri.is_a?(URI::HTTP) && uri.host

      uri.host = "localhost" if uri.host.empty?
      uri.userinfo = nil
      uri.path = uri.path.chomp("/")
      uri.query = uri.fragment = nil
      uri
    end

    # Builds a path from segments, each escaped, so that a name can never
    # add a segment or a query: path("pycon", "instances") => "/pycon/instances"
    #
    # @param segments [Array<String>]
    # @return [String]
    def self.path(*segments)
      "/#{segments.map { |segment| escape_segment(segment.to_s) }.join('/')}"
    end

    # The characters a segment keeps as they are; every other byte is %XX.
    UNRESERVED = /[^A-Za-z0-9_.~@:-]/

    # @param segment [String]
    # @return [String]
    def self.escape_segment(segment)
      return segment.gsub(".", "%2E") if segment.match?(/\A\.*\z/) # "", ".", ".." stay one segment
      return segment if segment.ascii_only? && !segment.match?(UNRESERVED) # most names: nothing to copy

      segment.b.gsub(UNRESERVED) { |byte| format("%%%02X", byte.ord) }
    end

    # Sends a request, retrying as #should_retry? allows, and returns the
    # response or raises the matching Cyme::APIError.
    #
    # @param method [String] "GET", "PUT", "POST" or "DELETE"
    # @param path [String] built with Transport.path
    # @param query [Hash{String => Object}, nil]
    # @param body [Hash{String => Object}, nil] sent as JSON
    # @param headers [Hash{String => String}] added to this request
    # @param idempotency_key [String, nil] the Idempotency-Key of a POST
    #   (other methods send none); a new UUID when nil
    # @return [Response]
    def request(method, path, query: nil, body: nil, headers: EMPTY_HEADERS, idempotency_key: nil)
      # One key per call, given or made here, and sent on every attempt: the
      # branch replays its first answer instead of doing the work twice.
      key = method == "POST" ? idempotency_key || SecureRandom.uuid : nil
      call = Call.new(method, path, full_url(path), query, body, headers, key)
      attempt = 0
      loop do
        response, error = attempt_once(call)
        return response if error.nil? && response.status < 400
        raise error || status_error(call, response) unless attempt < max_retries && should_retry?(call, response, error)

        attempt += 1
        sleep(wait_before_retry(call, attempt, response, error))
      end
    end

    # Extra headers for the requests this thread makes in the block, such as
    # Cyme-Fault in tests, through this transport or one made from it by
    # #with_options. Other threads sharing the client are unaffected.
    #
    # @param headers [Hash{String => String}]
    # @return [Object] the block's value
    def with_headers(headers)
      previous = Thread.current[@thread_key]
      Thread.current[@thread_key] = (previous || {}).merge(headers.transform_keys(&:to_s))
      yield
    ensure
      Thread.current[@thread_key] = previous
    end

    # The block's value with the last HTTP response that this thread
    # received in the block, through this transport or one made from it by
    # #with_options. Other threads sharing the client are unaffected; an
    # enclosing block sees the responses of the blocks inside it.
    #
    # @return [Cyme::RawResponse]
    # @raise [Cyme::Error] when the block received no response
    def with_raw_response
      outer = Thread.current[@raw_key]
      last = Thread.current[@raw_key] = []
      raw_response(yield, *last)
    ensure
      Thread.current[@raw_key] = outer
      outer&.replace(last) unless last.nil? || last.empty?
    end

    # Closes the connections, every thread's, shared with the transports of
    # #with_options: the idle ones now, the busy ones as their responses
    # arrive. The next request opens a new one.
    #
    # @return [void]
    def close = @pool.close

    # @return [String]
    def inspect
      "#<#{self.class.name} #{base_uri}>"
    end

    private

    def change_options(timeout, open_timeout, max_retries)
      @timeout = timeout || @timeout
      @open_timeout = open_timeout || @open_timeout
      @max_retries = max_retries || @max_retries
    end

    # The retry rule, the same as the Python SDK's.
    def should_retry?(call, response, error)
      case
      # A POST without a key could create twice; every POST made by this
      # client has one, so this only guards against future callers.
      when call.http_method == "POST" && call.idempotency_key.nil? then false
      # No response: the connection failed, broke, or timed out.
      when error then true
      # Timeouts, rate limits and server failures are worth another try;
      # other statuses (404, 409, 422...) would fail the same way again.
      else RETRY_STATUSES.include?(response.status)
      end
    end

    # Seconds before the next attempt: the branch's Retry-After when it sent
    # one (capped at MAX_RETRY_AFTER), else exponential backoff with jitter.
    def retry_delay(attempt, response)
      retry_after = response && parse_retry_after(response.headers["retry-after"])
      return retry_after.clamp(0.0, MAX_RETRY_AFTER) if retry_after

      delay = [INITIAL_RETRY_DELAY * (2**(attempt - 1)), MAX_RETRY_DELAY].min
      delay * (1 - (RETRY_JITTER * rand))
    end

    # Retry-After is either seconds or an HTTP date.
    def parse_retry_after(value)
      return nil if value.nil? || value.strip.empty?
      return Float(value) if value.strip.match?(/\A\d+(\.\d+)?\z/)

      # Loaded here: an HTTP date is rare, and `time` is a tenth of what
      # `require "cyme"` costs.
      require "time"
      Time.httpdate(value.strip) - Time.now
    rescue ArgumentError
      nil
    end

    def wait_before_retry(call, attempt, response, error)
      delay = retry_delay(attempt, response)
      reason = error ? error.class.name : response&.status
      log { "retrying #{call.http_method} #{call.path} in #{delay.round(2)} s (#{attempt}/#{max_retries}): #{reason}" }
      delay
    end

    def attempt_once(call)
      request = build_request(call)
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      raw = @pool.request(request, timeout: @timeout, open_timeout: @open_timeout)
      elapsed = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000
      log { "#{call.http_method} #{call.path} -> #{raw.code} (#{elapsed.round(1)} ms)" }
      [received(call, to_response(raw)), nil]
    rescue *TIMEOUT_ERRORS
      log { "#{call.http_method} #{call.path} -> timeout" }
      [nil, APITimeoutError.new(request_method: call.http_method, request_url: call.url)]
    rescue *connection_errors => e
      log { "#{call.http_method} #{call.path} -> #{e.class.name}" }
      [nil, connection_error(call, e)]
    end

    # The APIConnectionError to retry after for a failed connection, or
    # raised at once for a certificate that was refused: another try would
    # fail the same way, and the message says why, without the OpenSSL
    # error under it (Exception#cause).
    def connection_error(call, error)
      unverified = unverified_reason(error)
      raise unverified_error(call, unverified), cause: nil if unverified

      APIConnectionError.new(request_method: call.http_method, request_url: call.url,
                             message: connection_message(call, error))
    end

    # Why the branch's certificate was refused (OpenSSL's reason), or nil
    # for another error.
    def unverified_reason(error)
      return nil unless defined?(OpenSSL::SSL::SSLError) && error.is_a?(OpenSSL::SSL::SSLError)

      error.message[/certificate verify failed \((.+?)\)/, 1] || error.message[/hostname .* does not match the server/]
    end

    def unverified_error(call, reason)
      APIConnectionError.new(
        request_method: call.http_method, request_url: call.url,
        message: "The branch's TLS certificate could not be verified (#{reason}): trust the CA that signed it " \
                 "with ca_file: PATH (verify: false turns the check off, for tests only): " \
                 "#{call.http_method} #{call.url}"
      )
    end

    # What a branch serving HTTPS does to a request in plain HTTP: closes
    # the connection, which Net::HTTP reads as the end of the file.
    def connection_message(call, error)
      if error.is_a?(EOFError) && base_uri.scheme == "http"
        return "Connection error, closed without an answer (a branch that serves HTTPS needs an https:// URL): " \
               "#{call.http_method} #{call.url}"
      end

      "Connection error: #{call.http_method} #{call.url}: #{error.class.name}"
    end

    # CONNECTION_ERRORS, and OpenSSL::SSL::SSLError once an https connection
    # has loaded OpenSSL (until then no request can raise it).
    def connection_errors
      return CONNECTION_ERRORS if Object.autoload?(:OpenSSL) || !defined?(OpenSSL::SSL::SSLError)

      [*CONNECTION_ERRORS, OpenSSL::SSL::SSLError]
    end

    def build_request(call)
      target = base_uri.path + call.path + query_string(call)
      request = Net::HTTPGenericRequest.new(call.http_method, !call.body.nil?, call.http_method != "HEAD", target)
      request_headers(call).each { |name, value| request[name] = value }
      unless call.body.nil?
        request["Content-Type"] = "application/json"
        request.body = JSON.generate(call.body)
      end
      request
    end

    # The headers of every request: the SDK's, then the client's (which win).
    def fixed_headers
      result = { "Accept" => "application/json", "User-Agent" => "cyme-ruby/#{VERSION}" }
      result["Authorization"] = "Bearer #{@token}" if @token && !@token.empty?
      result.merge(@headers)
    end

    # The fixed headers, as they are for most calls; the call's
    # Idempotency-Key (which a client's header of that name overrides), the
    # #with_headers block's headers and the call's own otherwise, the last
    # winning.
    def request_headers(call)
      extra = Thread.current[@thread_key]
      return @fixed_headers if extra.nil? && call.idempotency_key.nil? && call.headers.empty?

      result = call.idempotency_key ? { IDEMPOTENCY_KEY => call.idempotency_key }.merge(@fixed_headers) : @fixed_headers
      result.merge(extra || EMPTY_HEADERS, call.headers)
    end

    # "?nowait=true", or "" for a call without a query.
    def query_string(call) = call.query.nil? || call.query.empty? ? "" : "?#{URI.encode_www_form(call.query)}"

    # Keeps the response as the last one of a #with_raw_response block, when
    # this thread is in one.
    def received(call, response)
      Thread.current[@raw_key]&.replace([call, response])
      response
    end

    def raw_response(data, call = nil, response = nil)
      raise Error, "with_raw_response: the block received no HTTP response from #{base_uri}" unless response

      RawResponse.new(data:, status: response.status, headers: response.headers, request_method: call.http_method,
                      request_url: call.url)
    end

    def to_response(raw)
      headers = {}
      raw.each_header { |name, value| headers[name] = value }
      Response.new(status: raw.code.to_i, headers:, body: parse_body(raw.body.to_s, headers["content-type"]))
    end

    def parse_body(text, content_type)
      return text unless content_type.to_s.match?(%r{\Aapplication/(problem\+)?json}) && !text.empty?

      JSON.parse(text)
    rescue JSON::ParserError
      text
    end

    def status_error(call, response)
      APIStatusError.from_response(status: response.status, headers: response.headers, body: response.body,
                                   request_method: call.http_method, request_url: call.url)
    end

    def full_url(path) = @url + path

    def log(&block)
      @logger&.debug("cyme") { block.call }
    end
  end
end
