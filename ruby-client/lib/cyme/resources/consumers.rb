# frozen_string_literal: true

module Cyme
  module Resources
    # The queues an instance consumes from: `instance.consumers`.
    class Consumers < Base
      # @param client [Cyme::Client]
      # @param app [String] the app's name
      # @param instance [String] the instance's name
      def initialize(client, app, instance)
        super(client)
        @app = app
        @instance = instance
      end

      # Starts consuming from a queue declared in the app (putConsumer).
      #
      # @param queue [String]
      # @param nowait [Boolean]
      # @return [Cyme::Models::Consumer, Cyme::Scheduled]
      def add(queue, nowait: false) = @client.call("putConsumer", app: @app, instance: @instance, queue:, nowait:)

      # Stops consuming from a queue.
      #
      # @param queue [String]
      # @param nowait [Boolean]
      # @return [Cyme::Models::Consumer, Cyme::Scheduled] the consumer that was cancelled
      # @raise [Cyme::ConflictError] for the instance's private queue `dq.<name>`
      def delete(queue, nowait: false)
        @client.call("deleteConsumer", app: @app, instance: @instance, queue:, nowait:)
      end

      # @return [Array<Cyme::Models::Consumer>] including the private queue `dq.<name>`
      def all = @client.call("listConsumers", app: @app, instance: @instance)
    end
  end
end
