# frozen_string_literal: true

# The Ruby runner can fail: a deliberately broken SDK fails the scenarios
# that use what was broken. Each test runs the runner in a subprocess with a
# file required first (-r) that breaks Cyme; test_runner.py does the same
# for the Python runner.

require "minitest/autorun"
require "open3"
require "rbconfig"
require "tmpdir"
require_relative "ruby_ops"

class RunnerTest < Minitest::Test
  BREAKAGES = {
    # Apps#get asks for the wrong path: /apps/NAME instead of /NAME.
    wrong_path: <<~RUBY,
      require "cyme"
      Cyme::Resources::Apps.class_eval do
        def get(name) = Cyme::App.from_wire(@client, @client.transport.request("GET", Cyme::Transport.path("apps", name)).body)
      end
    RUBY
    # A 404 raises ConflictError instead of NotFoundError.
    wrong_error: <<~RUBY
      require "cyme"
      Cyme::APIStatusError.singleton_class.prepend(Module.new do
        def from_response(status:, **rest)
          status == 404 ? Cyme::ConflictError.new(status: status, **rest) : super
        end
      end)
    RUBY
  }.freeze

  def test_unbroken_the_scenario_passes
    status, output, runs = run_runner("apps", nil)
    assert status.success?, output
    assert_equal({ "sync" => "passed" }, runs)
  end

  def test_a_method_sent_to_the_wrong_path_fails
    status, output, runs = run_runner("apps", :wrong_path)
    refute status.success?
    assert_equal({ "sync" => "failed" }, runs)
    assert_includes output, "apps, step 6 (getApp): expected a result, got NotFoundError (404)"
  end

  def test_a_wrong_error_mapping_fails
    status, output, runs = run_runner("branch", :wrong_error)
    refute status.success?
    assert_equal({ "sync" => "failed" }, runs)
    assert_includes output, "expected NotFoundError, got ConflictError (404)"
  end

  def test_the_table_has_every_operation
    spec = YAML.safe_load(File.read(File.join(Contract::REPO, "openapi.yaml")), aliases: true)
    ids = spec["paths"].values.flat_map { |item| item.except("parameters").values.map { |op| op["operationId"] } }
    assert_equal ids.sort, RubyOps::OPS.keys.sort
  end

  def test_an_argument_the_table_ignores_fails
    sdk = RubyOps::RubySdk.new("http://127.0.0.1:9", nil)
    call = Contract::Call.new(op: "getApp", args: { "app" => "x", "pool" => "solo" },
                              client: { "max_retries" => 0 }, headers: {})
    error = assert_raises(Contract::ScenarioError) { sdk.call(call) }
    assert_includes error.message, 'does not take ["pool"]'
  ensure
    sdk&.close
  end

  # Both SDKs perform a create-or-update operation's POST twin with its PUT form.
  PUT_FORM = %w[postApp postAutoscale postConsumer postQueue].freeze
  # What the table's call would have sent, caught before it is sent.
  Sent = Class.new(StandardError) do
    attr_reader :request

    def initialize(request)
      @request = request
      super(request.inspect)
    end
  end

  # The table's call for an operationId sends that operation's method and path.
  def test_each_entry_sends_its_operation
    client = Cyme::Client.new("http://127.0.0.1:9")
    client.transport.define_singleton_method(:request) { |method, path, **| raise Sent, [method, path] }
    spec_operations.each do |id, (method, template, names)|
      values = names.to_h { |name| [name, "#{name}-1"] }
      body = id.include?("Autoscale") && method != "GET" ? { "max" => 2 } : {}
      body = { "declarations" => [] } if id == "applyDeclarations" # the one body field a spec requires
      args = RubyOps::Args.new(id, values.merge(body))
      sent = assert_raises(Sent, id) { RubyOps::OPS.fetch(id).call(RubyOps::Sdk.new(client), args) }
      path = template.gsub(/\{(\w+)\}/) { values.fetch(Regexp.last_match(1)) }
      assert_equal [PUT_FORM.include?(id) ? "PUT" : method, path], sent.request, id
    end
  end

  private

  # operationId => [METHOD, path template, path parameter names]
  def spec_operations
    spec = YAML.safe_load(File.read(File.join(Contract::REPO, "openapi.yaml")), aliases: true)
    spec["paths"].each_with_object({}) do |(template, item), found|
      item.except("parameters").each do |method, op|
        found[op["operationId"]] = [method.upcase, template, template.scan(/\{(\w+)\}/).flatten]
      end
    end
  end

  # Runs one scenario through the Ruby runner; returns its exit status, its
  # output and what its results file says of the scenario.
  def run_runner(scenario, breakage)
    Dir.mktmpdir("cyme-runner") do |dir|
      argv = [RbConfig.ruby, "-I", File.join(Contract::REPO, "ruby-client/lib")]
      if breakage
        File.write(File.join(dir, "breakage.rb"), BREAKAGES.fetch(breakage))
        argv += ["-r", File.join(dir, "breakage.rb")]
      end
      argv += [File.join(__dir__, "scenarios_test.rb"), "-n", "test_#{scenario.tr('-', '_')}"]
      env = ENV.to_h.reject { |name, _| name.start_with?("CYME_") }.merge("CYME_CONTRACT_RESULTS" => dir)
      output, status = Open3.capture2e(env, *argv, unsetenv_others: true)
      results = JSON.parse(File.read(File.join(dir, "ruby.json")))
      [status, output, results.dig("scenarios", scenario, "runs")]
    end
  end
end
