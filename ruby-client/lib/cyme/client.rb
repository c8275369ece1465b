# frozen_string_literal: true

module Cyme
  # A client of one branch. Threads may share it, and so may the clients
  # made from it by #with_options: each request takes a kept-alive
  # connection of its own from the client's pool (see ConnectionPool), so
  # that threads never wait for each other.
  #
  #   cyme = Cyme::Client.new("http://localhost:8000")
  #   cyme.branches                     # => ["9bcdb936-..."]
  #   app = cyme.add("pycon", broker: "amqp://")
  #   cyme.with_options(timeout: 2.0, max_retries: 0).ping
  class Client
    # @return [String] the branch's URL, e.g. "http://localhost:8000"
    attr_reader :base_url
    # @return [Cyme::Resources::Apps]
    attr_reader :apps
    # @return [Cyme::Cluster] the cluster the branch is a member of
    attr_reader :cluster
    # @return [Cyme::Transport]
    attr_reader :transport

    # @param base_url [String] the branch; "http://:8000" means localhost.
    #   Defaults to ENV["CYME_URL"], else http://localhost:8000
    # @param token [String, nil] the branch's token; defaults to ENV["CYME_TOKEN"]
    # @param timeout [Float] seconds to wait for a response, per attempt
    # @param open_timeout [Float] seconds to wait for a connection
    # @param max_retries [Integer] retries of a failed request (see Transport#should_retry?)
    # @param logger [Logger, nil] logs each request at debug level; with
    #   ENV["CYME_LOG"] == "debug" and no logger, logs to stderr
    # @param headers [Hash{String => String}] sent with every request
    # @param verify [Boolean] for an https branch, whether to verify its
    #   certificate; false only for tests (see ConnectionPool#initialize)
    # @param ca_file [String, nil] for an https branch, the PEM file of the
    #   CAs to verify it with, instead of the system's
    def initialize(base_url = ENV.fetch("CYME_URL", DEFAULT_BASE_URL), token: ENV.fetch("CYME_TOKEN", nil),
                   timeout: DEFAULT_TIMEOUT, open_timeout: DEFAULT_OPEN_TIMEOUT,
                   max_retries: DEFAULT_MAX_RETRIES, logger: nil, headers: {}, verify: true, ca_file: nil)
      attach(Transport.new(base_url, token:, timeout:, open_timeout:, max_retries:,
                                     logger: logger || default_logger, headers:, verify:, ca_file:))
    end

    # This client with other defaults: a new client with the same URL,
    # token, headers, logger and TLS settings; a setting left nil keeps its value, and this
    # client is left unchanged. Safe to call from any thread.
    #
    # The new client shares this one's connections, as the Python SDK's
    # `with_options` shares its connection pool: it costs no TCP connection
    # and needs no #close, so that `cyme.with_options(...)` suits a single
    # call. Every request sets its own timeouts on the connection it takes
    # from the pool. #close on either closes the shared connections, which
    # the next request reopens; a #with_headers block of either reaches the
    # requests of both.
    #
    # @param timeout [Float, nil] seconds to wait for a response, per attempt
    # @param open_timeout [Float, nil] seconds to wait for a connection
    # @param max_retries [Integer, nil] retries of a failed request; 0 for none
    # @return [Cyme::Client]
    # @example One call that may take a minute and is not retried
    #   cyme.with_options(timeout: 60.0, max_retries: 0).add("pycon", broker: "amqp://")
    def with_options(timeout: nil, open_timeout: nil, max_retries: nil)
      client = self.class.allocate
      client.__send__(:attach, transport.with_options(timeout:, open_timeout:, max_retries:))
      client
    end

    # @return [Float] seconds to wait for a response, per attempt
    def timeout = transport.timeout

    # @return [Float] seconds to wait for a connection
    def open_timeout = transport.open_timeout

    # @return [Integer] retries of a failed request
    def max_retries = transport.max_retries

    # Performs any operation of openapi.yaml by its operationId, with its
    # path parameters, query parameters (such as `nowait: true`) and body
    # fields as keywords, by the spec's names; a header parameter is a
    # keyword in snake case (`idempotency_key:`). Cyme::ROUTES lists the
    # operations, and sig/cyme/routes.rbs types each one. Every method of
    # the SDK is one of these calls.
    #
    # @param operation_id [String] an operationId, such as "getInstance"
    # @param args [Hash{Symbol => Object}] nil leaves a value out
    # @return [Object] the answer, as the SDK's methods return it: a model
    #   (Cyme::App and Cyme::Instance for apps and instances), a list of
    #   models, a JSON value or text; a Cyme::Scheduled (to #wait on) when the
    #   branch accepted a change for later (`nowait: true`)
    # @raise [ArgumentError] for an unknown operationId, an unknown keyword
    #   or a path parameter left out, naming them
    # @example
    #   cyme.call("getInstance", app: "pycon", instance: "w1")                # => #<Cyme::Instance ...>
    #   cyme.call("putAutoscale", app: "pycon", instance: "w1", max: 10, nowait: true)
    def call(operation_id, **args) = @requestor.call(operation_id, args)

    # @return [Array<String>] this branch's id, then the members of its
    #   cluster and its neighbours'
    def branches = call("listBranches")

    # @param id [String]
    # @return [Cyme::Branch] the branch's settings and state (a member's or a
    #   neighbour's are fetched through this one); Branch#connect gives a client of it
    def get_branch(id) = call("getBranch", branch: id)

    # @return [String] "pong": the branch answers (needs no token). The
    #   answer's `ok` field, as the Python SDK's `ping()` returns it.
    def ping = call("ping").ok

    # @return [String] the branch's API description (openapi.yaml)
    def spec = call("getOpenAPI")

    # @return [String] the branch's API reference page (HTML)
    def docs = call("getDocs")

    # @return [String] the branch's admin page (HTML; needs no token)
    def ui = call("getUI")

    # @param id [String] the `id` of a Scheduled answer
    # @return [Cyme::Models::Operation] where a change asked for with nowait stands
    def get_operation(id) = call("getOperation", operation: id)

    # @return [String] the branch's metrics, in Prometheus' text format
    def metrics = call("getMetrics")

    # Creates an app, or updates it (see Resources::Apps#add).
    #
    # @param name [String]
    # @param broker [String, nil]
    # @param arguments [String, nil]
    # @param extra_config [Hash, nil]
    # @param backend [String, nil] the Celery result backend its tasks are followed in
    # @return [Cyme::App]
    def add(name, broker: nil, arguments: nil, extra_config: nil, backend: nil)
      apps.add(name, broker:, arguments:, extra_config:, backend:)
    end

    # @param name [String]
    # @return [Cyme::App]
    def get(name) = apps.get(name)

    # @return [Array<Cyme::App>]
    def all = apps.all

    # @return [Array<String>]
    def all_names = apps.all_names

    # @param name [String]
    # @return [Cyme::App] the app that was deleted
    def delete(name) = apps.delete(name)

    # Sends extra headers with the requests this thread makes in the block,
    # through this client or one sharing its connections (#with_options).
    #
    # @param headers [Hash{String => String}]
    # @return [Object] the block's value
    # @example Make the next request fail once (a branch with --allow-fault-injection)
    #   cyme.with_headers("Cyme-Fault" => "status=503") { cyme.all_names }
    def with_headers(headers, &) = transport.with_headers(headers, &)

    # The block's value with the last HTTP response this thread received in
    # the block, through this client or one sharing its connections
    # (#with_options): its status, headers, X-Request-Id, method and URL.
    # Other threads sharing the client are unaffected. An error raised in
    # the block propagates as it is (Cyme::APIStatusError has the status,
    # headers and request id too).
    #
    # @return [Cyme::RawResponse]
    # @raise [Cyme::Error] when the block received no HTTP response
    # @example
    #   raw = cyme.with_raw_response { cyme.apps.get("pycon") }
    #   [raw.status, raw.request_id, raw.data.name]  # => [200, "5f0c...", "pycon"]
    def with_raw_response(&) = transport.with_raw_response(&)

    # Closes the connections, every thread's, shared with the clients made
    # by #with_options: the idle ones now, the busy ones as their responses
    # arrive. The next call opens another. Safe to call from any thread.
    #
    # @return [void]
    def close = transport.close

    # @return [String] never shows the token
    def inspect = "#<#{self.class.name} #{base_url}>"

    private

    def attach(transport)
      @transport = transport
      @base_url = transport.base_uri.to_s
      @apps = Resources::Apps.new(self)
      @cluster = Cluster.new(self)
      @requestor = Requestor.new(self)
    end

    def default_logger
      return nil unless ENV["CYME_LOG"] == "debug"

      require "logger" # only for CYME_LOG=debug: a given logger has loaded it
      logger = Logger.new($stderr)
      logger.level = Logger::DEBUG
      logger
    end
  end
end
