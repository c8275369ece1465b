# frozen_string_literal: true

module Cyme
  module Resources
    # The apps of a branch: `cyme.apps`, and `cyme.add`, `cyme.get`... for short.
    class Apps < Base
      # Creates the app, or updates the fields given (PUT /{app}).
      #
      # @param name [String]
      # @param broker [String, nil] the broker URL; its password never comes back
      # @param arguments [String, nil] extra `celery worker` arguments
      # @param extra_config [Hash, nil] Celery settings for the instances
      # @return [Cyme::App]
      # @example
      #   app = cyme.apps.add("pycon", broker: "amqp://", arguments: "--workdir=/opt/play/proj")
      def add(name, broker: nil, arguments: nil, extra_config: nil)
        body = fields(broker:, arguments:, extra_config:)
        App.from_wire(@client, transport.request("PUT", path(name), body:).body)
      end

      # @param name [String]
      # @return [Cyme::App]
      # @raise [Cyme::NotFoundError] when there is no such app
      def get(name) = App.from_wire(@client, fetch(path(name)))

      # @return [Array<Cyme::App>] every app, fetched one by one
      def all = all_names.map { |name| get(name) }

      # @return [Array<String>]
      def all_names = transport.request("GET", "/").body

      # Deletes the app with its instances and queues.
      #
      # @param name [String]
      # @return [Cyme::App] the app that was deleted
      def delete(name) = App.from_wire(@client, transport.request("DELETE", path(name)).body)
    end
  end
end
