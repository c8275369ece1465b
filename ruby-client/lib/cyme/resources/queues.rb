# frozen_string_literal: true

module Cyme
  module Resources
    # The queue declarations of an app: `app.queues`.
    class Queues < Base
      # @param client [Cyme::Client]
      # @param app [String] the app's name
      def initialize(client, app)
        super(client)
        @app = app
      end

      # Declares the queue, or updates the fields given (putQueue).
      #
      # @param name [String]
      # @param exchange [String, nil] defaults to the queue's name
      # @param exchange_type [String, nil] "direct" (default), "topic", "fanout" or "headers"
      # @param routing_key [String, nil] defaults to the queue's name
      # @param options [Hash, nil] kombu options (queue_arguments, durable...)
      # @param nowait [Boolean]
      # @return [Cyme::Models::Queue, Cyme::Scheduled]
      # @example
      #   app.queues.add("celery", exchange: "celery", routing_key: "celery", exchange_type: "direct")
      def add(name, exchange: nil, exchange_type: nil, routing_key: nil, options: nil, nowait: false)
        @client.call("putQueue", app: @app, queue: name, exchange:, exchange_type:, routing_key:, options:, nowait:)
      end

      # @param name [String]
      # @return [Cyme::Models::Queue] with its depth on the app's broker
      #   (messages, consumers), or why it cannot be read (depth_error)
      def get(name) = @client.call("getQueue", app: @app, queue: name)

      # @return [Array<Cyme::Models::Queue>] every queue, with its depth, in one
      #   request (listQueues with details)
      def all = @client.call("listQueues", app: @app, details: true)

      # @return [Array<String>]
      def all_names = @client.call("listQueues", app: @app)

      # Deletes the declaration; instances stop consuming from the queue.
      #
      # @param name [String]
      # @param nowait [Boolean]
      # @return [Cyme::Models::Queue, Cyme::Scheduled] the queue that was deleted
      def delete(name, nowait: false) = @client.call("deleteQueue", app: @app, queue: name, nowait:)
    end
  end
end
