# frozen_string_literal: true

require "cyme"
require_relative "contract"

# operationId -> the Ruby SDK call that performs it: the runner's one table.
#
# Each entry gets the `Sdk` of the step (its client, and handles for apps
# and instances) and the step's `Args` (by the spec's names). It makes
# exactly one SDK call, so that a fault or an error belongs to that operation
# alone: the handles are the SDK's own Cyme::App and Cyme::Instance objects
# for a name, made without a request, as if the app or instance had been
# fetched before. A step's headers (and Cyme-Fault) are sent with
# `Client#with_headers` around the entry; a step's idempotency_key goes to
# the `idempotency_key:` of the one method that sends a POST
# (Instances#add, Tasks#send), and other entries leave it out, as the Python
# SDK sends a key with a POST only.
module RubyOps
  # A step's arguments; every one must be used by the table's entry.
  class Args
    def initialize(op, values)
      @op = op
      @values = values
      @used = []
    end

    def req(name)
      raise Contract::ScenarioError, "#{@op} needs the argument #{name.inspect}" unless @values.key?(name)

      @used << name
      @values[name]
    end

    def opt(name)
      @used << name
      @values[name]
    end

    def nowait = opt("nowait") ? true : false

    def check_all_used
      unused = (@values.keys - @used).sort
      raise Contract::ScenarioError, "the Ruby table's #{@op} does not take #{unused}" unless unused.empty?
    end
  end

  # The step's client and idempotency key, and handles bound to the client.
  Sdk = Struct.new(:client, :idempotency_key) do
    def app(name) = Cyme::App.from_wire(client, { "name" => name })

    def instance(app, name) = Cyme::Instance.from_wire(client, { "app" => app, "name" => name })

    def task(app, id) = Cyme::Task.from_wire(client, app, { "id" => id, "state" => "PENDING" })

    def consumers(args) = instance(args.req("app"), args.req("instance")).consumers
  end

  # Whether the step asks for the cluster (`scope: cluster`): `client.cluster`'s call.
  cluster = ->(a) { a.opt("scope") == "cluster" }
  put_app = lambda do |s, a|
    fields = { broker: a.opt("broker"), arguments: a.opt("arguments"), extra_config: a.opt("extra_config"),
               backend: a.opt("backend") }
    cluster.call(a) ? s.client.cluster.add(a.req("app"), **fields) : s.client.apps.add(a.req("app"), **fields)
  end
  add_instance = lambda do |s, a, name|
    fields = { broker: a.opt("broker"), pool: a.opt("pool"), arguments: a.opt("arguments"),
               extra_config: a.opt("extra_config"), idempotency_key: s.idempotency_key }
    next s.client.cluster.add_instance(a.req("app"), branch: a.opt("branch"), **fields) if name.nil? && cluster.call(a)

    s.app(a.req("app")).instances.add(name, nowait: a.nowait, **fields)
  end
  autoscale = lambda do |s, a|
    s.instance(a.req("app"), a.req("instance")).autoscale(min: a.opt("min"), max: a.opt("max"), nowait: a.nowait)
  end
  send_task = lambda do |s, a|
    s.app(a.req("app")).tasks.send(a.req("task"), args: a.opt("args"), kwargs: a.opt("kwargs"), queue: a.opt("queue"),
                                                  routing_key: a.opt("routing_key"), countdown: a.opt("countdown"),
                                                  eta: a.opt("eta"), expires: a.opt("expires"),
                                                  priority: a.opt("priority"), idempotency_key: s.idempotency_key)
  end
  # The original branch's routes to a task, which the SDKs reach with `call`.
  original = ->(id) { ->(s, a) { s.client.call(id, app: a.req("app"), task: a.req("task")) } }
  put_queue = lambda do |s, a|
    fields = { exchange: a.opt("exchange"), exchange_type: a.opt("exchange_type"), routing_key: a.opt("routing_key"),
               options: a.opt("options") }
    next s.client.cluster.add_queue(a.req("app"), a.req("queue"), **fields) if cluster.call(a)

    s.app(a.req("app")).queues.add(a.req("queue"), nowait: a.nowait, **fields)
  end

  OPS = {
    "ping" => ->(s, _) { s.client.ping },
    "getOpenAPI" => ->(s, _) { s.client.spec },
    "getDocs" => ->(s, _) { s.client.docs },
    "getUI" => ->(s, _) { s.client.ui },
    "listBranches" => ->(s, _) { s.client.branches },
    "getBranch" => ->(s, a) { s.client.get_branch(a.req("branch")) },
    "listDeclarations" => ->(s, a) { s.client.cluster.declarations(since: a.opt("since")) },
    "applyDeclarations" => ->(s, a) { s.client.cluster.apply(a.req("declarations")) },
    "listApps" => ->(s, a) { cluster.call(a) ? s.client.cluster.apps : s.client.apps.all_names },
    "getApp" => ->(s, a) { s.client.apps.get(a.req("app")) },
    "putApp" => put_app,
    "postApp" => put_app,
    "deleteApp" => lambda do |s, a|
      cluster.call(a) ? s.client.cluster.delete(a.req("app")) : s.client.apps.delete(a.req("app"))
    end,
    "listInstances" => lambda do |s, a|
      next s.client.cluster.instances(a.req("app"), details: a.opt("details") ? true : false) if cluster.call(a)

      instances = s.app(a.req("app")).instances
      a.opt("details") ? instances.all : instances.all_names
    end,
    "createInstance" => ->(s, a) { add_instance.call(s, a, nil) },
    "createNamedInstance" => ->(s, a) { add_instance.call(s, a, a.req("instance")) },
    "getInstance" => ->(s, a) { s.app(a.req("app")).instances.get(a.req("instance")) },
    "deleteInstance" => ->(s, a) { s.app(a.req("app")).instances.delete(a.req("instance"), nowait: a.nowait) },
    "getAutoscale" => autoscale,
    "putAutoscale" => autoscale,
    "postAutoscale" => autoscale,
    "getInstanceStats" => ->(s, a) { s.instance(a.req("app"), a.req("instance")).stats },
    "listConsumers" => ->(s, a) { s.consumers(a).all },
    "putConsumer" => ->(s, a) { s.consumers(a).add(a.req("queue"), nowait: a.nowait) },
    "postConsumer" => ->(s, a) { s.consumers(a).add(a.req("queue"), nowait: a.nowait) },
    "deleteConsumer" => ->(s, a) { s.consumers(a).delete(a.req("queue"), nowait: a.nowait) },
    "listQueues" => lambda do |s, a|
      next s.client.cluster.queues(a.req("app"), details: a.opt("details") ? true : false) if cluster.call(a)

      queues = s.app(a.req("app")).queues
      a.opt("details") ? queues.all : queues.all_names
    end,
    "getQueue" => ->(s, a) { s.app(a.req("app")).queues.get(a.req("queue")) },
    "putQueue" => put_queue,
    "postQueue" => put_queue,
    "deleteQueue" => lambda do |s, a|
      next s.client.cluster.delete_queue(a.req("app"), a.req("queue")) if cluster.call(a)

      s.app(a.req("app")).queues.delete(a.req("queue"), nowait: a.nowait)
    end,
    "restartInstance" => ->(s, a) { s.instance(a.req("app"), a.req("instance")).restart(nowait: a.nowait) },
    "disableInstance" => ->(s, a) { s.instance(a.req("app"), a.req("instance")).disable(nowait: a.nowait) },
    "enableInstance" => ->(s, a) { s.instance(a.req("app"), a.req("instance")).enable(nowait: a.nowait) },
    "restartApp" => ->(s, a) { s.app(a.req("app")).restart(nowait: a.nowait) },
    "getOperation" => ->(s, a) { s.client.get_operation(a.req("operation")) },
    "getMetrics" => ->(s, _) { s.client.metrics },
    "sendTask" => send_task,
    "getTask" => lambda do |s, a|
      s.app(a.req("app")).tasks.get(a.req("task"), wait: a.opt("wait"), traceback: a.opt("traceback") ? true : false)
    end,
    "revokeTask" => lambda do |s, a|
      s.task(a.req("app"), a.req("task")).revoke(terminate: a.opt("terminate") ? true : false, signal: a.opt("signal"))
    end,
    "getTaskState" => original.call("getTaskState"),
    "getTaskResult" => original.call("getTaskResult"),
    "waitTaskResult" => original.call("waitTaskResult")
  }.freeze

  module_function

  # A result as JSON data: models as the JSON they came from.
  def plain(value)
    case value
    when Cyme::Models::Base then JSON.parse(value.to_json)
    when Array then value.map { |item| plain(item) }
    when Hash then value.to_h { |key, item| [key.to_s, plain(item)] }
    else value
    end
  end

  def failure(error)
    return Contract::Failure.new(cls: short_name(error), fields: []) unless error.is_a?(Cyme::APIStatusError)

    fields = (error.problem&.errors || []).map { |item| item["field"].to_s }
    Contract::Failure.new(cls: short_name(error), status: error.status, type: error.problem&.type, fields: fields)
  end

  def short_name(error) = error.class.name.split("::").last

  # Runs calls through Cyme::Client: one client per token and headers of the
  # scenario, and Client#with_options for a step's max_retries and timeout.
  class RubySdk
    def initialize(url, token)
      @url = url
      @token = token
      @clients = {}
    end

    def client(settings)
      token = settings.fetch("token", @token)
      headers = settings.fetch("headers", {})
      client = @clients[[token, headers]] ||= Cyme::Client.new(@url, token: token, headers: headers)
      options = {}
      options[:max_retries] = settings["max_retries"] if settings.key?("max_retries")
      options[:timeout] = options[:open_timeout] = settings["timeout"].to_f if settings.key?("timeout")
      options.empty? ? client : client.with_options(**options)
    end

    def call(call)
      entry = OPS.fetch(call.op) { raise Contract::ScenarioError, "no SDK call for #{call.op} in the Ruby table" }
      args = Args.new(call.op, call.args)
      client = client(call.client)
      value = client.with_headers(call.headers) { entry.call(Sdk.new(client, call.idempotency_key), args) }
      value = value.wait(timeout: call.wait) if call.wait # a nowait change, or a task: what it comes to
      args.check_all_used
      Contract::Outcome.new(result: RubyOps.plain(value))
    rescue Cyme::APIError => e
      args&.check_all_used
      Contract::Outcome.new(failure: RubyOps.failure(e))
    end

    def close
      @clients.each_value(&:close)
    end
  end
end
