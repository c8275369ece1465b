# frozen_string_literal: true

module Cyme
  # A worker instance: the Instance schema's fields, among them what its
  # worker was doing when it was fetched (state, pid, processes, restarts,
  # last_exit, since); its autoscale bounds, stats and consumers; and the
  # levers #restart, #disable and #enable.
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
    # @return [Cyme::Models::Autoscale, Cyme::Scheduled]
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
    # @return [Cyme::Instance, Cyme::Scheduled]
    def delete(nowait: false) = @client.call("deleteInstance", app:, instance: name, nowait:)

    # A warm restart (restartInstance): the tasks in flight finish, a new
    # worker starts with the same consumers and autoscale bounds.
    #
    # @param nowait [Boolean]
    # @return [Cyme::Instance, Cyme::Scheduled] the instance, with its new worker
    # @raise [Cyme::ConflictError] when it is disabled or failed: enable it
    def restart(nowait: false) = @client.call("restartInstance", app:, instance: name, nowait:)

    # Stops the worker and keeps it stopped, across restarts of the branch,
    # until #enable (disableInstance).
    #
    # @param nowait [Boolean]
    # @return [Cyme::Instance, Cyme::Scheduled] the instance, disabled
    def disable(nowait: false) = @client.call("disableInstance", app:, instance: name, nowait:)

    # Starts the worker of a disabled or failed instance again (enableInstance).
    #
    # @param nowait [Boolean]
    # @return [Cyme::Instance, Cyme::Scheduled] the instance, enabled
    def enable(nowait: false) = @client.call("enableInstance", app:, instance: name, nowait:)

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
