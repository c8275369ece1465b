# frozen_string_literal: true

require "test_helper"
require "yaml"

# Cyme::OPERATIONS against openapi.yaml, and every operation against a branch.
class OperationsTest < Minitest::Test
  include BranchTest

  SPEC = File.expand_path("../../openapi.yaml", __dir__)

  def spec_operation_ids
    paths = YAML.safe_load_file(SPEC, aliases: true).fetch("paths")
    paths.values.flat_map { |item| item.values.filter_map { |op| op["operationId"] if op.is_a?(Hash) } }.uniq
  end

  # The objects whose methods Cyme::OPERATIONS names, made without a
  # request, with the path parameters each is bound to; a method takes the
  # operation's other path parameters as its arguments.
  RECEIVERS = {
    "Client" => [[], ->(cyme, _) { cyme }],
    "Cluster" => [[], ->(cyme, _) { cyme.cluster }],
    "Resources::Apps" => [[], ->(cyme, _) { cyme.apps }],
    "App" => [%w[app], ->(cyme, values) { app(cyme, values) }],
    "Resources::Instances" => [%w[app], ->(cyme, values) { app(cyme, values).instances }],
    "Resources::Queues" => [%w[app], ->(cyme, values) { app(cyme, values).queues }],
    "Instance" => [%w[app instance], ->(cyme, values) { instance(cyme, values) }],
    "Resources::Consumers" => [%w[app instance], ->(cyme, values) { instance(cyme, values).consumers }],
    "Resources::Tasks" => [%w[app], ->(cyme, values) { app(cyme, values).tasks }],
    "Task" => [%w[app task], ->(cyme, values) { task(cyme, values) }]
  }.freeze
  # A value for every body field, so that each method sends its body (and
  # Instance#autoscale its PUT).
  FIELDS = { "broker" => "amqp://", "arguments" => "", "extra_config" => {}, "pool" => "solo", "max" => 2, "min" => 1,
             "exchange" => "ex", "exchange_type" => "direct", "routing_key" => "rk", "options" => {},
             "backend" => "redis://localhost:6379/1", "args" => [2, 3], "kwargs" => {}, "queue" => "q1",
             "countdown" => 1, "eta" => "2026-12-01T09:00:00Z", "expires" => 60, "priority" => 1,
             "declarations" => [] }.freeze

  def self.app(cyme, values) = Cyme::App.from_wire(cyme, "name" => values["app"])

  def self.instance(cyme, values) = Cyme::Instance.from_wire(cyme, "app" => values["app"], "name" => values["instance"])

  def self.task(cyme, values) = Cyme::Task.from_wire(cyme, values["app"], "id" => values["task"], "state" => "PENDING")

  def test_every_operation_id_has_a_method
    ids = spec_operation_ids
    assert_equal 43, ids.size
    assert_empty ids - Cyme::OPERATIONS.keys, "operationIds missing from Cyme::OPERATIONS"
    assert_empty Cyme::OPERATIONS.keys - ids, "Cyme::OPERATIONS names operations the spec lacks"
    Cyme::OPERATIONS.each do |id, route|
      target = route.sdk_method
      klass, method = target.split("#")
      assert Cyme.const_get(klass).public_method_defined?(method), "#{id}: #{target} does not exist"
    end
  end

  # Each method of Cyme::OPERATIONS, called with the operation's path
  # parameters and body fields, sends the operation's method and path; a
  # POST form sends its PUT twin's method, as the SDK does. Names that do
  # not exist make most calls a 404, which names the request too.
  def test_every_entry_sends_its_operations_method_and_path
    cyme = client
    Cyme::ROUTES.each_value do |route|
      values = path_values
      klass, method = route.sdk_method.split("#")
      bound, receiver = RECEIVERS.fetch(klass)
      args = (route.path_params - bound).map { |name| values.fetch(name) }
      keywords = (route.body_fields || []).to_h { |name| [name.to_sym, FIELDS.fetch(name)] }
      # A body field the method takes as its argument (Cluster#apply's declarations).
      parameters = receiver.call(cyme, values).method(method).parameters
      positional = parameters.filter_map { |kind, name| name if kind == :req }
      args += positional.filter_map { |name| keywords.delete(name) }
      # An operation with no method of its own (the original's routes) is Client#call's.
      if method == "call"
        args = [route.operation_id]
        keywords = path_keywords(route, values)
      end
      sent = sent(cyme) { receiver.call(cyme, values).public_send(method, *args, **keywords) }
      assert_equal [sdk_http_method(route), fill(route.path, values)], sent, route.operation_id
    end
  ensure
    cleanup(cyme)
  end

  # Client#call sends every operation of the table as it is, POST forms too.
  def test_call_sends_every_operations_method_and_path
    cyme = client
    Cyme::ROUTES.each do |id, route|
      values = path_values
      keywords = path_keywords(route, values)
      keywords.merge!((route.body_fields || []).to_h { |name| [name.to_sym, FIELDS.fetch(name)] })
      assert_equal [route.http_method, fill(route.path, values)], sent(cyme) { cyme.call(id, **keywords) }, id
    end
  ensure
    cleanup(cyme)
  end

  def test_branch_operations
    cyme = client
    assert_equal("pong", cyme.ping)
    id = cyme.branches.first
    branch = cyme.get_branch(id)
    assert_equal id, branch.id
    assert_equal URI(Branch.url).port, branch.port
    assert_includes cyme.spec, "operationId: getOpenAPI"
    assert_includes cyme.docs, "<html"
    assert_includes cyme.ui, "uPlot"
  end

  def test_app_operations
    cyme = client
    name = unique
    app = cyme.add(name, broker: "amqp://guest:secret@localhost//", extra_config: { "worker_prefetch_multiplier" => 4 })
    assert_equal "amqp://guest:**@localhost//", app.broker
    assert_equal({ "worker_prefetch_multiplier" => 4 }, app.extra_config)
    assert_equal "--x", cyme.apps.add(name, arguments: "--x").arguments
    assert_equal app.broker, cyme.get(name).broker # fields left out keep their value
    assert_includes cyme.all_names, name
    assert_includes cyme.all.map(&:name), name
    assert_equal name, cyme.delete(name).name
    refute_includes cyme.apps.all_names, name
  end

  def test_instance_operations
    app = client.add(unique)
    named = app.instances.add("w-#{SecureRandom.hex(4)}", pool: "threads", arguments: "--loglevel=INFO",
                                                          extra_config: { "worker_concurrency" => 2 })
    assert_equal "threads", named.pool
    assert_equal named, app.instances.get(named.name)
    assert_equal [named.name], app.instances.all.map(&:name)
    assert_equal({ max: 1, min: 1 }, named.autoscale)
    assert_equal named.name, app.instances.delete(named.name).name
    assert_empty app.instances.all_names
  ensure
    app&.delete
  end

  def test_nowait_returns_scheduled
    app = client.add(unique)
    name = "w-#{SecureRandom.hex(4)}"
    scheduled = app.instances.add(name, nowait: true)
    assert_instance_of Cyme::Scheduled, scheduled
    assert_equal "createNamedInstance", scheduled.operation
    instance = poll { app.instances.get(name) }
    assert_equal "putAutoscale", instance.autoscale(max: 3, nowait: true).operation
    assert_equal "putQueue", app.queues.add("q1", nowait: true).operation
    poll { app.queues.get("q1") }
    assert_equal "putConsumer", instance.consumers.add("q1", nowait: true).operation
    assert_equal "deleteInstance", instance.delete(nowait: true).operation
  ensure
    app&.delete
  end

  def test_queue_and_consumer_operations
    app = client.add(unique)
    instance = app.instances.add
    queue = app.queues.add("tasks", exchange: "ex", exchange_type: "topic", routing_key: "tasks.#",
                                    options: { "durable" => true })
    assert_equal "topic", queue.exchange_type
    got = app.queues.get("tasks")
    assert_equal queue.to_h.merge(messages: 0, consumers: 0, depth_error: nil), got.to_h
    assert_equal ["tasks"], app.queues.all_names
    assert_equal [got], app.queues.all
    consumer = instance.consumers.add("tasks")
    assert_equal "tasks.#", consumer.routing_key
    assert_equal "ex", consumer["exchange"]["name"]
    assert_equal ["dq.#{instance.name}", "tasks"].sort, instance.consumers.all.map(&:name).sort
    assert_equal "tasks", instance.consumers.delete("tasks").name
    assert_equal "tasks", app.queues.delete("tasks").name
    assert_equal instance.name, instance.delete.name
  ensure
    app&.delete
  end

  private

  # Names for the path parameters; the app's is new, and kept for #cleanup.
  def path_values
    (@apps ||= []) << unique
    { "app" => @apps.last, "instance" => "w1", "queue" => "q1", "branch" => "no-such-branch",
      "operation" => "0f5e0d8f6c1b4a3e9d2c7b6a5f4e3d2c", "task" => "proj.tasks.add" } # a task's name, or id
  end

  def path_keywords(route, values) = route.path_params.to_h { |name| [name.to_sym, values.fetch(name)] }

  def fill(template, values) = template.gsub(/\{(\w+)\}/) { values.fetch(Regexp.last_match(1)) }

  # The method and path of the last request the block made.
  def sent(cyme, &)
    raw = cyme.with_raw_response(&)
    [raw.request_method, URI(raw.request_url).path]
  rescue Cyme::APIStatusError => e
    [e.request_method, URI(e.request_url).path]
  end

  # What the SDK's method sends: a POST form's PUT twin, else the operation's method.
  def sdk_http_method(route)
    twin = Cyme::ROUTES.each_value.find do |other|
      other.http_method == "PUT" && other.path == route.path && other.sdk_method == route.sdk_method
    end
    route.http_method == "POST" && twin ? "PUT" : route.http_method
  end

  # Deletes the apps that putApp and postApp made.
  def cleanup(cyme)
    (cyme.all_names & @apps).each { |name| cyme.delete(name) }
  end

  def poll
    deadline = monotonic + 5
    begin
      yield
    rescue Cyme::NotFoundError
      raise if monotonic > deadline

      sleep 0.05
      retry
    end
  end
end
