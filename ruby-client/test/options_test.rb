# frozen_string_literal: true

require "test_helper"
require "logger"
require "minitest/mock"
require "stringio"
require "tmpdir"
require "webmock"
WebMock.disable! # enabled only by the tests that need it, below

# Client#with_options (other defaults, the same connections) and the
# idempotency_key of Instances#add.
class OptionsTest < Minitest::Test
  include BranchTest

  def test_with_options_changes_the_timeout_and_leaves_the_original_alone
    cyme = client(max_retries: 0)
    fast = cyme.with_options(timeout: 0.5)
    started = monotonic
    assert_raises(Cyme::APITimeoutError) { fault(fast, "delay=2") { fast.all_names } }
    assert_operator monotonic - started, :<, 1.5
    # The original waits its own 30 s on the same connection.
    assert_kind_of Array, fault(cyme, "delay=1") { cyme.all_names }
    assert_equal [0.5, Cyme::DEFAULT_TIMEOUT], [fast.timeout, cyme.timeout]
  end

  # Each request sets its own timeouts on the connection it takes from the
  # shared pool: the fast client's requests leave no short timeout behind
  # for the original's, on the same connections.
  def test_the_clients_share_connections_each_request_with_its_timeout
    cyme = client(max_retries: 0)
    fast = cyme.with_options(timeout: 0.3)
    threads = Array.new(3) do
      [Thread.new { fault(cyme, "delay=0.6") { cyme.all_names } },
       Thread.new { Array.new(5) { fast.all_names } }]
    end
    threads.flatten.each { |thread| assert_kind_of Array, thread.value }
    assert_raises(Cyme::APITimeoutError) { fault(fast, "delay=0.6") { fast.all_names } }
  end

  def test_with_options_changes_max_retries_and_leaves_the_original_alone
    cyme = client
    once = cyme.with_options(max_retries: 0)
    error = assert_raises(Cyme::InternalServerError) { fault(once, "status=503; retry-after=0") { once.all_names } }
    assert_equal 503, error.status
    assert_kind_of Array, fault(cyme, "status=503; retry-after=0") { cyme.all_names }
    assert_equal [0, Cyme::DEFAULT_MAX_RETRIES], [once.max_retries, cyme.max_retries]
  end

  def test_settings_left_out_keep_their_value
    cyme = client(timeout: 7.0, open_timeout: 3.0, max_retries: 4)
    other = cyme.with_options(max_retries: 1).with_options(timeout: 2.0)
    assert_equal [2.0, 3.0, 1], [other.timeout, other.open_timeout, other.max_retries]
    assert_equal [7.0, 3.0, 4], [cyme.timeout, cyme.open_timeout, cyme.max_retries]
    assert_equal cyme.base_url, other.base_url
    assert_instance_of Cyme::Client, other
  end

  def test_with_options_keeps_headers_and_logger_and_hides_the_token
    out = StringIO.new
    request_id = "options-#{SecureRandom.hex(4)}"
    cyme = client(token: "tok-SECRET", logger: Logger.new(out, level: Logger::DEBUG),
                  headers: { "X-Request-Id" => request_id })
    once = cyme.with_options(max_retries: 0)
    error = assert_raises(Cyme::InternalServerError) { fault(once, "status=503") { once.all_names } }
    assert_equal request_id, error.request_id
    assert_match(%r{GET / -> 503}, out.string)
    refute_match(/SECRET/, once.inspect)
    refute_match(/SECRET/, once.transport.inspect)
  end

  def test_with_options_keeps_the_token
    Dir.mktmpdir do |dir|
      token_file = File.join(dir, "token")
      File.write(token_file, "s3cret-token\n")
      url = Branch.start("--token-file", token_file)
      assert_equal [], Cyme::Client.new(url, token: "s3cret-token").with_options(max_retries: 0).all_names
      assert_raises(Cyme::AuthenticationError) { Cyme::Client.new(url, token: "wrong").with_options.all_names }
    end
  end

  # A with_headers block of either client reaches the other's requests.
  def test_with_headers_reaches_a_client_made_by_with_options
    cyme = client
    assert_raises(Cyme::InternalServerError) do
      fault(cyme, "status=503") { cyme.with_options(max_retries: 0).all_names }
    end
  end

  def test_close_of_either_client_is_followed_by_a_new_connection
    cyme = client
    other = cyme.with_options(timeout: 5.0)
    assert_kind_of Array, other.all_names
    other.close
    assert_kind_of Array, cyme.all_names
    cyme.close
    assert_kind_of Array, other.all_names
  end

  # `after`: the branch creates the instance, then the answer is lost; the
  # retry sends the caller's key and gets the first answer.
  def test_idempotency_key_is_reused_by_retries_and_by_a_later_call
    cyme = client
    app = cyme.add(unique)
    key = "key-#{SecureRandom.hex(8)}"
    instance = fault(cyme, "status=503; retry-after=0; after") { app.instances.add(idempotency_key: key) }
    assert_equal [instance.name], app.instances.all_names
    # Sent again by hand, the key gets the same answer: it is the key that was sent.
    assert_equal instance.name, app.instances.add(idempotency_key: key).name
    assert_equal [instance.name], app.instances.all_names
    assert_raises(Cyme::UnprocessableEntityError) { app.instances.add(pool: "solo", idempotency_key: key) }
  ensure
    app&.delete
  end

  def test_idempotency_key_lets_a_caller_retry_by_hand
    once = client.with_options(max_retries: 0)
    app = once.add(unique)
    key = "key-#{SecureRandom.hex(8)}"
    assert_raises(Cyme::InternalServerError) do
      fault(once, "status=502; after") { app.instances.add("w1", idempotency_key: key) }
    end
    assert_equal "w1", app.instances.add("w1", idempotency_key: key).name
    assert_raises(Cyme::ConflictError) { app.instances.add("w1") }
  ensure
    app&.delete
  end

  def test_every_attempt_sends_the_given_key
    WebMock.enable!
    keys = []
    created = { status: 201, body: '{"app": "a", "name": "w"}', headers: { "Content-Type" => "application/json" } }
    WebMock.stub_request(:post, "http://cyme.test/a/instances").to_return do |request|
      keys << request.headers["Idempotency-Key"]
      keys.size < 3 ? { status: 502 } : created
    end
    cyme = Cyme::Client.new("http://cyme.test")
    app = Cyme::App.from_wire(cyme, { "name" => "a" })
    cyme.transport.stub(:sleep, nil) { app.instances.add(idempotency_key: "mine") }
    assert_equal %w[mine mine mine], keys
  ensure
    WebMock.reset!
    WebMock.disable!
  end

  private

  def fault(cyme, value, &)
    cyme.with_headers("Cyme-Fault" => "#{value}; id=#{SecureRandom.hex(8)}", &)
  end
end
