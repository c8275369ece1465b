# frozen_string_literal: true

module Cyme
  module Resources
    # The apps of a branch: `cyme.apps`, and `cyme.add`, `cyme.get`... for short.
    class Apps < Base
      # Creates the app, or updates the fields given (putApp).
      #
      # @param name [String]
      # @param broker [String, nil] the broker URL; its password never comes back
      # @param arguments [String, nil] extra `celery worker` arguments
      # @param extra_config [Hash, nil] Celery settings for the instances
      # @param backend [String, nil] the Celery result backend its tasks are
      #   followed in; its password never comes back either
      # @return [Cyme::App]
      # @example
      #   app = cyme.apps.add("pycon", broker: "amqp://", arguments: "--workdir=/opt/play/proj")
      def add(name, broker: nil, arguments: nil, extra_config: nil, backend: nil)
        @client.call("putApp", app: name, broker:, arguments:, extra_config:, backend:)
      end

      # @param name [String]
      # @return [Cyme::App]
      # @raise [Cyme::NotFoundError] when there is no such app
      def get(name) = @client.call("getApp", app: name)

      # @return [Array<Cyme::App>] every app, fetched one by one
      def all = all_names.map { |name| get(name) }

      # @return [Array<String>]
      def all_names = @client.call("listApps")

      # Deletes the app with its instances and queues.
      #
      # @param name [String]
      # @return [Cyme::App] the app that was deleted
      def delete(name) = @client.call("deleteApp", app: name)
    end
  end
end
