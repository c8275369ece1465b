# frozen_string_literal: true

module Cyme
  # Performs the operations of ROUTES for one client: fills the route's path
  # template (each segment escaped by Transport.escape_segment), puts its
  # query parameters in the query and its body fields in a JSON body, sends
  # the request through the client's Transport, and reads the answer into
  # the route's kind of value. Every resource method and Client#call go
  # through #call.
  class Requestor
    # The kinds of answer bound to the client, so that they reach their own
    # resources (`app.instances`, `instance.autoscale`, `branch.connect`), or
    # with helpers of their own (ClusterList); other schemas are plain Models.
    BOUND = {
      "App" => App, "Instance" => Instance, "Branch" => Branch, "Placement" => Placement,
      "ClusterList" => ClusterList, "ClusterChange" => ClusterChange
    }.freeze
    # A parameter of a path template, such as `{app}`.
    PATH_PARAMETER = /\{(\w+)\}/
    # Each operation's path template cut into its text and its parameters,
    # by operationId: "/{app}/instances" is ["/", :app, "/instances"].
    TEMPLATES = ROUTES.transform_values do |route|
      route.path.split(PATH_PARAMETER).each_with_index.map { |part, i| i.odd? ? part.to_sym : part.freeze }.freeze
    end.freeze
    # A kind of answer that names a schema (`Instance`, `Consumer[]`), not a
    # JSON type (`string[]`) or `text`.
    SCHEMA_KIND = /\A[A-Z]/
    # No query parameters, body fields or headers.
    EMPTY = {}.freeze

    # @param client [Cyme::Client] whose transport sends, and to which App
    #   and Instance answers are bound
    def initialize(client)
      @client = client
    end

    # Performs one operation.
    #
    # @param operation_id [String] a key of ROUTES
    # @param args [Hash{Symbol => Object}] the path parameters, query
    #   parameters and body fields by the spec's names, and the header
    #   parameters in snake case (`idempotency_key`). nil leaves a value out,
    #   and so does false for a query parameter (the spec's flags default to
    #   false).
    # @return [Object] the answer: a model (an App or Instance bound to the
    #   client), a list of models, a JSON value, or text; a Cyme::Scheduled
    #   (bound to the client, to #wait on) when the branch accepted the change
    #   for later (202)
    # @raise [ArgumentError] for an unknown operationId, an unknown keyword or
    #   a path parameter left out
    # @raise [Cyme::APIError] when the request fails (see Transport#request)
    def call(operation_id, args)
      route = ROUTES.fetch(operation_id) { raise ArgumentError, "unknown operationId #{operation_id.inspect}" }
      check(route, args)
      answer(route, request(route, args))
    end

    # @param name [String] a header parameter, such as "Idempotency-Key"
    # @return [Symbol] its keyword, such as :idempotency_key
    def self.header_keyword(name) = name.downcase.tr("-", "_").to_sym

    # The keywords of each operation, by operationId: its path and query
    # parameters, its body fields, and its header parameters in snake case.
    KEYWORDS = ROUTES.transform_values do |route|
      [*route.path_params, *route.query_params, *route.body_fields].map(&:to_sym) +
        route.headers.map { |name| header_keyword(name) }
    end.freeze
    # The path parameters of each operation as keywords, by operationId.
    PATH_KEYWORDS = ROUTES.transform_values { |route| route.path_params.map(&:to_sym).freeze }.freeze
    # Transport#request's options for an operation with no query parameter,
    # body or header parameter (most reads): nothing to build per call.
    NO_OPTIONS = { query: EMPTY, body: nil, headers: Transport::EMPTY_HEADERS, idempotency_key: nil }.freeze

    # @return [String]
    def inspect = "#<#{self.class.name} #{@client.base_url}>"

    # An operation's answer made into what #call returns for it: what
    # Scheduled#wait returns once a change asked for with nowait is done.
    #
    # @param operation_id [String] a key of ROUTES
    # @param data [Object] the answer's body, as parsed JSON
    # @return [Object]
    def result(operation_id, data) = parse(ROUTES.fetch(operation_id).response, data)

    private

    # Lists the wrong keywords only when there are some, as it is every call.
    def check(route, args)
      keywords = KEYWORDS.fetch(route.operation_id)
      if args.any? { |key, _| !keywords.include?(key) }
        raise ArgumentError, "#{route.operation_id}: unknown keywords #{(args.keys - keywords).join(', ')}"
      end
      return unless PATH_KEYWORDS.fetch(route.operation_id).any? { |key| args[key].nil? }

      missing = PATH_KEYWORDS.fetch(route.operation_id).select { |key| args[key].nil? }
      raise ArgumentError, "#{route.operation_id}: missing keywords #{missing.join(', ')}"
    end

    def request(route, args)
      @client.transport.request(route.http_method, path(route, args), **options(route, args))
    end

    def path(route, args) = TEMPLATES.fetch(route.operation_id).map { |part| fill(part, args) }.join

    # A part of a path template: its text, or its parameter's value, escaped.
    def fill(part, args) = part.is_a?(Symbol) ? Transport.escape_segment(args[part].to_s) : part

    # Transport#request's options: the query, the body, and the headers,
    # the Idempotency-Key apart (Transport sends it on every attempt).
    def options(route, args)
      return NO_OPTIONS if route.query_params.empty? && route.body_fields.nil? && route.headers.empty?

      headers = route.headers.to_h { |name| [name, args[self.class.header_keyword(name)]] }.compact
      { query: values(route.query_params, args).reject { |_, value| value == false }, # flags default to false
        body: route.body_fields && values(route.body_fields, args),
        headers: headers.except(Transport::IDEMPOTENCY_KEY), idempotency_key: headers[Transport::IDEMPOTENCY_KEY] }
    end

    # The values given for these names, by name; nil ones left out.
    def values(names, args) = names.empty? ? EMPTY : names.to_h { |name| [name, args[name.to_sym]] }.compact

    # A 202 is a Scheduled for a change asked not to wait; a sent task's 202 is its answer.
    def answer(route, response)
      if response.status == 202 && route.query_params.include?("nowait")
        Scheduled.from_wire(@client, response.body)
      else
        parse(route.response, response.body)
      end
    end

    def parse(kind, data)
      return parse(kind.split("|").find { |choice| fits?(choice, data) } || "object", data) if kind.include?("|")
      return data unless kind.match?(SCHEMA_KIND)
      return data.map { |item| parse(kind.delete_suffix("[]"), item) } if kind.end_with?("[]")

      BOUND[kind]&.from_wire(@client, data) || Models.const_get(kind, false).from_h(data)
    end

    # Whether JSON data has the shape of a kind of answer (`Instance[]`, `string[]`...):
    # how one kind or another (`string[]|Instance[]`) is told apart. An object
    # fits a schema when it has the schema's required keys, so that an App and
    # the ClusterChange of `scope=cluster` (`App|ClusterChange`) differ.
    def fits?(kind, data)
      return data.is_a?(Array) && data.all? { |item| fits?(kind.delete_suffix("[]"), item) } if kind.end_with?("[]")
      return data.is_a?(Hash) && required_keys?(kind, data) if kind.match?(SCHEMA_KIND)

      !data.is_a?(Hash) && !data.is_a?(Array)
    end

    def required_keys?(kind, data) = Models.const_get(kind, false)::REQUIRED.all? { |key| data.key?(key) }
  end
end
