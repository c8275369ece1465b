# frozen_string_literal: true

module Cyme
  module Resources
    # The instances of an app: `app.instances`.
    class Instances < Base
      # @param client [Cyme::Client]
      # @param app [String] the app's name
      def initialize(client, app)
        super(client)
        @app = app
      end

      # Creates and starts an instance (POST). Settings default to the app's.
      #
      # @param name [String, nil] the instance's name; the branch picks a UUID when nil
      # @param broker [String, nil]
      # @param pool [String, nil] "prefork", "threads", "solo", "eventlet" or "gevent"
      # @param arguments [String, nil] added after the app's
      # @param extra_config [Hash, nil] merged over the app's
      # @param nowait [Boolean] answer at once with a Scheduled
      # @param idempotency_key [String, nil] sent as Idempotency-Key on every
      #   attempt of this call (a new UUID when nil): the same key in a later
      #   call gets the first call's answer instead of a second instance
      # @return [Cyme::Instance, Cyme::Models::Scheduled]
      # @raise [Cyme::ConflictError] when the name is taken
      # @raise [Cyme::UnprocessableEntityError] when the key was used for another request
      # @example
      #   instance = app.instances.add
      def add(name = nil, broker: nil, pool: nil, arguments: nil, extra_config: nil, nowait: false,
              idempotency_key: nil)
        target = name.nil? ? path(@app, "instances") : path(@app, "instances", name)
        body = fields(broker:, pool:, arguments:, extra_config:)
        change("POST", target, body:, nowait:, idempotency_key:) { |data| Instance.from_wire(@client, data) }
      end

      # @param name [String]
      # @return [Cyme::Instance]
      def get(name) = Instance.from_wire(@client, fetch(path(@app, "instances", name)))

      # @return [Array<Cyme::Instance>] every instance, fetched one by one
      def all = all_names.map { |name| get(name) }

      # @return [Array<String>]
      def all_names = transport.request("GET", path(@app, "instances")).body

      # Stops and deletes an instance.
      #
      # @param name [String]
      # @param nowait [Boolean]
      # @return [Cyme::Instance, Cyme::Models::Scheduled] the instance that was deleted
      def delete(name, nowait: false)
        change("DELETE", path(@app, "instances", name), nowait:) { |data| Instance.from_wire(@client, data) }
      end
    end
  end
end
