# frozen_string_literal: true

module Cyme
  # A branch of the cluster, as Client#get_branch describes it: its url,
  # state ("alive" or "lost"), last_seen, instances and load; #connect gives
  # a client of it.
  #
  #   member = cyme.get_branch(cyme.branches[1]).connect
  #   member.all_names   # that member's own apps
  class Branch < Models::Branch
    # @param client [Cyme::Client]
    # @param data [Hash] the Branch as the branch sent it
    # @return [Cyme::Branch]
    def self.from_wire(client, data)
      branch = from_h(data)
      branch.__send__(:attach, client)
      branch
    end

    # A client of this branch's url, with the token, timeouts, retries,
    # headers and logger of the client that described it; close it when done.
    #
    # @param options [Hash] Client.new's keywords to change (token:, timeout:...)
    # @return [Cyme::Client]
    def connect(**options) = Cluster.connect(@client, url, options)

    # @return [String] never shows the token
    def inspect = "#<#{self.class.name} #{id} #{url}>"

    private

    def attach(client)
      @client = client
    end
  end

  # An instance created on the cluster (Cluster#add_instance):
  # the instance, the branch that took it and that branch's url.
  #
  #   placement = cyme.cluster.add_instance("pycon")
  #   placement.connect.apps.get("pycon").instances.get(placement.instance["name"])
  class Placement < Models::Placement
    # @param client [Cyme::Client]
    # @param data [Hash] the Placement as the branch sent it
    # @return [Cyme::Placement]
    def self.from_wire(client, data)
      placement = from_h(data)
      placement.__send__(:attach, client)
      placement
    end

    # A client of the branch that took the instance, as Branch#connect.
    #
    # @param options [Hash] Client.new's keywords to change
    # @return [Cyme::Client]
    def connect(**options) = Cluster.connect(@client, url, options)

    # @return [String]
    def inspect = "#<#{self.class.name} #{instance['name']} on #{branch}>"

    private

    def attach(client)
      @client = client
    end
  end
end
