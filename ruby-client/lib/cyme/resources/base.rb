# frozen_string_literal: true

module Cyme
  # The API's nouns, one class each; reached from a Client, an App or an
  # Instance (`cyme.apps`, `app.instances`, `instance.consumers`). Each
  # method is one operation of Cyme::ROUTES, performed by Client#call.
  module Resources
    # What every resource shares: the client whose #call performs its operations.
    class Base
      # @param client [Cyme::Client]
      def initialize(client)
        @client = client
      end

      # @return [String]
      def inspect
        "#<#{self.class.name} #{@client.base_url}>"
      end
    end
  end
end
