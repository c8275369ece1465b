# frozen_string_literal: true

module Cyme
  # A read with `scope=cluster` (Cluster#apps): one part per member.
  #
  #   listed = cyme.cluster.apps
  #   listed.by_branch     # => {"9bcdb936-..." => ["pycon"], ...}
  #   listed.unreachable   # the members that did not answer
  class ClusterList < Models::ClusterList
    include Cluster::Parts

    # @param _client [Cyme::Client] unused: a list needs no client
    # @param data [Hash]
    # @return [Cyme::ClusterList]
    def self.from_wire(_client, data) = from_h(data)

    # @return [Hash{String => Array}] the items of each member that answered, by branch id
    def by_branch = ok.to_h { |part| [part.branch, part.items || []] }
  end

  # An app or a queue declared or deleted with `scope=cluster`: the
  # declaration, and one part per member saying how it took it.
  class ClusterChange < Models::ClusterChange
    include Cluster::Parts

    # @param _client [Cyme::Client] unused
    # @param data [Hash]
    # @return [Cyme::ClusterChange]
    def self.from_wire(_client, data) = from_h(data)
  end
end
