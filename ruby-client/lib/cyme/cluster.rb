# frozen_string_literal: true

module Cyme
  # The cluster the branch is a member of: `cyme.cluster`. Each method is
  # an operation of this branch with `scope=cluster` (openapi.yaml,
  # "Cluster"): the branch asks its members and answers for all of them.
  # A member's own client comes from Branch#connect or Placement#connect.
  class Cluster < Resources::Base
    CLUSTER = "cluster"

    # @return [Cyme::ClusterList] the app names of every member (listApps)
    # @example
    #   cyme.cluster.apps.by_branch   # => {branch id => [app names]}
    def apps = @client.call("listApps", scope: CLUSTER)

    # @param app [String]
    # @param details [Boolean] the instances rather than their names
    # @return [Cyme::ClusterList] the app's instances on every member (listInstances)
    def instances(app, details: false) = @client.call("listInstances", app:, details:, scope: CLUSTER)

    # @param app [String]
    # @param details [Boolean] the queues rather than their names
    # @return [Cyme::ClusterList] the app's queues on every member (listQueues)
    def queues(app, details: false) = @client.call("listQueues", app:, details:, scope: CLUSTER)

    # Declares the app on every member, now and joining later (putApp).
    #
    # @param app [String]
    # @param broker [String, nil]
    # @param arguments [String, nil]
    # @param extra_config [Hash, nil]
    # @param backend [String, nil]
    # @return [Cyme::ClusterChange] the declaration, and how each member took it
    def add(app, broker: nil, arguments: nil, extra_config: nil, backend: nil)
      @client.call("putApp", app:, scope: CLUSTER, broker:, arguments:, extra_config:, backend:)
    end

    # Deletes the app, its instances and queues on every member (deleteApp).
    #
    # @param app [String]
    # @return [Cyme::ClusterChange]
    def delete(app) = @client.call("deleteApp", app:, scope: CLUSTER)

    # Declares the app's queue on every member (putQueue).
    #
    # @param app [String]
    # @param queue [String]
    # @param exchange [String, nil]
    # @param exchange_type [String, nil]
    # @param routing_key [String, nil]
    # @param options [Hash, nil] kombu options
    # @return [Cyme::ClusterChange]
    def add_queue(app, queue, exchange: nil, exchange_type: nil, routing_key: nil, options: nil)
      @client.call("putQueue", app:, queue:, scope: CLUSTER, exchange:, exchange_type:, routing_key:, options:)
    end

    # Deletes the app's queue on every member (deleteQueue).
    #
    # @param app [String]
    # @param queue [String]
    # @return [Cyme::ClusterChange]
    def delete_queue(app, queue) = @client.call("deleteQueue", app:, queue:, scope: CLUSTER)

    # Creates an instance of the app on the member `branch`, or on the
    # least-loaded one (createInstance); retried with the same
    # Idempotency-Key, it places one instance.
    #
    # @param app [String]
    # @param branch [String, nil] the member's id; nil lets the cluster pick
    # @param broker [String, nil]
    # @param pool [String, nil]
    # @param arguments [String, nil]
    # @param extra_config [Hash, nil]
    # @param idempotency_key [String, nil] as Resources::Instances#add's
    # @return [Cyme::Placement] the instance, the member that took it and its url
    # @example
    #   placement = cyme.cluster.add_instance("pycon")
    #   [placement.branch, placement.url, placement.instance["name"]]
    def add_instance(app, branch: nil, broker: nil, pool: nil, arguments: nil, extra_config: nil,
                     idempotency_key: nil)
      @client.call("createInstance", app:, scope: CLUSTER, branch:, broker:, pool:, arguments:, extra_config:,
                                     idempotency_key:)
    end

    # @param since [Numeric, nil] only the declarations with a higher version
    # @return [Cyme::Models::DeclarationList] the cluster declarations this
    #   branch holds, oldest first, and their digest (listDeclarations)
    def declarations(since: nil) = @client.call("listDeclarations", since:)

    # Applies declarations as members push them to each other
    # (applyDeclarations). Listed ones have their passwords masked.
    #
    # @param declarations [Array<Hash, Cyme::Models::Declaration>]
    # @return [Cyme::Models::DeclarationsApplied]
    def apply(declarations)
      @client.call("applyDeclarations", declarations: declarations.map { |item| item.to_h.transform_keys(&:to_s) })
    end

    # @param client [Cyme::Client]
    # @param url [String]
    # @param options [Hash{Symbol => Object}]
    # @return [Cyme::Client] a client of url with client's settings, options changed
    def self.connect(client, url, options)
      connected = Client.allocate
      connected.__send__(:attach, client.transport.for_url(url, **options))
      connected
    end

    # Models::ClusterList and Models::ClusterChange with their parts as
    # models, Enumerable over them (`change.map(&:state)`).
    module Parts
      include Enumerable

      # @yieldparam part [Cyme::Models::ClusterPart]
      # @return [Enumerator, self] an Enumerator of the parts without a block
      def each(&)
        return enum_for(:each) unless block_given?

        parts.each(&)
        self
      end

      # @return [Array<Cyme::Models::ClusterPart>] the parts of the members that answered
      def ok = parts.select { |part| part.state == "ok" }

      # @return [Array<Cyme::Models::ClusterPart>] the parts of the members that
      #   could not be reached, or did not answer in time
      def unreachable = parts.select { |part| part.state == "unreachable" }

      # @return [Array<Cyme::Models::ClusterPart>] the parts of the members that
      #   answered with an error (status, detail)
      def errors = parts.select { |part| part.state == "error" }

      # @return [Hash{Symbol => Object}] the model's properties, as every model's
      #   (Enumerable's would be the parts')
      def to_h = Models::Base.instance_method(:to_h).bind_call(self)

      private

      def parts
        @parts ||= branches.map { |part| Models::ClusterPart.from_h(part) }.freeze
      end
    end
  end
end
