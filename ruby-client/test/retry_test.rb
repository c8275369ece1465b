# frozen_string_literal: true

require "test_helper"
require "logger"
require "minitest/mock"
require "stringio"
require "webmock"
WebMock.disable! # enabled only by the tests that need it, below

# Retries: Retry-After, backoff, idempotency keys.
class RetryTest < Minitest::Test
  include BranchTest

  def test_retry_after_then_success
    cyme = client
    started = monotonic
    names = fault(cyme, "status=503; retry-after=1; times=2") { cyme.all_names }
    assert_kind_of Array, names
    assert_operator monotonic - started, :>=, 2.0
  end

  def test_gives_up_after_max_retries
    cyme = client(max_retries: 1)
    assert_raises(Cyme::InternalServerError) { fault(cyme, "status=503; retry-after=0; times=2") { cyme.all_names } }
  end

  def test_no_retry_on_client_errors
    cyme = client(max_retries: 2)
    started = monotonic
    assert_raises(Cyme::NotFoundError) { fault(cyme, "status=404; times=1") { cyme.all_names } }
    assert_operator monotonic - started, :<, 0.4 # no backoff was waited
  end

  def test_timeout_is_retried
    cyme = client(timeout: 0.5)
    assert_kind_of Array, fault(cyme, "delay=1; times=1") { cyme.all_names }
  end

  # `after`: the branch creates the instance, then the answer is lost. Only
  # the key reused by the retry keeps it from making a second one.
  def test_post_retried_with_the_same_idempotency_key_creates_one_instance
    cyme = client
    app = cyme.add(unique)
    instance = fault(cyme, "status=503; retry-after=0; times=1; after") { app.instances.add }
    assert_equal [instance.name], app.instances.all_names
  ensure
    app&.delete
  end

  def test_dropped_post_is_retried
    cyme = client
    app = cyme.add(unique)
    instance = fault(cyme, "drop; times=1; after") { app.instances.add }
    assert_equal [instance.name], app.instances.all_names
  ensure
    app&.delete
  end

  def test_every_attempt_of_a_post_sends_the_same_key
    WebMock.enable!
    keys = []
    WebMock.stub_request(:post, "http://cyme.test/a/instances").to_return do |request|
      keys << request.headers["Idempotency-Key"]
      keys.size < 3 ? { status: 502 } : { status: 201, body: "{}", headers: { "Content-Type" => "application/json" } }
    end
    cyme = Cyme::Client.new("http://cyme.test")
    cyme.transport.stub(:sleep, nil) { cyme.transport.request("POST", "/a/instances", body: {}) }
    assert_equal 3, keys.size
    assert_equal 1, keys.uniq.size
    assert_match(/\A\h{8}-\h{4}-/, keys.first)
  ensure
    WebMock.reset!
    WebMock.disable!
  end

  def test_debug_log_names_requests_and_retries_but_no_secrets
    out = StringIO.new
    logger = Logger.new(out, level: Logger::DEBUG)
    cyme = client(logger: logger, token: "tok-SECRET")
    fault(cyme, "status=503; retry-after=0; times=1") { cyme.add(unique, broker: "amqp://u:pw-SECRET@h//") }
    assert_match(%r{PUT /t-\h+ -> 503}, out.string)
    assert_match(/retrying PUT/, out.string)
    assert_match(%r{PUT /t-\h+ -> 200|PUT /t-\h+ -> 201}, out.string)
    refute_match(/SECRET/, out.string)
  end

  def test_retry_after_as_http_date
    WebMock.enable!
    url = "http://cyme.test:8000/"
    WebMock.stub_request(:get, url)
           .to_return({ status: 503, headers: { "Retry-After" => (Time.now + 2).httpdate } },
                      { status: 200, body: "[]", headers: { "Content-Type" => "application/json" } })
    slept = []
    cyme = Cyme::Client.new("http://cyme.test:8000")
    cyme.transport.stub(:sleep, ->(seconds) { slept << seconds }) { assert_equal [], cyme.all_names }
    assert_equal 1, slept.size
    assert_in_delta 1.5, slept.first, 0.6 # Date has one-second precision
  ensure
    WebMock.reset!
    WebMock.disable!
  end

  # `require "cyme"` leaves OpenSSL to net/http's autoload (the first https
  # connection): it would double the require's time.
  def test_require_does_not_load_openssl
    lib = File.expand_path("../lib", __dir__)
    check = 'require "cyme"; exit(Object.autoload?(:OpenSSL) ? 0 : 1)'
    assert system(RbConfig.ruby, "-I", lib, "-e", check), "require \"cyme\" loaded OpenSSL"
  end

  # `time` (for an HTTP-date Retry-After) and `logger` (for CYME_LOG=debug)
  # load when first needed, and work then.
  def test_require_leaves_time_and_logger_until_needed
    lib = File.expand_path("../lib", __dir__)
    check = <<~RUBY
      require "cyme"
      abort "time loaded" if Time.respond_to?(:httpdate)
      abort "logger loaded" if defined?(Logger)
      date = (Time.now + 30).utc.strftime("%a, %d %b %Y %H:%M:%S GMT")
      delay = Cyme::Transport.allocate.__send__(:parse_retry_after, date)
      abort "date read as \#{delay.inspect}" unless delay.between?(25, 31)
      ENV["CYME_LOG"] = "debug"
      abort "no logger" unless Cyme::Client.new("http://localhost:1").transport.instance_variable_get(:@logger)
    RUBY
    assert system(RbConfig.ruby, "-I", lib, "-e", check), "require \"cyme\" and first use"
  end

  # Once OpenSSL is loaded, its errors are connection errors all the same.
  def test_ssl_error_is_retried_as_a_connection_error
    require "openssl"
    WebMock.enable!
    WebMock.stub_request(:get, "https://cyme.test/")
           .to_raise(OpenSSL::SSL::SSLError).then
           .to_return(status: 200, body: "[]", headers: { "Content-Type" => "application/json" })
    cyme = Cyme::Client.new("https://cyme.test", max_retries: 1)
    cyme.transport.stub(:sleep, nil) { assert_equal [], cyme.all_names }
    WebMock.stub_request(:get, "https://cyme.test/").to_raise(OpenSSL::SSL::SSLError)
    error = assert_raises(Cyme::APIConnectionError) { cyme.transport.stub(:sleep, nil) { cyme.all_names } }
    assert_match(/OpenSSL::SSL::SSLError/, error.message)
  ensure
    WebMock.reset!
    WebMock.disable!
  end

  def test_retry_after_is_capped_and_backoff_grows
    transport = Cyme::Client.new("http://cyme.test").transport
    huge = Cyme::Transport::Response.new(status: 503, headers: { "retry-after" => "3600" }, body: nil)
    assert_equal Cyme::MAX_RETRY_AFTER, transport.__send__(:retry_delay, 1, huge)
    delays = (1..6).map { |attempt| transport.__send__(:retry_delay, attempt, nil) }
    assert_in_delta 0.5, delays[0], 0.5 * Cyme::RETRY_JITTER
    assert_operator delays[5], :<=, Cyme::MAX_RETRY_DELAY
    assert_operator delays[3], :>, delays[0]
  end

  private

  def fault(cyme, value, &)
    cyme.with_headers("Cyme-Fault" => "#{value}; id=#{SecureRandom.hex(8)}", &)
  end
end
