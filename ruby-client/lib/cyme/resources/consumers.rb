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

      # Starts consuming from a queue declared in the app (PUT).
      #
      # @param queue [String]
      # @param nowait [Boolean]
      # @return [Cyme::Models::Consumer, Cyme::Models::Scheduled]
      def add(queue, nowait: false)
        change("PUT", consumer_path(queue), nowait:) { |data| Models::Consumer.from_h(data) }
      end

      # Stops consuming from a queue.
      #
      # @param queue [String]
      # @param nowait [Boolean]
      # @return [Cyme::Models::Consumer, Cyme::Models::Scheduled] the consumer that was cancelled
      # @raise [Cyme::ConflictError] for the instance's private queue `dq.<name>`
      def delete(queue, nowait: false)
        change("DELETE", consumer_path(queue), nowait:) { |data| Models::Consumer.from_h(data) }
      end

      # @return [Array<Cyme::Models::Consumer>] including the private queue `dq.<name>`
      def all
        fetch(path(@app, "instances", @instance, "queues")).map { |data| Models::Consumer.from_h(data) }
      end

      private

      def consumer_path(queue) = path(@app, "instances", @instance, "queues", queue)
    end
  end
end
