# frozen_string_literal: true

module Cyme
  module Resources
    # The branch itself and its neighbours (`cyme.branches`, `cyme.ping`...).
    class Branches < Base
      # @return [Array<String>] this branch's id first, then its neighbours'
      def all_names = fetch(path("branches"))

      # @param id [String] a branch id from #all_names
      # @return [Cyme::Models::Branch]
      def get_branch(id) = Models::Branch.from_h(fetch(path("branches", id)))

      # @return [String] "pong": the branch answers (needs no token). The
      #   answer's `ok` field, as the Python SDK's `ping()` returns it.
      def ping = fetch(path("ping")).fetch("ok")

      # @return [String] the branch's openapi.yaml
      def spec = fetch(path("openapi.yaml"))

      # @return [String] the HTML reference page
      def docs = fetch(path("docs"))
    end
  end
end
