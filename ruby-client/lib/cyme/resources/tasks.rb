# frozen_string_literal: true

module Cyme
  module Resources
    # The Celery tasks of an app: `app.tasks`, sent on its broker and
    # followed in its result backend.
    class Tasks < Base
      # @param client [Cyme::Client]
      # @param app [String] the app's name
      def initialize(client, app)
        super(client)
        @app = app
      end

      # Sends the task `task` (its name) on the app's broker (sendTask), as
      # Celery's send_task does; it is PENDING. (Object#send stays reachable
      # as #__send__ and #public_send.)
      #
      # @param task [String] the task's name, such as "proj.tasks.add"
      # @param args [Array, nil] its positional arguments
      # @param kwargs [Hash, nil] its keyword arguments
      # @param queue [String, nil] "celery" by default
      # @param routing_key [String, nil]
      # @param countdown [Numeric, nil] seconds before it may run
      # @param eta [Time, String, nil] when it may run, at the earliest
      # @param expires [Numeric, Time, String, nil] when it expires if it has not run
      # @param priority [Integer, nil] 0 to 255
      # @param idempotency_key [String, nil] sent as Idempotency-Key on every
      #   attempt of this call (a new UUID when nil): the same key in a later
      #   call gets the first call's task again, and sends nothing
      # @return [Cyme::Task]
      # @example
      #   app.tasks.send("proj.tasks.add", args: [2, 3]).wait(timeout: 10)  # => 5
      def send(task, args: nil, kwargs: nil, queue: nil, routing_key: nil, countdown: nil, eta: nil, expires: nil,
               priority: nil, idempotency_key: nil)
        sent = @client.call("sendTask", app: @app, task:, args:, kwargs:, queue:, routing_key:, countdown:,
                                        eta: moment(eta), expires: moment(expires), priority:, idempotency_key:)
        Task.from_wire(@client, @app, sent.to_h)
      end

      # The task `id` as the app's result backend has it (getTask): an id it
      # does not know is PENDING.
      #
      # @param id [String]
      # @param wait [Numeric, nil] seconds (20 at most) to hold the answer until the task is done
      # @param traceback [Boolean] add the traceback of a task that failed
      # @return [Cyme::Task]
      # @raise [Cyme::ConflictError] when the app has no result backend
      def get(id, wait: nil, traceback: false)
        Task.from_wire(@client, @app, @client.call("getTask", app: @app, task: id, wait:, traceback:).to_h)
      end

      private

      # A time as the branch reads it: ISO 8601 for a Time.
      def moment(value) = value.respond_to?(:iso8601) ? value.iso8601(6) : value
    end
  end
end
