# frozen_string_literal: true

require "test_helper"
require "fileutils"
require "open3"

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
    assert_instance_of Cyme::Scheduled, scheduled
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
    cyme = Cyme::Client.new("http://127.0.0.1:#{LiveBranch.free_port}", max_retries: 0)
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

  # An operation added to openapi.yaml: the route generator is all it takes
  # for Client#call to send it and for its signature to validate. The
  # branch does not serve it, so WebMock answers, in a ruby of its own.
  NEW_OPERATION = <<~YAML
    paths:
      /{app}/instances/{instance}/pause:
        parameters:
          - {$ref: "#/components/parameters/App"}
          - {$ref: "#/components/parameters/Instance"}
        post:
          operationId: pauseInstance
          x-sdk-method: Instance.pause
          parameters:
            - {$ref: "#/components/parameters/Nowait"}
          responses:
            "200":
              description: The instance, paused.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Instance"}
  YAML
  CALL_IT = <<~RUBY
    require "cyme"
    require "webmock"
    include WebMock::API
    WebMock.enable!
    stub_request(:post, "http://cyme.test/pycon/instances/w1/pause?nowait=true")
      .to_return(body: '{"app": "pycon", "name": "w1"}', headers: { "Content-Type" => "application/json" })
    instance = Cyme::Client.new("http://cyme.test").call("pauseInstance", app: "pycon", instance: "w1", nowait: true)
    print instance.class, " ", instance.url
  RUBY

  def test_an_operation_added_to_the_spec_is_callable_once_generated
    Dir.mktmpdir("cyme-new-operation") do |dir|
      FileUtils.cp_r(%w[lib sig].map { |name| File.expand_path("../#{name}", __dir__) }, dir)
      generate_routes(dir, File.read(File.join(LiveBranch::ROOT, "openapi.yaml")).sub(/^paths:\n/, NEW_OPERATION))
      out, status = Open3.capture2e(RbConfig.ruby, "-I", File.join(dir, "lib"), "-e", CALL_IT)
      assert status.success?, out
      assert_equal "Cyme::Instance http://cyme.test/pycon/instances/w1", out
      signature = '("pauseInstance" operation_id, app: String, instance: String, ?nowait: bool?) -> Models::Instance'
      assert_includes File.read(File.join(dir, "sig/cyme/routes.rbs")), signature
      libraries = RBS_LIBRARIES.flat_map { |library| ["-r", library] }
      assert system(RbConfig.ruby, Gem.bin_path("rbs", "rbs"), "-I", File.join(dir, "sig"), *libraries, "validate",
                    "--silent", out: File::NULL), "rbs validate"
    end
  end

  def test_path_parameters_are_escaped_as_one_segment
    cyme = client
    error = assert_raises(Cyme::APIStatusError) { cyme.call("getInstance", app: "a/b", instance: "..") }
    assert_equal "#{cyme.base_url}/a%2Fb/instances/%2E%2E", error.request_url
  end

  private

  # Writes lib/cyme/routes.rb and sig/cyme/routes.rbs under dir from this spec.
  def generate_routes(dir, spec)
    File.write(File.join(dir, "openapi.yaml"), spec)
    out, status = Open3.capture2e(File.join(LiveBranch::ROOT, ".venv/bin/python"), "-c", GENERATE_ROUTES,
                                  File.join(LiveBranch::ROOT, "tools"), dir)
    assert status.success?, out
  end

  # tools/generate_routes.py's Ruby files from DIR/openapi.yaml, in DIR.
  GENERATE_ROUTES = <<~PYTHON
    import sys
    from pathlib import Path

    sys.path.insert(0, sys.argv[1])
    import generate_routes

    out = Path(sys.argv[2])
    for path, text in generate_routes.render(out / "openapi.yaml").items():
        if path.parts[0] == "ruby-client":
            out.joinpath(*path.parts[1:]).write_text(text)
  PYTHON
end
