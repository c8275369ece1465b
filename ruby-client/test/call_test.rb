# frozen_string_literal: true

require "test_helper"

# Client#call: any operation of the route table by its operationId.
class CallTest < Minitest::Test
  include BranchTest

  def test_answers_are_what_the_sdks_methods_return
    cyme = client
    name = unique
    app = cyme.call("putApp", app: name, broker: "amqp://guest:secret@localhost//")
    assert_instance_of Cyme::App, app
    assert_equal "amqp://guest:**@localhost//", app.broker
    instance = cyme.call("createNamedInstance", app: name, instance: "w1", pool: "threads")
    assert_instance_of Cyme::Instance, instance
    assert_equal instance, cyme.call("getInstance", app: name, instance: "w1")
    assert_equal({ max: 1, min: 1 }, instance.autoscale) # bound to the client
    assert_equal ["w1"], cyme.call("listInstances", app: name)
    assert_equal({ max: 3, min: 2 }, cyme.call("putAutoscale", app: name, instance: "w1", min: 2, max: 3))
    consumers = cyme.call("listConsumers", app: name, instance: "w1")
    assert_equal [Cyme::Models::Consumer], consumers.map(&:class)
    assert_equal "pong", cyme.call("ping").ok
    assert_includes cyme.call("getOpenAPI"), "operationId: getOpenAPI"
  ensure
    cyme&.delete(name)
  end

  def test_nowait_answers_with_a_scheduled
    cyme = client
    name = unique
    cyme.add(name)
    scheduled = cyme.call("createNamedInstance", app: name, instance: "w1", nowait: true)
    assert_instance_of Cyme::Models::Scheduled, scheduled
    assert_equal "createNamedInstance", scheduled.operation
    assert_instance_of Cyme::Instance, cyme.call("createNamedInstance", app: name, instance: "w2", nowait: false)
  ensure
    cyme&.delete(name)
  end

  def test_the_idempotency_key_of_a_post_is_a_keyword
    cyme = client
    name = unique
    cyme.add(name)
    key = "key-#{SecureRandom.hex(8)}"
    first = cyme.call("createInstance", app: name, idempotency_key: key)
    assert_equal first.name, cyme.call("createInstance", app: name, idempotency_key: key).name
    assert_equal [first.name], cyme.call("listInstances", app: name)
  ensure
    cyme&.delete(name)
  end

  # Raised before any request: the client's port has no branch, so a
  # request would raise Cyme::APIConnectionError instead.
  def test_unknown_keywords_and_missing_path_parameters_are_named
    cyme = Cyme::Client.new("http://127.0.0.1:#{Branch.free_port}", max_retries: 0)
    error = assert_raises(ArgumentError) { cyme.call("getInstance", app: "pycon", instance: "w1", pool: "x", y: 1) }
    assert_equal "getInstance: unknown keywords pool, y", error.message
    error = assert_raises(ArgumentError) { cyme.call("getInstance", app: "pycon") }
    assert_equal "getInstance: missing keywords instance", error.message
    error = assert_raises(ArgumentError) { cyme.call("getInstance", app: "pycon", instance: nil) }
    assert_equal "getInstance: missing keywords instance", error.message
    error = assert_raises(ArgumentError) { cyme.call("getInstances", app: "pycon") }
    assert_equal 'unknown operationId "getInstances"', error.message
    assert_raises(Cyme::APIConnectionError) { cyme.call("getInstance", app: "pycon", instance: "w1") }
  end

  def test_path_parameters_are_escaped_as_one_segment
    cyme = client
    error = assert_raises(Cyme::APIStatusError) { cyme.call("getInstance", app: "a/b", instance: "..") }
    assert_equal "#{cyme.base_url}/a%2Fb/instances/%2E%2E", error.request_url
  end
end
