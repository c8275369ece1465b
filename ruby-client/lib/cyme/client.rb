# frozen_string_literal: true

module Cyme
  # A client of one branch. It keeps one connection open, which threads may
  # share.
  #
  #   cyme = Cyme::Client.new("http://localhost:8000")
  #   cyme.branches                     # => ["9bcdb936-..."]
  #   app = cyme.add("pycon", broker: "amqp://")
  class Client
    # @return [String] the branch's URL, e.g. "http://localhost:8000"
    attr_reader :base_url
    # @return [Cyme::Resources::Apps]
    attr_reader :apps
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
    def initialize(base_url = ENV.fetch("CYME_URL", DEFAULT_BASE_URL), token: ENV.fetch("CYME_TOKEN", nil),
                   timeout: DEFAULT_TIMEOUT, open_timeout: DEFAULT_OPEN_TIMEOUT,
                   max_retries: DEFAULT_MAX_RETRIES, logger: nil, headers: {})
      @transport = Transport.new(base_url, token:, timeout:, open_timeout:,
                                           max_retries:, logger: logger || default_logger,
                                           headers:)
      @base_url = @transport.base_uri.to_s
      @apps = Resources::Apps.new(self)
      @branches = Resources::Branches.new(self)
    end

    # @return [Array<String>] this branch's id, then its neighbours'
    def branches = @branches.all_names

    # @param id [String]
    # @return [Cyme::Models::Branch] the branch's settings (a neighbour's are fetched through this one)
    def get_branch(id) = @branches.get_branch(id)

    # @return [String] "pong"
    def ping = @branches.ping

    # @return [String] the branch's API description (openapi.yaml)
    def spec = @branches.spec

    # @return [String] the branch's API reference page (HTML)
    def docs = @branches.docs

    # Creates an app, or updates it (see Resources::Apps#add).
    #
    # @param name [String]
    # @param broker [String, nil]
    # @param arguments [String, nil]
    # @param extra_config [Hash, nil]
    # @return [Cyme::App]
    def add(name, broker: nil, arguments: nil, extra_config: nil)
      apps.add(name, broker:, arguments:, extra_config:)
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

    # Sends extra headers with the requests this thread makes in the block.
    #
    # @param headers [Hash{String => String}]
    # @return [Object] the block's value
    # @example Make the next request fail once (a branch with --allow-fault-injection)
    #   cyme.with_headers("Cyme-Fault" => "status=503") { cyme.all_names }
    def with_headers(headers, &) = transport.with_headers(headers, &)

    # Closes the connection; the next call opens another.
    #
    # @return [void]
    def close = transport.close

    # @return [String] never shows the token
    def inspect = "#<#{self.class.name} #{base_url}>"

    private

    def default_logger
      return nil unless ENV["CYME_LOG"] == "debug"

      logger = Logger.new($stderr)
      logger.level = Logger::DEBUG
      logger
    end
  end
end
