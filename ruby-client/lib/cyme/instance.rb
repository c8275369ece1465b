# frozen_string_literal: true

module Cyme
  # A worker instance: the Instance schema's fields, its autoscale bounds,
  # stats and consumers.
  #
  #   instance = app.instances.add
  #   instance.autoscale(min: 4, max: 10)
  #   instance.stats["pool"]["processes"]
  class Instance < Models::Instance
    # @param client [Cyme::Client]
    # @param data [Hash] the Instance as the branch sent it
    # @return [Cyme::Instance]
    def self.from_wire(client, data)
      instance = from_h(data)
      instance.__send__(:attach, client)
      instance
    end

    # Reads the pool bounds when called without bounds (getAutoscale); sets
    # the bounds given otherwise (putAutoscale), a bound left out keeping its
    # value.
    #
    # @param min [Integer, nil] keep at least this many pool processes
    # @param max [Integer, nil] grow with demand, never beyond this
    # @param nowait [Boolean] answer at once with a Scheduled
    # @return [Cyme::Models::Autoscale, Cyme::Models::Scheduled]
    # @example
    #   instance.autoscale(min: 4, max: 10)  # == {max: 10, min: 4}
    def autoscale(min: nil, max: nil, nowait: false)
      return @client.call("getAutoscale", app:, instance: name) if min.nil? && max.nil? && !nowait

      @client.call("putAutoscale", app:, instance: name, min:, max:, nowait:)
    end

    # @return [Cyme::Models::Stats] what the worker reports (Celery's `inspect stats`)
    def stats = @client.call("getInstanceStats", app:, instance: name)

    # @return [Cyme::Resources::Consumers] the queues the instance consumes from
    def consumers = Resources::Consumers.new(@client, app, name)

    # Stops and deletes the instance.
    #
    # @param nowait [Boolean]
    # @return [Cyme::Instance, Cyme::Models::Scheduled]
    def delete(nowait: false) = @client.call("deleteInstance", app:, instance: name, nowait:)

    # @return [String] the instance's URL
    def url = "#{@client.base_url}#{Transport.path(app, 'instances', name)}"

    # @return [String] "#<Cyme::Instance http://localhost:8000/pycon/instances/NAME>"
    def inspect = "#<#{self.class.name} #{url}>"

    private

    def attach(client)
      @client = client
    end
  end
end
