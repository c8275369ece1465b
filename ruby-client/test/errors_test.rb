# frozen_string_literal: true

require "test_helper"

# Every error class, raised by a real branch.
class ErrorsTest < Minitest::Test
  include BranchTest

  def test_tree
    assert_operator Cyme::APIError, :<, Cyme::Error
    assert_operator Cyme::APITimeoutError, :<, Cyme::APIConnectionError
    assert_operator Cyme::APIConnectionError, :<, Cyme::APIError
    %i[BadRequestError AuthenticationError PermissionDeniedError NotFoundError ConflictError
       UnprocessableEntityError RateLimitError InternalServerError].each do |name|
      assert_operator Cyme.const_get(name), :<, Cyme::APIStatusError
    end
  end

  def test_not_found_after_delete
    app = client.add(unique)
    instance = app.instances.add
    instance.delete
    error = assert_raises(Cyme::NotFoundError) { app.instances.get(instance.name) }
    assert_equal 404, error.status
    assert_equal "urn:cyme:problem:not-found", error.problem.type
    assert_equal "urn:cyme:problem:not-found", error.problem_type
    assert_empty error.errors
    assert_match(/\A\h{32}\z/, error.request_id)
    assert_equal "GET", error.request_method
    assert_equal "#{client.base_url}/#{app.name}/instances/#{instance.name}", error.request_url
  ensure
    app&.delete
  end

  def test_conflict
    app = client.add(unique)
    instance = app.instances.add
    assert_raises(Cyme::ConflictError) { app.instances.add(instance.name) }
    assert_raises(Cyme::ConflictError) { instance.consumers.delete("dq.#{instance.name}") }
  ensure
    app&.delete
  end

  def test_unprocessable_entity_lists_fields
    app = client.add(unique)
    instance = app.instances.add
    error = assert_raises(Cyme::UnprocessableEntityError) { instance.autoscale(min: 11, max: 10) }
    assert_equal "min", error.problem.errors.first["field"]
    assert_equal([%w[body min]], error.errors.map { |e| e.values_at("location", "field") })
    assert_equal "urn:cyme:problem:validation-error", error.problem_type
    assert_raises(Cyme::UnprocessableEntityError) { client.add("has space") }
  ensure
    app&.delete
  end

  def test_authentication
    Dir.mktmpdir do |dir|
      token_file = File.join(dir, "token")
      File.write(token_file, "s3cret-token\n")
      url = Branch.start("--token-file", token_file)
      error = assert_raises(Cyme::AuthenticationError) { Cyme::Client.new(url, token: "wrong").all_names }
      assert_equal 401, error.status
      refute_includes error.message, "wrong"
      assert_equal("pong", Cyme::Client.new(url, token: nil).ping) # /ping needs no token
      assert_equal [], Cyme::Client.new(url, token: "s3cret-token").all_names
      with_env("CYME_TOKEN" => "s3cret-token") { assert_equal [], Cyme::Client.new(url).all_names }
    end
  end

  # What a web page of another origin sends, or a request for a host name the
  # branch does not answer to (DNS rebinding), is refused whatever the token.
  def test_permission_denied
    cyme = client
    error = assert_raises(Cyme::PermissionDeniedError) do
      cyme.with_headers("Origin" => "http://evil.example") { cyme.ping }
    end
    assert_equal 403, error.status
    assert_equal "urn:cyme:problem:cross-site-request", error.problem_type
    error = assert_raises(Cyme::PermissionDeniedError) do
      cyme.with_headers("Host" => "attacker.example") { cyme.all_names }
    end
    assert_equal "urn:cyme:problem:host-not-allowed", error.problem_type
    refute_includes Cyme::RETRY_STATUSES, 403
  end

  def test_statuses_from_injected_faults
    cyme = client(max_retries: 0)
    { 400 => Cyme::BadRequestError, 429 => Cyme::RateLimitError, 500 => Cyme::InternalServerError,
      503 => Cyme::InternalServerError, 418 => Cyme::APIStatusError }.each do |status, klass|
      error = assert_raises(klass) { fault(cyme, "status=#{status}") { cyme.all_names } }
      assert_equal status, error.status
      assert_equal "urn:cyme:problem:injected-fault", error.problem.type
    end
  end

  def test_connection_error_on_a_closed_port
    cyme = Cyme::Client.new("http://127.0.0.1:#{LiveBranch.free_port}", max_retries: 0)
    error = assert_raises(Cyme::APIConnectionError) { cyme.ping }
    refute_kind_of Cyme::APITimeoutError, error
  end

  def test_timeout
    cyme = client(timeout: 0.5, max_retries: 0)
    started = monotonic
    assert_raises(Cyme::APITimeoutError) { fault(cyme, "delay=2") { cyme.all_names } }
    assert_operator monotonic - started, :<, 1.5
    assert_equal("pong", cyme.ping) # the connection is usable again
  end

  def test_dropped_connection_is_a_connection_error
    cyme = client(max_retries: 0)
    assert_raises(Cyme::APIConnectionError) { fault(cyme, "drop") { cyme.all_names } }
  end

  private

  def fault(cyme, value, &)
    cyme.with_headers("Cyme-Fault" => "#{value}; id=#{SecureRandom.hex(8)}", &)
  end

  def with_env(vars)
    saved = vars.to_h { |key, _| [key, ENV.fetch(key, nil)] }
    vars.each { |key, value| ENV[key] = value }
    yield
  ensure
    saved.each { |key, value| ENV[key] = value }
  end
end
