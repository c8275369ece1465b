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

      # Creates and starts an instance (createInstance, or
      # createNamedInstance with a name). Settings default to the app's.
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
      # @return [Cyme::Instance, Cyme::Scheduled]
      # @raise [Cyme::ConflictError] when the name is taken
      # @raise [Cyme::UnprocessableEntityError] when the key was used for another request
      # @example
      #   instance = app.instances.add
      def add(name = nil, broker: nil, pool: nil, arguments: nil, extra_config: nil, nowait: false,
              idempotency_key: nil)
        fields = { broker:, pool:, arguments:, extra_config:, nowait:, idempotency_key: }
        return @client.call("createInstance", app: @app, **fields) if name.nil?

        @client.call("createNamedInstance", app: @app, instance: name, **fields)
      end

      # @param name [String]
      # @return [Cyme::Instance]
      def get(name) = @client.call("getInstance", app: @app, instance: name)

      # @return [Array<Cyme::Instance>] every instance, with what its worker is
      #   doing, in one request (listInstances with details)
      def all = @client.call("listInstances", app: @app, details: true)

      # @return [Array<String>]
      def all_names = @client.call("listInstances", app: @app)

      # Stops and deletes an instance.
      #
      # @param name [String]
      # @param nowait [Boolean]
      # @return [Cyme::Instance, Cyme::Scheduled] the instance that was deleted
      def delete(name, nowait: false) = @client.call("deleteInstance", app: @app, instance: name, nowait:)
    end
  end
end
