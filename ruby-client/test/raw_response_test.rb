# frozen_string_literal: true

require "test_helper"

# Client#with_raw_response: the block's value and the last HTTP response of
# the block, per thread.
class RawResponseTest < Minitest::Test
  include BranchTest

  def test_the_last_response_of_the_block
    cyme = client
    name = unique
    raw = cyme.with_raw_response { cyme.add(name, broker: "amqp://") }
    assert_instance_of Cyme::RawResponse, raw
    assert_instance_of Cyme::App, raw.data
    assert_equal [201, "PUT", "#{cyme.base_url}/#{name}"], [raw.status, raw.request_method, raw.request_url]
    assert_equal "application/json", raw.headers["content-type"]
    assert_match(/\A\h{32}\z/, raw.request_id)
    assert_equal raw.headers["x-request-id"], raw.request_id
    raw = cyme.with_raw_response { [cyme.get(name), cyme.all_names].last }
    assert_equal [200, "GET", "#{cyme.base_url}/"], [raw.status, raw.request_method, raw.request_url]
    assert_includes raw.data, name
    assert_equal "#<Cyme::RawResponse GET #{cyme.base_url}/ -> 200>", raw.inspect
  ensure
    cyme&.delete(name)
  end

  def test_a_scheduled_change_is_a_202_and_its_url_has_no_query
    cyme = client
    app = cyme.add(unique)
    raw = cyme.with_raw_response { app.instances.add("w1", nowait: true) }
    assert_equal 202, raw.status
    # The request went to ...?nowait=true; a query may hold a secret, so it is never shown.
    assert_equal "#{app.url}/instances/w1", raw.request_url
    assert_instance_of Cyme::Scheduled, raw.data
  ensure
    app&.delete
  end

  # The status, headers and request id of a failure are the error's.
  def test_an_error_propagates
    cyme = client
    error = assert_raises(Cyme::NotFoundError) { cyme.with_raw_response { cyme.get(unique) } }
    assert_equal 404, error.status
  end

  # A 503 retried then answered: the response is the last one, the 200.
  def test_retried_calls_give_the_last_attempts_response
    cyme = client
    raw = cyme.with_headers("Cyme-Fault" => "status=503; retry-after=0; times=1; id=#{SecureRandom.hex(8)}") do
      cyme.with_raw_response { cyme.all_names }
    end
    assert_equal 200, raw.status
  end

  def test_a_block_without_a_response_raises
    cyme = client
    error = assert_raises(Cyme::Error) { cyme.with_raw_response { 42 } }
    assert_equal "with_raw_response: the block received no HTTP response from #{cyme.base_url}", error.message
    other = client # its own connection: its responses are not this client's
    assert_raises(Cyme::Error) { cyme.with_raw_response { other.ping } }
  end

  def test_a_client_made_by_with_options_shares_it
    cyme = client
    raw = cyme.with_raw_response { cyme.with_options(max_retries: 0).ping }
    assert_equal ["pong", "#{cyme.base_url}/ping"], [raw.data, raw.request_url]
    raw = cyme.with_options(timeout: 5.0).with_raw_response { cyme.branches }
    assert_equal "#{cyme.base_url}/branches", raw.request_url
  end

  def test_an_enclosing_block_sees_the_responses_of_the_blocks_inside
    cyme = client
    inner = nil
    outer = cyme.with_raw_response do
      cyme.ping
      inner = cyme.with_raw_response { cyme.branches }
    end
    assert_equal "#{cyme.base_url}/branches", inner.request_url
    assert_equal "#{cyme.base_url}/branches", outer.request_url
    assert_same inner, outer.data
  end

  # Each thread sees its own responses, though the threads share the client.
  def test_threads_see_their_own_responses
    cyme = client
    paths = { ping: "ping", branches: "branches", spec: "openapi.yaml", docs: "docs" }
    threads = paths.keys.map do |method|
      Thread.new { Array.new(20) { cyme.with_raw_response { cyme.public_send(method) }.request_url } }
    end
    paths.values.zip(threads.map(&:value)).each { |path, urls| assert_equal ["#{cyme.base_url}/#{path}"] * 20, urls }
  end
end
