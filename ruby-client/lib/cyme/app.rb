# frozen_string_literal: true

module Cyme
  # An app of a branch: the App schema's fields (name, broker, arguments,
  # extra_config), and its instances and queues.
  #
  #   app = cyme.add("pycon", broker: "amqp://")
  #   app.instances.add
  #   app.queues.add("celery")
  class App < Models::App
    # @param client [Cyme::Client]
    # @param data [Hash] the App as the branch sent it
    # @return [Cyme::App]
    def self.from_wire(client, data)
      app = from_h(data)
      app.__send__(:attach, client)
      app
    end

    # @return [Cyme::Resources::Instances] the app's worker instances
    def instances = Resources::Instances.new(@client, name)

    # @return [Cyme::Resources::Queues] the app's queue declarations
    def queues = Resources::Queues.new(@client, name)

    # @return [Cyme::Resources::Tasks] the app's Celery tasks:
    #   `app.tasks.send("proj.tasks.add", args: [2, 3])`
    def tasks = Resources::Tasks.new(@client, name)

    # Deletes the app with all its instances and queues.
    #
    # @return [Cyme::App] the app as it was
    def delete = @client.call("deleteApp", app: name)

    # A rolling restart (restartApp): each instance in turn, the next once
    # the previous one's new worker answers a ping. A roll of many real
    # workers takes a while: ask with `nowait: true` and #wait on the answer.
    #
    # @param nowait [Boolean]
    # @return [Cyme::Models::RollingRestart, Cyme::Scheduled] what was done to each instance
    def restart(nowait: false) = @client.call("restartApp", app: name, nowait:)

    # @return [String] the app's URL, e.g. "http://localhost:8000/pycon"
    def url = "#{@client.base_url}#{Transport.path(name)}"

    # @return [String] "#<Cyme::App http://localhost:8000/pycon>"
    def inspect = "#<#{self.class.name} #{url}>"

    private

    def attach(client)
      @client = client
    end
  end
end
