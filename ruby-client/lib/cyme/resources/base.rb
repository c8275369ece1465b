# frozen_string_literal: true

module Cyme
  # The API's nouns, one class each; reached from a Client, an App or an
  # Instance (`cyme.apps`, `app.instances`, `instance.consumers`).
  module Resources
    # What every resource shares: the client's transport, and the two shapes
    # of answer of a change made with `nowait: true`.
    class Base
      # @param client [Cyme::Client]
      def initialize(client)
        @client = client
      end

      # @return [String]
      def inspect
        "#<#{self.class.name} #{@client.base_url}>"
      end

      private

      def transport = @client.transport

      def path(*segments) = Transport.path(*segments)

      def fetch(path) = transport.request("GET", path).body

      def query(nowait) = nowait ? { "nowait" => "true" } : nil

      # A change's answer: the model, or a Scheduled when the branch only
      # accepted it (202, for `nowait: true`).
      def change(method, path, body: nil, nowait: false, idempotency_key: nil)
        response = transport.request(method, path, body:, query: query(nowait), idempotency_key:)
        response.status == 202 ? Models::Scheduled.from_h(response.body) : yield(response.body)
      end

      # The fields given, for a JSON body: nil means "leave as it is".
      def fields(**values) = values.compact.transform_keys(&:to_s)
    end
  end
end
